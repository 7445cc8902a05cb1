"""The sources that apply to one project: its own, over its workspace root's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from kiln.core.sources.model import ProjectSources, merge_workspace_sources
from kiln.project.pyproject import FILENAME, PyProject, read_pyproject
from kiln.project.workspace import find_workspace

#: No workspace members (one shared object, so it cannot be changed).
_NO_MEMBERS: Mapping[str, Path] = MappingProxyType({})


class ProjectSourceContext(NamedTuple):
    """Everything :func:`kiln.core.sources.lower.lower` needs besides the requirement."""

    project_root: Path
    sources: ProjectSources
    #: Workspace member name -> directory (empty outside a workspace).
    workspace_members: Mapping[str, Path] = _NO_MEMBERS


def index_names(*pyprojects: PyProject | None) -> set[str]:
    """The ``name``s of the ``[[tool.kiln.index]]`` (else ``[[tool.uv.index]]``) entries."""
    return {
        index.name
        for pyproject in pyprojects
        if pyproject is not None
        for index in pyproject.tool.indexes
        if index.name is not None
    }


def sources_of(pyproject: PyProject) -> ProjectSourceContext:
    """The sources that apply to the requirements of ``pyproject``: a script's own, else
    those of its directory (:func:`load_project_sources`)."""
    from kiln.project.script import Script

    if isinstance(pyproject, Script):
        sources = pyproject.tool.sources(index_names(pyproject))
        return ProjectSourceContext(project_root=pyproject.directory, sources=sources)
    return load_project_sources(pyproject.directory)


def load_project_sources(project_dir: Path) -> ProjectSourceContext:
    """The sources of ``project_dir`` merged with its workspace root's, checked.

    ``index = "..."`` may name an index of the project or of the workspace root.
    """
    project_dir = project_dir.resolve()
    pyproject = read_pyproject(project_dir)
    workspace = find_workspace(project_dir) if pyproject is not None else None
    root = workspace.pyproject if workspace is not None and workspace.root != project_dir else None
    names = index_names(pyproject, root)
    if pyproject is None:
        sources = ProjectSources(origin=project_dir / FILENAME)
    else:
        sources = pyproject.tool.sources(names)
    if root is not None:
        sources = merge_workspace_sources(sources, root.tool.sources(names))
    members = workspace.member_paths if workspace is not None else {}
    return ProjectSourceContext(
        project_root=project_dir, sources=sources, workspace_members=members
    )
