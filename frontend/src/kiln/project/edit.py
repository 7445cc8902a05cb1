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
    its workspace table (the one kiln reads), one entry per line.

    A project without a workspace table gets the one :func:`workspace_table_for` names, after
    its other ``[tool.*]`` tables.
    """
    import tomlkit

    document = parse_document(root.path)
    key = workspace_table_for(root)
    _, owner, _ = key.split(".")
    if root.tool.workspace is not None:
        table = document["tool"][owner]["workspace"]
    else:
        tool = _super_table(document, "tool")
        table = tomlkit.table()
        _super_table(tool, owner)["workspace"] = table
    members = table.get("members")
    if members is None:
        members = tomlkit.array()
        table["members"] = members
    members.append(member)
    members.multiline(True)
    if root.tool.workspace is None and not (
        list(document.keys())[-1] == "tool" and list(document["tool"].keys())[-1] == owner
    ):
        table.add(tomlkit.nl())  # a blank line before the table that follows
    return tomlkit.dumps(document)


def workspace_table_for(root: PyProject) -> str:
    """The workspace table that :func:`with_workspace_member` adds ``root``'s members to: its
    own, else ``tool.uv.workspace`` when it has a ``[tool.uv]`` table and no ``[tool.kiln]``
    one (so that uv reads the workspace too), else ``tool.kiln.workspace``."""
    if root.tool.workspace is not None:
        return root.tool.workspace.key
    tool = root.data.get("tool")
    tables = tool if isinstance(tool, dict) else {}
    owner = "uv" if "uv" in tables and "kiln" not in tables else "kiln"
    return f"tool.{owner}.workspace"


def _super_table(container: Any, name: str) -> Any:
    """``container[name]``, made (as a table that only holds tables) when missing."""
    import tomlkit

    if name not in container:
        container[name] = tomlkit.table(is_super_table=True)
    return container[name]
