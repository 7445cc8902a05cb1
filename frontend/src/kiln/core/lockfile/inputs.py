"""What a workspace's lock is made from, and the record of it kept in ``[tool.kiln]``.

One universal resolution covers every member, every extra and every dependency group. The
resolver sees each requirement once per place it is declared, with a marker that says when
that place is installed, in PEP 751's own marker variables:

* a member's ``dependencies``: always (every member of the workspace is installed);
* its extra ``x``: ``"x" in extras``;
* its dependency group ``g`` (includes resolved): ``"g" in dependency_groups``.

The resolver treats those comparisons as opaque conditions, so a package needed only by a
group gets that group's marker in the lock, and an extra or group that needs another version
of a package makes two entries with disjoint markers. A requirement on a workspace member
(``workspace = true``) or on the project itself adds the member's extras it names, under the
requirement's own condition; the member itself is a ``directory`` entry of the lock, never
resolved. Every other requirement is lowered through the sources of the member that declares
it (``path``, ``git`` and ``url`` sources become direct references).

:func:`record` is what ``[tool.kiln]`` keeps of the inputs (each project's requirements,
groups and sources as written, the workspace's settings): two locks made from equal records
with equal options are the same lock, so an unchanged record means no resolution is needed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.index.config import Index
from kiln.core.sources.lower import LoweredRequirement, direct_url, lower_universal
from kiln.core.sources.model import GitSource, PathSource, SourceEntry
from kiln.errors import KilnError
from kiln.project.groups import DependencyGroup
from kiln.project.pyproject import PyProject
from kiln.project.script import Script
from kiln.project.workspace import Member, Workspace

#: Keys of ``[tool.kiln]`` (else ``[tool.uv]``) that change what a lock holds.
SETTINGS = (
    "sources",
    "index",
    "default-groups",
    "dev-dependencies",
    "dependency-groups",
    "conflicts",
    "environments",
    "required-environments",
    "constraint-dependencies",
    "build-constraint-dependencies",
    "no-build-isolation",
    "no-build-isolation-package",
    "config-settings",
    "config-settings-package",
    "override-dependencies",
    "prerelease-package",
    "package",
    "workspace",
)

#: The default of the mapping fields of :class:`LockInputs`: one object shared by every
#: instance, so one that cannot be changed.
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


class LockInputs(NamedTuple):
    """Everything one resolution of a workspace needs, and what the lock lists besides."""

    workspace: Workspace
    #: The lock's ``requires-python``.
    requires_python: SpecifierSet
    #: The oldest Python the resolution is for (the lower bound of ``requires_python``).
    floor: Version
    requirements: tuple[Requirement, ...]
    constraints: tuple[Requirement, ...] = ()
    overrides: tuple[Requirement, ...] = ()
    #: ``environments``: the lock is made for these only (empty: every environment).
    environments: tuple[Marker, ...] = ()
    #: ``required-environments``: every package needs a wheel (or an sdist) for each.
    required_environments: tuple[Marker, ...] = ()
    #: What the resolver is limited to: ``environments`` and the declared conflicts.
    resolver_space: tuple[Marker, ...] = ()
    extras: tuple[NormalizedName, ...] = ()
    groups: tuple[NormalizedName, ...] = ()
    default_groups: tuple[NormalizedName, ...] = ()
    #: Members that are packages: ``directory`` entries of the lock.
    packages: tuple[Member, ...] = ()
    #: Direct references by their PEP 508 URL, as lowered from the sources.
    direct: Mapping[str, LoweredRequirement] = _EMPTY
    #: The projects the inputs come from: every member and a virtual root.
    projects: tuple[PyProject, ...] = ()
    #: Packages pinned to an index by the sources (``index = "..."``): (where, index name),
    #: where None means everywhere.
    index_pins: Mapping[NormalizedName, tuple[tuple[Marker | None, str], ...]] = _EMPTY
    #: The ``[[tool.kiln.index]]`` entries of the members (the root's are read with the other
    #: index settings), which their ``index`` sources may name.
    member_indexes: tuple[Index, ...] = ()


def collect(
    workspace: Workspace, *, no_sources: bool = False, no_sources_packages: Sequence[str] = ()
) -> LockInputs:
    """The inputs of ``workspace``'s lock, checked; the sources of ``no_sources_packages``
    (of every package with ``no_sources``) are ignored."""
    root = workspace.pyproject
    projects: list[PyProject] = [member.pyproject for member in workspace.members]
    if not root.has_project:
        projects.insert(0, root)
    builder = _Builder(workspace, no_sources, no_sources_packages)
    for member in workspace.members:
        builder.member(member)
    if not root.has_project:
        builder.groups_of(root, root.directory)
    script = workspace.script
    if script is not None:
        for requirement in script.dependencies:
            builder.add(script, requirement, None)
    builder.finish()
    requires_python, floor = _python(workspace)
    extras = sorted({
        extra
        for member in workspace.members
        if member.pyproject.project is not None
        for extra in member.pyproject.project.optional_dependencies
    })
    groups = sorted({name for project in projects for name in project.dependency_groups})
    defaults = sorted({name for project in projects for name in project.default_groups})
    environments = root.tool.environments
    return LockInputs(
        workspace=workspace,
        requires_python=requires_python,
        floor=floor,
        requirements=tuple(builder.requirements),
        constraints=root.tool.constraint_dependencies,
        overrides=root.tool.override_dependencies,
        environments=environments,
        required_environments=root.tool.required_environments,
        resolver_space=_space(environments, _conflicts(root)),
        extras=tuple(extras),
        groups=tuple(groups),
        default_groups=tuple(defaults),
        packages=tuple(m for m in workspace.members if m.buildable),
        direct=builder.direct,
        projects=tuple(projects),
        index_pins={name: tuple(pins) for name, pins in builder.index_pins.items()},
        member_indexes=tuple(
            index
            for member in workspace.members
            if member.path != workspace.root
            for index in member.pyproject.tool.indexes
        ),
    )


def with_locked_commits(
    inputs: LockInputs, commits: Mapping[tuple[str, str | None, str | None], str]
) -> LockInputs:
    """``inputs`` with each ``git`` requirement at the commit an earlier lock pins for the
    same repository, revision and subdirectory (``commits``), so that a relock keeps it.
    The lock still records the revision the source asks for."""
    from kiln.core.index.redaction import strip_credentials
    from kiln.core.lockfile.preferences import git_url

    if not commits:
        return inputs
    direct = dict(inputs.direct)
    requirements: list[Requirement] = []
    for requirement in inputs.requirements:
        lowered = inputs.direct.get(requirement.url or "")
        source = lowered.source if lowered is not None else None
        if lowered is None or not isinstance(source, GitSource):
            requirements.append(requirement)
            continue
        reference = source.reference
        key = (git_url(strip_credentials(source.url)), reference[1] if reference else None,
               source.subdirectory)
        commit = commits.get(key)
        if commit is None:
            requirements.append(requirement)
            continue
        url = direct_url(GitSource(source.url, rev=commit, subdirectory=source.subdirectory))
        direct[url] = lowered
        pinned = Requirement(str(requirement))
        pinned.url = url
        requirements.append(pinned)
    return inputs._replace(requirements=tuple(requirements), direct=direct)


def extra_marker(extra: str) -> str:
    return f'"{canonicalize_name(extra)}" in extras'


def group_marker(group: str) -> str:
    return f'"{canonicalize_name(group)}" in dependency_groups'


class _Builder:
    """Collects the resolver's requirements from each project."""

    def __init__(
        self, workspace: Workspace, no_sources: bool, no_sources_packages: Sequence[str] = ()
    ) -> None:
        self.workspace = workspace
        self.no_sources = no_sources
        self.no_sources_packages = frozenset(canonicalize_name(n) for n in no_sources_packages)
        self.requirements: list[Requirement] = []
        self.direct: dict[str, LoweredRequirement] = {}
        self.index_pins: dict[NormalizedName, list[tuple[Marker | None, str]]] = {}
        self._seen: set[str] = set()
        #: (member, extra, condition) still to add, and those added.
        self._pending: list[tuple[Member, NormalizedName, str | None]] = []
        self._done: set[tuple[NormalizedName, NormalizedName, str | None]] = set()

    def member(self, member: Member) -> None:
        pyproject = member.pyproject
        project = pyproject.project
        assert project is not None
        for key in ("dependencies", "optional-dependencies"):
            if key in project.dynamic:
                raise KilnError(
                    f"{pyproject.path}: `project.{key}` is dynamic; `kiln lock` reads only "
                    "dependencies written in `pyproject.toml`",
                    hint=f"list the dependencies in `project.{key}` and remove `{key}` from "
                    "`project.dynamic`",
                )
        for requirement in project.dependencies:
            self.add(pyproject, requirement, None)
        for extra, requirements in project.optional_dependencies.items():
            for requirement in requirements:
                self.add(pyproject, requirement, extra_marker(extra), extra=extra)
        self.groups_of(pyproject, member.path)

    def groups_of(self, pyproject: PyProject, directory: Path) -> None:
        for group in pyproject.dependency_groups.values():
            condition: str | None = group_marker(group.name)
            if group.requires_python is not None:
                # The group is locked only for its own Pythons.
                condition = _and(condition, _python_marker(pyproject, group))
            for requirement in group.requirements:
                self.add(pyproject, requirement, condition, group=group.name)

    def add(
        self,
        pyproject: PyProject,
        requirement: Requirement,
        condition: str | None,
        *,
        extra: str | None = None,
        group: str | None = None,
    ) -> None:
        """``requirement`` of ``pyproject``, needed where ``condition`` holds (None: always)."""
        name = canonicalize_name(requirement.name)
        if name == pyproject.normalized_name and requirement.url is None:
            # The project itself (``demo[extra]`` in an extra of demo): its extras.
            self._member_extras(self.workspace.find(name), requirement, condition)
            return
        from kiln.project.sources import sources_of

        context = sources_of(pyproject)
        member = self._member_by_path(name, context.sources.get(name))
        ignored = self.no_sources or name in self.no_sources_packages
        if member is not None and requirement.url is None and not ignored:
            # ``b = { path = "../b" }`` where ``../b`` is the member ``b``: the member.
            self._member_extras(member, requirement, _and(_text(requirement.marker), condition))
            return
        lowered_all = lower_universal(
            requirement,
            context.sources,
            project_root=context.project_root,
            no_sources=ignored,
            workspace_members=context.workspace_members,
            extra=extra,
            group=group,
        )
        for lowered in lowered_all:
            if lowered.workspace:
                member = self.workspace.find(lowered.name)
                self._check_version(member, lowered, pyproject)
                self._member_extras(member, requirement, _and(_text(lowered.marker), condition))
                continue
            if lowered.source is not None:
                self.direct[direct_url(lowered.source)] = lowered
            resolved = lowered.to_requirement()
            marker = _and(_text(resolved.marker), condition)
            resolved.marker = Marker(marker) if marker else None
            if lowered.index is not None:
                pins = self.index_pins.setdefault(lowered.name, [])
                if (resolved.marker, lowered.index) not in pins:
                    pins.append((resolved.marker, lowered.index))
            key = str(resolved)
            if key not in self._seen:
                self._seen.add(key)
                self.requirements.append(resolved)

    def _member_by_path(
        self, name: NormalizedName, entries: tuple[SourceEntry, ...]
    ) -> Member | None:
        """The member ``name`` when every source of it is a ``path`` to its directory."""
        members = [m for m in self.workspace.members if m.normalized_name == name]
        if not members or not entries:
            return None
        for entry in entries:
            source = entry.source
            if not isinstance(source, PathSource) or source.path.resolve() != members[0].path:
                return None
        return members[0]

    def _member_extras(
        self, member: Member, requirement: Requirement, condition: str | None
    ) -> None:
        for extra in sorted(canonicalize_name(e) for e in requirement.extras):
            self._pending.append((member, extra, condition))

    def finish(self) -> None:
        """Add the extras of members that requirements name, until none is left."""
        while self._pending:
            member, extra, condition = self._pending.pop(0)
            key = (member.normalized_name, extra, condition)
            if key in self._done:
                continue
            self._done.add(key)
            project = member.pyproject.project
            assert project is not None
            requirements = project.optional_dependencies.get(extra)
            if requirements is None:
                continue  # an unknown extra is ignored, as for any package
            for requirement in requirements:
                self.add(member.pyproject, requirement, condition, extra=extra)

    @staticmethod
    def _check_version(member: Member, lowered: LoweredRequirement, by: PyProject) -> None:
        project = member.pyproject.project
        version = project.version if project is not None else None
        if version is None or not lowered.specifier:
            return
        if not lowered.specifier.contains(version, prereleases=True):
            raise KilnError(
                f"{by.path}: `{lowered.original or lowered.name}` asks for a version of the "
                f"workspace member `{member.name}` that it does not have ({version})",
                hint=f"change the requirement, or `project.version` in `{member.pyproject.path}`",
            )


def _python_marker(pyproject: PyProject, group: DependencyGroup) -> str | None:
    """The marker of the Pythons ``requires-python`` of ``group`` admits (None: all)."""
    from kiln.core.markers import MarkerSet, python_specifier_range

    assert group.requires_python is not None
    versions = python_specifier_range(group.requires_python)
    if not versions.intervals:
        key = f"{pyproject.tool.key('dependency-groups')}.{group.spelled}.requires-python"
        raise KilnError(
            f"{pyproject.path}: `{key}` admits no Python version: `{group.requires_python}`"
        )
    return MarkerSet.python(versions).pep508() or None


def _text(marker: Marker | None) -> str | None:
    return None if marker is None else str(marker)


def _and(first: str | None, second: str | None) -> str | None:
    if not first:
        return second
    if not second:
        return first
    return f"({first}) and ({second})"


def _python(workspace: Workspace) -> tuple[SpecifierSet, Version]:
    """The lock's ``requires-python`` and its floor; without one, the running Python's
    minor version and up."""
    from kiln.core.markers import python_specifier_range, release_text

    specifier = workspace.requires_python
    if specifier is not None:
        versions = python_specifier_range(specifier)
        if not versions.intervals:
            raise KilnError(
                f"the `requires-python` of the workspace at `{workspace.root}` admits no "
                f"Python version: `{specifier}`",
                hint="the members' `requires-python` values are intersected",
            )
        lower = versions.intervals[0][0]
        if lower is not None:
            return specifier, Version(release_text(lower[0][:2]))
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    floor = Version(running)
    if specifier is None:
        return SpecifierSet(f">={running}"), floor
    return specifier & SpecifierSet(f">={running}"), floor


def _conflicts(root: PyProject) -> list[str]:
    """A marker per pair of declared conflicting extras or groups: not both."""
    found = []
    for items in root.conflicts:
        markers = [
            extra_marker(item.extra) if item.extra is not None else group_marker(str(item.group))
            for item in items
        ]
        for position, first in enumerate(markers):
            for second in markers[position + 1 :]:
                found.append(
                    f"{first.replace(' in ', ' not in ')} or {second.replace(' in ', ' not in ')}"
                )
    return found


def _space(environments: tuple[Marker, ...], conflicts: list[str]) -> tuple[Marker, ...]:
    """Markers whose union is where the resolution is made: each environment, with every
    conflict's marker."""
    if not conflicts:
        return environments
    limit = " and ".join(f"({c})" for c in conflicts)
    if not environments:
        return (Marker(limit),)
    return tuple(Marker(f"({environment}) and {limit}") for environment in environments)


# -- the record in [tool.kiln] ------------------------------------------------------------------


def record(inputs: LockInputs) -> list[dict[str, Any]]:
    """What ``[[tool.kiln.projects]]`` keeps of each project: its requirements, groups,
    sources and settings as written (relative paths stay relative), in a fixed order."""
    root = inputs.workspace.root
    projects = []
    for pyproject in sorted(inputs.projects, key=lambda p: _relative(p.directory, root)):
        entry: dict[str, Any] = {"path": _relative(pyproject.directory, root)}
        table = pyproject.data.get("project")
        if isinstance(table, dict):
            entry["name"] = pyproject.normalized_name
            for key in ("version", "requires-python", "dependencies", "optional-dependencies"):
                if key in table:
                    entry[key] = table[key]
            dynamic = [k for k in ("version", "dependencies") if k in table.get("dynamic", [])]
            if dynamic:
                entry["dynamic"] = dynamic
            entry["package"] = pyproject.is_package
        if isinstance(pyproject, Script):
            entry["script"] = pyproject.path.name
            for key in ("requires-python", "dependencies"):
                if key in pyproject.data:
                    entry[key] = pyproject.data[key]
        elif "dependency-groups" in pyproject.data:
            entry["dependency-groups"] = pyproject.data["dependency-groups"]
        settings = {
            pyproject.tool.key(key): pyproject.tool.raw(key)
            for key in SETTINGS
            if pyproject.tool.raw(key) is not None
        }
        if settings:
            entry["settings"] = settings
        projects.append(entry)
    return projects


def _relative(path: Path, root: Path) -> str:
    if path == root:
        return "."
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
