"""Workspaces: ``[tool.kiln.workspace]`` (else ``[tool.uv.workspace]``) ``members`` globs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from kiln.build.project import read_pyproject
from kiln.errors import KilnError


@dataclass(frozen=True)
class Member:
    name: str
    path: Path
    buildable: bool


@dataclass(frozen=True)
class Workspace:
    root: Path
    members: tuple[Member, ...]

    def find(self, name: str) -> Member:
        wanted = canonicalize_name(name)
        for member in self.members:
            if canonicalize_name(member.name) == wanted:
                return member
        known = ", ".join(f"`{m.name}`" for m in self.members) or "none"
        raise KilnError(
            f"package `{name}` is not a member of the workspace at `{self.root}`",
            hint=f"members: {known}",
        )


def _workspace_table(data: dict[str, Any]) -> dict[str, Any] | None:
    tool = data.get("tool")
    if not isinstance(tool, dict):
        return None
    for owner in ("kiln", "uv"):
        section = tool.get(owner)
        if isinstance(section, dict) and isinstance(section.get("workspace"), dict):
            table: dict[str, Any] = section["workspace"]
            return table
    return None


def _globs(table: dict[str, Any], key: str, path: Path) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise KilnError(f"`{path}`: workspace `{key}` must be a list of glob strings")
    return value


def _member(path: Path, data: dict[str, Any]) -> Member:
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    tool = data.get("tool")
    kiln = tool.get("kiln") if isinstance(tool, dict) else None
    forced = isinstance(kiln, dict) and kiln.get("package") is True
    buildable = "build-system" in data or forced
    return Member(name if isinstance(name, str) else path.name, path, buildable)


def _load(root: Path, data: dict[str, Any], table: dict[str, Any]) -> Workspace:
    pyproject = root / "pyproject.toml"
    excluded: set[Path] = set()
    for pattern in _globs(table, "exclude", pyproject):
        excluded.update(p.resolve() for p in root.glob(pattern))
    members: dict[Path, Member] = {}
    if isinstance(data.get("project"), dict):
        members[root] = _member(root, data)
    for pattern in _globs(table, "members", pyproject):
        for candidate in sorted(root.glob(pattern)):
            directory = candidate.resolve()
            if not candidate.is_dir() or directory in excluded or directory in members:
                continue
            member_data = read_pyproject(directory)
            if member_data is None:
                raise KilnError(
                    f"workspace member `{candidate.relative_to(root)}` has no `pyproject.toml`",
                    hint=f"fix `members` in `{pyproject}` or add an `exclude`",
                )
            members[directory] = _member(directory, member_data)
    ordered = sorted(members.values(), key=lambda m: canonicalize_name(m.name))
    return Workspace(root, tuple(ordered))


def find_workspace(start: Path) -> Workspace | None:
    """The workspace that ``start`` is the root or a member of, if any."""
    start = start.resolve()
    for directory in (start, *start.parents):
        data = read_pyproject(directory)
        if data is None:
            continue
        table = _workspace_table(data)
        if table is None:
            continue
        workspace = _load(directory, data, table)
        if directory == start or any(m.path == start for m in workspace.members):
            return workspace
    return None
