"""Editing ``pyproject.toml`` files in place: comments and formatting survive (tomlkit).

Reading goes through :mod:`kiln.project.toml`; this module is for the commands that change a
project's files (``kiln init`` adding a workspace member; later ``kiln add`` and ``remove``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiln.errors import KilnError
from kiln.project.pyproject import PyProject


def parse_document(path: Path) -> Any:
    """The tomlkit document of ``path``, for a format-preserving edit."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KilnError(f"cannot read `{path}`: {exc}") from None
    except TOMLKitError as exc:
        raise KilnError(f"`{path}` is not valid TOML: {exc}") from None


def with_workspace_member(root: PyProject, member: str) -> str:
    """The text of the workspace root ``root`` with ``member`` appended to the ``members`` of
    its workspace table (the one kiln reads), one entry per line."""
    import tomlkit

    table_key = root.tool.workspace.key if root.tool.workspace is not None else "tool.kiln.workspace"
    document = parse_document(root.path)
    table = document
    for part in table_key.split("."):
        table = table[part]
    members = table.get("members")
    if members is None:
        members = tomlkit.array()
        table["members"] = members
    members.append(member)
    members.multiline(True)
    return tomlkit.dumps(document)
