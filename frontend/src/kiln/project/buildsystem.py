"""``[build-system]`` (PEP 517/518): which backend builds a project, with what requirements."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from packaging.requirements import InvalidRequirement, Requirement

from kiln.errors import KilnError
from kiln.requirement_text import invalid_requirement_reason

#: The PEP 517 fallback for projects without a ``[build-system]`` table.
FALLBACK_REQUIRES = ("setuptools>=40.8.0",)
FALLBACK_BACKEND = "setuptools.build_meta:__legacy__"


class BuildSystem(NamedTuple):
    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] | None = None
    #: True when the table was missing and the PEP 517 fallback applies.
    fallback: bool = False


FALLBACK = BuildSystem(FALLBACK_REQUIRES, FALLBACK_BACKEND, fallback=True)


def _string_list(value: object, path: Path, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise KilnError(f"`{path}`: `{key}` must be a list of strings")
    return tuple(value)


def parse_build_system(data: Mapping[str, Any], path: Path) -> BuildSystem | None:
    """The validated ``[build-system]`` of ``data`` (parsed from ``path``); None when absent."""
    table = data.get("build-system")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise KilnError(f"`{path}`: `build-system` must be a table")
    if "requires" not in table:
        raise KilnError(
            f"`{path}`: `build-system.requires` is missing",
            hint='add e.g. `requires = ["kiln-build>=0.1,<0.2"]` to `[build-system]`',
        )
    requires = _string_list(table["requires"], path, "build-system.requires")
    for requirement in requires:
        try:
            Requirement(requirement)
        except InvalidRequirement as exc:
            raise KilnError(
                f"`{path}`: `build-system.requires` has an invalid requirement `{requirement}`: "
                f"{invalid_requirement_reason(exc, requirement)}"
            ) from None
    backend = table.get("build-backend", FALLBACK_BACKEND)
    if not isinstance(backend, str) or not backend:
        raise KilnError(f"`{path}`: `build-system.build-backend` must be a non-empty string")
    backend_path = None
    if "backend-path" in table:
        backend_path = _string_list(table["backend-path"], path, "build-system.backend-path")
        project_dir = path.parent
        root = project_dir.resolve()
        for entry in backend_path:
            target = (project_dir / entry).resolve()
            if Path(entry).is_absolute() or not target.is_relative_to(root):
                raise KilnError(
                    f"`{path}`: `build-system.backend-path` entry `{entry}` must be a relative path inside the project"
                )
            if not target.is_dir():
                raise KilnError(
                    f"`{path}`: `build-system.backend-path` entry `{entry}` is not a directory"
                )
    return BuildSystem(requires, backend, backend_path)


def read_build_system(project_dir: Path) -> BuildSystem:
    """The build system of the project in ``project_dir``, validated; the PEP 517 fallback
    (setuptools) when ``[build-system]`` or ``pyproject.toml`` is missing."""
    from kiln.project.pyproject import read_pyproject

    pyproject = read_pyproject(project_dir)
    if pyproject is None:
        if not (project_dir / "setup.py").is_file():
            raise KilnError(
                f"`{project_dir}` does not appear to be a Python project:"
                " neither `pyproject.toml` nor `setup.py` is present",
            )
        return FALLBACK
    return pyproject.build_system or FALLBACK
