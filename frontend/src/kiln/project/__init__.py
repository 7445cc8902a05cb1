"""One model of a project and its workspace, read from ``pyproject.toml`` files.

- :mod:`kiln.project.toml`: reading TOML once per process, with errors naming file and key;
- :mod:`kiln.project.pyproject`: one ``pyproject.toml`` (:class:`PyProject`): ``[project]``,
  ``[dependency-groups]`` (:mod:`~kiln.project.groups`), ``[build-system]``
  (:mod:`~kiln.project.buildsystem`) and ``[tool.kiln]``/``[tool.uv]`` settings
  (:mod:`~kiln.project.settings`);
- :mod:`kiln.project.workspace`: finding the project and its workspace from a directory,
  members, the workspace's ``requires-python``, choosing members to build;
- :mod:`kiln.project.sources` and :mod:`kiln.project.indexes`: what the lowering of
  requirements and the index client take from a project;
- :mod:`kiln.project.edit`: changing a ``pyproject.toml`` and keeping its formatting.

Library code only: it never prints; failures are :class:`kiln.errors.KilnError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._lazy import lazy_exports

if TYPE_CHECKING:
    from kiln.project.buildsystem import BuildSystem, read_build_system
    from kiln.project.groups import DependencyGroup
    from kiln.project.pyproject import (
        ProjectTable,
        PyProject,
        load_pyproject,
        project_label,
        read_pyproject,
    )
    from kiln.project.toml import load_toml
    from kiln.project.workspace import (
        Member,
        Project,
        Workspace,
        discover,
        find_workspace,
        select_members,
    )

if not TYPE_CHECKING:  # the type checker reads the imports above instead
    #: Where each public name lives: imported on first use.
    __getattr__ = lazy_exports(__name__, {
        "BuildSystem": "kiln.project.buildsystem",
        "DependencyGroup": "kiln.project.groups",
        "Member": "kiln.project.workspace",
        "Project": "kiln.project.workspace",
        "ProjectTable": "kiln.project.pyproject",
        "PyProject": "kiln.project.pyproject",
        "Workspace": "kiln.project.workspace",
        "discover": "kiln.project.workspace",
        "find_workspace": "kiln.project.workspace",
        "load_pyproject": "kiln.project.pyproject",
        "load_toml": "kiln.project.toml",
        "project_label": "kiln.project.pyproject",
        "read_build_system": "kiln.project.buildsystem",
        "read_pyproject": "kiln.project.pyproject",
        "select_members": "kiln.project.workspace",
    })

__all__ = [
    "BuildSystem",
    "DependencyGroup",
    "Member",
    "Project",
    "ProjectTable",
    "PyProject",
    "Workspace",
    "discover",
    "find_workspace",
    "load_pyproject",
    "load_toml",
    "project_label",
    "read_build_system",
    "read_pyproject",
    "select_members",
]
