"""Parent workspaces: find the one a new project lands in and add it to `members`.

A workspace root is the nearest `pyproject.toml` above the new project with a
`[tool.kiln.workspace]` or `[tool.uv.workspace]` table. Edits go through tomlkit so
comments and formatting in the root file survive.
"""

from __future__ import annotations

import enum
import fnmatch
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kiln.errors import KilnError

_HINT = "fix the file, or pass `--no-workspace` to leave parent workspaces alone"


class Membership(enum.Enum):
    ALREADY_MEMBER = "member"
    EXCLUDED = "excluded"
    TO_ADD = "add"


@dataclass(frozen=True)
class Workspace:
    root: Path
    tool: str  # `kiln` or `uv`: the table that declares the workspace
    members: tuple[str, ...]
    exclude: tuple[str, ...]
    requires_python: str | None

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"


def _read(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KilnError(f"cannot read `{path}`: {exc}", hint=_HINT) from None
    except TOMLKitError as exc:
        raise KilnError(f"`{path}` is not valid TOML: {exc}", hint=_HINT) from None


def _string_list(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KilnError(f"`{key}` in `{path}` must be a list of strings", hint=_HINT)
    return tuple(str(v) for v in value)


def _workspace_table(document: Any) -> tuple[str, Any] | None:
    tool = document.get("tool")
    if not isinstance(tool, dict):
        return None
    for name in ("kiln", "uv"):
        section = tool.get(name)
        if isinstance(section, dict) and isinstance(section.get("workspace"), dict):
            return name, section["workspace"]
    return None


def find(target: Path) -> Workspace | None:
    """The workspace enclosing `target` (an absolute path), looking from its parent upward."""
    for directory in target.parents:
        path = directory / "pyproject.toml"
        if not path.is_file():
            continue
        document = _read(path)
        found = _workspace_table(document)
        if found is None:
            continue
        tool, table = found
        project = document.get("project")
        requires = project.get("requires-python") if isinstance(project, dict) else None
        return Workspace(
            root=directory,
            tool=tool,
            members=_string_list(table.get("members"), path, f"tool.{tool}.workspace.members"),
            exclude=_string_list(table.get("exclude"), path, f"tool.{tool}.workspace.exclude"),
            requires_python=str(requires) if isinstance(requires, str) else None,
        )
    return None


def glob_match(pattern: str, path: str) -> bool:
    """Match a relative POSIX path against a members glob (`*`, `?`, `[...]`, `**`)."""
    pattern_parts = [p for p in PurePosixPath(pattern).parts if p != "."]
    path_parts = [p for p in PurePosixPath(path).parts if p != "."]
    return _match_parts(pattern_parts, path_parts)


def _match_parts(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_parts(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _match_parts(rest, path[1:])


def relative(workspace: Workspace, target: Path) -> str:
    return target.relative_to(workspace.root).as_posix()


def membership(workspace: Workspace, target: Path) -> Membership:
    rel = relative(workspace, target)
    if any(glob_match(p, rel) for p in workspace.exclude):
        return Membership.EXCLUDED
    if any(glob_match(p, rel) for p in workspace.members):
        return Membership.ALREADY_MEMBER
    return Membership.TO_ADD


def with_member(workspace: Workspace, member: str) -> str:
    """The root `pyproject.toml` text with `member` appended to the workspace `members`."""
    import tomlkit

    document = _read(workspace.pyproject)
    table = document["tool"][workspace.tool]["workspace"]
    members = table.get("members")
    if members is None:
        members = tomlkit.array()
        table["members"] = members
    members.append(member)
    members.multiline(True)
    return tomlkit.dumps(document)
