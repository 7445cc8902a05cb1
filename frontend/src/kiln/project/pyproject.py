"""One ``pyproject.toml``: ``[project]``, ``[dependency-groups]``, ``[build-system]`` and
kiln's settings (:mod:`kiln.project.settings`).

A :class:`PyProject` is made once per file (and per content) in a process; each part is checked
when it is first asked for, so a command pays only for what it reads, and an error names the
file and the key. :meth:`PyProject.validate` checks everything the model reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.errors import KilnError
from kiln.project.groups import DEV, DependencyGroup, parse_requirement, resolve_groups
from kiln.project.settings import ConflictItem, ToolSettings, parse_specifier
from kiln.project.toml import expect_strings, expect_table, load_toml, where

if TYPE_CHECKING:
    from kiln.project.buildsystem import BuildSystem

FILENAME = "pyproject.toml"
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_PYPROJECTS: dict[tuple[str, int], PyProject] = {}


class ProjectTable(NamedTuple):
    """The ``[project]`` table, checked (PEP 621)."""

    name: str
    #: None when the version is dynamic (or, for a project that is not a package, absent).
    version: Version | None
    dynamic: frozenset[str]
    dependencies: tuple[Requirement, ...]
    optional_dependencies: Mapping[NormalizedName, tuple[Requirement, ...]]
    requires_python: SpecifierSet | None

    @property
    def normalized_name(self) -> NormalizedName:
        return canonicalize_name(self.name)


class PyProject:
    """The parsed ``pyproject.toml`` at ``path``. Treat :attr:`data` as read-only."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.directory = path.parent
        self.data = data

    def __repr__(self) -> str:
        return f"PyProject({str(self.path)!r})"

    @cached_property
    def tool(self) -> ToolSettings:
        """``[tool.kiln]``, else ``[tool.uv]``, key by key."""
        return ToolSettings(self.data, self.path)

    # -- [project] -----------------------------------------------------------------------------

    @property
    def has_project(self) -> bool:
        return "project" in self.data

    @cached_property
    def _project_table(self) -> Mapping[str, Any] | None:
        if "project" not in self.data:
            return None
        return expect_table(self.data["project"], self.path, "project")

    @cached_property
    def name(self) -> str | None:
        """``project.name``, checked; None without a ``[project]`` table."""
        table = self._project_table
        if table is None:
            return None
        name = table.get("name")
        if not isinstance(name, str):
            raise KilnError(
                f"{where(self.path, 'project.name')} must be a string",
                hint="every project needs a static `name` in `[project]`",
            )
        if not _NAME.match(name):
            raise KilnError(f"{where(self.path, 'project.name')}: `{name}` is not a valid package name")
        return name

    @property
    def normalized_name(self) -> NormalizedName | None:
        return None if self.name is None else canonicalize_name(self.name)

    @property
    def label(self) -> str:
        """For messages: ``project.name`` when it is readable, else the directory name."""
        table = self.data.get("project")
        name = table.get("name") if isinstance(table, dict) else None
        return name if isinstance(name, str) else self.directory.name

    @cached_property
    def requires_python(self) -> SpecifierSet | None:
        """``project.requires-python``; None when not set."""
        table = self._project_table
        if table is None or "requires-python" not in table:
            return None
        return parse_specifier(table["requires-python"], self.path, "project.requires-python")

    @cached_property
    def project(self) -> ProjectTable | None:
        """The whole ``[project]`` table, checked; None without one."""
        table = self._project_table
        if table is None:
            return None
        name = self.name
        assert name is not None
        dynamic = frozenset(expect_strings(table.get("dynamic", []), self.path, "project.dynamic"))
        if "name" in dynamic:
            raise KilnError(f"{where(self.path, 'project.dynamic')}: `name` cannot be dynamic")
        for key in sorted(dynamic):
            if key in table:
                raise KilnError(
                    f"{where(self.path, f'project.{key}')}: the key is listed in "
                    "`project.dynamic` and given a value",
                    hint=f"remove `{key}` from `dynamic`, or remove its value",
                )
        version = None
        if "version" in table:
            text = table["version"]
            if not isinstance(text, str):
                raise KilnError(f"{where(self.path, 'project.version')} must be a string")
            try:
                version = Version(text)
            except InvalidVersion:
                raise KilnError(
                    f"{where(self.path, 'project.version')}: `{text}` is not a valid version"
                ) from None
        dependencies = table.get("dependencies", [])
        if not isinstance(dependencies, list):
            raise KilnError(f"{where(self.path, 'project.dependencies')} must be a list of strings")
        extras: dict[NormalizedName, tuple[Requirement, ...]] = {}
        optional = expect_table(
            table.get("optional-dependencies", {}), self.path, "project.optional-dependencies"
        )
        for extra, values in optional.items():
            key = f"project.optional-dependencies.{extra}"
            if canonicalize_name(extra) in extras:
                raise KilnError(f"{where(self.path, key)}: the extra is listed twice (after normalisation)")
            if not isinstance(values, list):
                raise KilnError(f"{where(self.path, key)} must be a list of strings")
            extras[canonicalize_name(extra)] = tuple(
                parse_requirement(v, self.path, f"{key}[{n}]") for n, v in enumerate(values)
            )
        return ProjectTable(
            name=name,
            version=version,
            dynamic=dynamic,
            dependencies=tuple(
                parse_requirement(v, self.path, f"project.dependencies[{n}]")
                for n, v in enumerate(dependencies)
            ),
            optional_dependencies=extras,
            requires_python=self.requires_python,
        )

    # -- [build-system] ------------------------------------------------------------------------

    @cached_property
    def build_system(self) -> BuildSystem | None:
        """``[build-system]``, checked; None when the table is absent."""
        from kiln.project.buildsystem import parse_build_system

        return parse_build_system(self.data, self.path)

    @property
    def is_package(self) -> bool:
        """Whether the project is built and installed: ``package`` when set, else whether it
        has a ``[build-system]``. A project that is not a package is *virtual*: only its
        dependencies are installed."""
        forced = self.tool.package
        return forced if forced is not None else "build-system" in self.data

    @property
    def is_virtual(self) -> bool:
        return not self.is_package

    # -- [dependency-groups] -------------------------------------------------------------------

    @cached_property
    def dependency_groups(self) -> Mapping[NormalizedName, DependencyGroup]:
        """Every group, includes resolved, with the legacy ``dev-dependencies`` in ``dev``."""
        requires_python = self.tool.group_requires_python
        groups = resolve_groups(
            self.data,
            self.path,
            dev_dependencies=self.tool.dev_dependencies,
            requires_python=requires_python,
        )
        for name in requires_python:
            if name not in groups:
                key = f"{self.tool.key('dependency-groups')}.{name}"
                raise KilnError(
                    f"{where(self.path, key)}: group `{name}` is not defined in `[dependency-groups]`"
                )
        return groups

    def group(self, name: str) -> DependencyGroup:
        """The group called ``name`` (compared after normalisation)."""
        found = self.dependency_groups.get(canonicalize_name(name))
        if found is None:
            known = ", ".join(f"`{g.spelled}`" for g in self.dependency_groups.values()) or "none"
            raise KilnError(
                f"group `{name}` is not defined in `[dependency-groups]` of `{self.path}`",
                hint=f"defined groups: {known}",
            )
        return found

    @cached_property
    def default_groups(self) -> tuple[NormalizedName, ...]:
        """The groups installed unless a command says otherwise: ``default-groups``, else
        ``dev`` when it is defined."""
        setting = self.tool.default_groups
        groups = self.dependency_groups
        if setting is None:
            return (DEV,) if DEV in groups else ()
        if setting == "all":
            return tuple(groups)
        for name in setting:
            if name not in groups:
                raise KilnError(
                    f"{where(self.path, self.tool.key('default-groups'))}: group `{name}` is not "
                    "defined in `[dependency-groups]`"
                )
        return setting

    @cached_property
    def conflicts(self) -> tuple[tuple[ConflictItem, ...], ...]:
        """``conflicts``, with the extras and groups of this project checked to exist."""
        sets = self.tool.conflicts
        own = self.normalized_name
        for number, items in enumerate(sets):
            for position, item in enumerate(items):
                if item.package is not None and item.package != own:
                    continue
                key = f"{self.tool.key('conflicts')}[{number}][{position}]"
                if item.group is not None and item.group not in self.dependency_groups:
                    raise KilnError(
                        f"{where(self.path, key)}: group `{item.group}` is not defined in "
                        "`[dependency-groups]`"
                    )
                project = self.project
                if (
                    item.extra is not None
                    and project is not None
                    and "optional-dependencies" not in project.dynamic
                    and item.extra not in project.optional_dependencies
                ):
                    raise KilnError(
                        f"{where(self.path, key)}: extra `{item.extra}` is not defined in "
                        "`project.optional-dependencies`"
                    )
        return sets

    def validate(self) -> None:
        """Check every part of the file that kiln reads."""
        _ = (self.project, self.build_system, self.default_groups, self.conflicts)
        self.tool.validate()


def load_pyproject(path: Path) -> PyProject:
    """The :class:`PyProject` of the file ``path`` (which must exist): a
    ``pyproject.toml``, or a PEP 723 script (a file of any other name,
    :mod:`kiln.project.script`)."""
    path = path.absolute()
    if path.name != FILENAME:
        from kiln.project.script import load_script

        return load_script(path)
    data = load_toml(path)
    key = (str(path), id(data))  # load_toml keeps ``data`` for the life of the process
    found = _PYPROJECTS.get(key)
    if found is None:
        found = _PYPROJECTS[key] = PyProject(path, data)
    return found


def read_pyproject(directory: Path) -> PyProject | None:
    """The ``pyproject.toml`` of ``directory``, or None when there is none."""
    path = directory / FILENAME
    if not path.is_file():
        return None
    return load_pyproject(path)


def project_label(directory: Path) -> str:
    """``project.name`` of ``directory`` when it is readable, else the directory name."""
    try:
        pyproject = read_pyproject(directory)
    except KilnError:
        pyproject = None
    return pyproject.label if pyproject is not None else directory.name
