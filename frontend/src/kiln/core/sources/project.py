"""The sources that apply to one project: its own, over its workspace root's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.core.sources.model import ProjectSources, merge_workspace_sources
from kiln.core.sources.parse import parse_sources


@dataclass(frozen=True)
class ProjectSourceContext:
    """Everything :func:`kiln.core.sources.lower.lower` needs besides the requirement."""

    project_root: Path
    sources: ProjectSources
    #: Workspace member name -> directory (empty outside a workspace).
    workspace_members: Mapping[str, Path] = field(default_factory=dict)


def index_names(data: Mapping[str, Any]) -> set[str]:
    """The ``name``s of ``[[tool.kiln.index]]`` (else ``[[tool.uv.index]]``) entries."""
    tool = data.get("tool")
    if not isinstance(tool, dict):
        return set()
    for owner in ("kiln", "uv"):
        section = tool.get(owner)
        if isinstance(section, dict) and isinstance(section.get("index"), list):
            return {
                entry["name"]
                for entry in section["index"]
                if isinstance(entry, dict) and isinstance(entry.get("name"), str)
            }
    return set()


def load_project_sources(project_dir: Path) -> ProjectSourceContext:
    """Read the sources of ``project_dir`` merged with its workspace root's, validated.

    ``index = "..."`` may name an index of the project or of the workspace root.
    """
    from kiln.build.project import read_pyproject
    from kiln.build.workspace import find_workspace

    project_dir = project_dir.resolve()
    data = read_pyproject(project_dir) or {}
    workspace = find_workspace(project_dir)
    root_data: Mapping[str, Any] = {}
    if workspace is not None and workspace.root != project_dir:
        root_data = read_pyproject(workspace.root) or {}
    names = index_names(data) | index_names(root_data)
    sources = parse_sources(data, project_dir / "pyproject.toml", index_names=names)
    members: dict[str, Path] = {}
    if workspace is not None:
        members = {member.name: member.path for member in workspace.members}
        if workspace.root != project_dir:
            root_sources = parse_sources(
                root_data, workspace.root / "pyproject.toml", index_names=names
            )
            sources = merge_workspace_sources(sources, root_sources)
    return ProjectSourceContext(
        project_root=project_dir, sources=sources, workspace_members=members
    )
