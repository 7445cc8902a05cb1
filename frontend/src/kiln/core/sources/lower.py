"""Lowering: a PEP 508 requirement plus the project's sources -> a concrete requirement.

The same code serves ordinary dependencies and build requirements. A source applies to the
requirement of the same (normalised) name; entries scoped with ``extra``/``group`` apply only to
requirements declared in that extra or dependency group.

:func:`lower` picks the entry for one target environment (installs and isolated builds);
:func:`lower_universal` returns one requirement per entry plus the plain requirement for the
marker space no entry covers (locking for every platform).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.sources.model import (
    GitSource,
    IndexSource,
    PathSource,
    ProjectSources,
    SourceEntry,
    UrlSource,
    WorkspaceSource,
)
from kiln.errors import KilnError

DirectSource = PathSource | GitSource | UrlSource


class LoweredRequirement:
    """A requirement with its source decided.

    Exactly one of three shapes: a registry requirement (``source`` None, ``index`` None: any
    configured index), an index-pinned one (``index`` set), or a direct reference
    (``source`` set: a path, git or URL source; workspace members become path sources).

    A plain class: a ``NamedTuple`` field cannot be called ``index`` (a method of tuples).
    Nothing compares two of them. Treat an instance as read-only.
    """

    __slots__ = (
        "editable", "entry", "extras", "index", "marker", "name", "original", "source",
        "specifier", "workspace",
    )

    def __init__(
        self,
        name: NormalizedName,
        extras: frozenset[str] = frozenset(),
        specifier: SpecifierSet | None = None,
        marker: Marker | None = None,
        index: str | None = None,
        source: DirectSource | None = None,
        editable: bool = False,
        workspace: bool = False,
        entry: SourceEntry | None = None,
        original: Requirement | None = None,
    ) -> None:
        self.name = name
        self.extras = extras
        #: None given: any version (each instance gets its own ``SpecifierSet``).
        self.specifier = SpecifierSet() if specifier is None else specifier
        self.marker = marker
        self.index = index
        self.source = source
        self.editable = editable
        #: True when the source is a workspace member.
        self.workspace = workspace
        #: The entry that decided the source (None for a plain requirement).
        self.entry = entry
        #: The requirement as declared.
        self.original = original

    @property
    def is_direct(self) -> bool:
        return self.source is not None

    def to_requirement(self) -> Requirement:
        """The PEP 508 form: ``name[extras] @ url ; marker`` for direct references.

        A direct reference cannot carry a version specifier in PEP 508, so it is dropped there
        (it is kept in :attr:`specifier` for checking the built distribution).
        """
        text: str = self.name
        if self.extras:
            text += "[" + ",".join(sorted(self.extras)) + "]"
        if self.source is not None:
            text += " @ " + direct_url(self.source)
            if self.marker is not None:
                text += " "
        else:
            text += str(self.specifier)
        if self.marker is not None:
            text += f"; {self.marker}"
        return Requirement(text)


def direct_url(source: DirectSource) -> str:
    """The PEP 508 URL of a direct source (``file:``, ``git+...@ref``, or the archive URL)."""
    if isinstance(source, PathSource):
        return source.path.as_uri()
    if isinstance(source, GitSource):
        url = "git+" + source.url if not source.url.startswith("git+") else source.url
        reference = source.reference
        if reference is not None:
            url += "@" + quote(reference[1], safe="/._-+~")
        if source.subdirectory:
            url += "#subdirectory=" + quote(source.subdirectory, safe="/._-")
        return url
    if source.subdirectory:
        return f"{source.url}#subdirectory={quote(source.subdirectory, safe='/._-')}"
    return source.url


def lower(
    requirement: Requirement,
    sources: ProjectSources,
    *,
    project_root: Path,
    no_sources: bool = False,
    no_sources_packages: Collection[str] = (),
    workspace_members: Mapping[str, Path] | None = None,
    extra: str | None = None,
    group: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> LoweredRequirement:
    """Lower ``requirement`` for one target environment.

    ``environment`` (default: the running interpreter's) selects among marker-scoped entries;
    when none matches, the requirement is returned unchanged. ``extra``/``group`` say where the
    requirement was declared. ``workspace_members`` maps member names to their directories.
    """
    candidates = _applicable(
        requirement, sources, no_sources, no_sources_packages, workspace_members, extra, group
    )
    if not candidates:
        return _plain(requirement)
    target = {key: str(value) for key, value in default_environment().items()}
    if environment is not None:
        target.update(environment)
    target.setdefault("extra", extra or "")
    for entry in candidates:
        if entry.marker is None or entry.marker.evaluate(target):
            return _apply(requirement, entry, project_root, workspace_members)
    return _plain(requirement)


def lower_universal(
    requirement: Requirement,
    sources: ProjectSources,
    *,
    project_root: Path,
    no_sources: bool = False,
    no_sources_packages: Collection[str] = (),
    workspace_members: Mapping[str, Path] | None = None,
    extra: str | None = None,
    group: str | None = None,
) -> tuple[LoweredRequirement, ...]:
    """Lower ``requirement`` for every environment at once.

    Each applicable entry gives one requirement whose marker is the entry's ANDed with the
    requirement's; the marker space left uncovered keeps the plain requirement (left out when the
    entries cover every environment, and when the markers use ``===``, whose opposite PEP 508
    cannot write).
    """
    candidates = _applicable(
        requirement, sources, no_sources, no_sources_packages, workspace_members, extra, group
    )
    if not candidates:
        return (_plain(requirement),)
    lowered = [_apply(requirement, entry, project_root, workspace_members) for entry in candidates]
    if all(entry.marker is not None for entry in candidates):
        from kiln.core.markers import MarkerSet, marker_set

        covered = MarkerSet.false()
        for entry in candidates:
            # ``extra`` in an entry's marker is the extra the requirement is declared in.
            covered = covered | marker_set(entry.marker, extra or "")
        uncovered = ~covered
        text = None if uncovered.is_false() else uncovered.pep508()
        if text is not None:
            rest = Marker(text) if text else None
            lowered.append(_plain(requirement, marker=_and(requirement.marker, rest)))
    return tuple(lowered)


def _applicable(
    requirement: Requirement,
    sources: ProjectSources,
    no_sources: bool,
    no_sources_packages: Collection[str],
    workspace_members: Mapping[str, Path] | None,
    extra: str | None,
    group: str | None,
) -> list[SourceEntry]:
    name = canonicalize_name(requirement.name)
    if no_sources or name in {canonicalize_name(p) for p in no_sources_packages}:
        return []
    if requirement.url is not None:
        # A direct reference written in the requirement itself is already concrete.
        return []
    wanted_extra = canonicalize_name(extra) if extra else None
    wanted_group = canonicalize_name(group) if group else None
    entries = [
        entry
        for entry in sources.get(name)
        if (entry.extra is None or entry.extra == wanted_extra)
        and (entry.group is None or entry.group == wanted_group)
    ]
    members = _normalised(workspace_members)
    if name in members and not any(isinstance(e.source, WorkspaceSource) for e in entries):
        declared = f"`{sources.origin}`" if sources.origin else "the project"
        raise KilnError(
            f"`{requirement.name}` is a workspace member, but {declared} has no workspace source "
            "for it",
            hint=f"add `{requirement.name} = {{ workspace = true }}` to `[tool.kiln.sources]`",
        )
    return entries


def _apply(
    requirement: Requirement,
    entry: SourceEntry,
    project_root: Path,
    workspace_members: Mapping[str, Path] | None,
) -> LoweredRequirement:
    name = canonicalize_name(requirement.name)
    source = entry.source
    if isinstance(source, IndexSource):
        return _sourced(requirement, entry, index=source.index)
    if isinstance(source, WorkspaceSource):
        members = _normalised(workspace_members)
        if name not in members:
            known = ", ".join(f"`{m}`" for m in sorted(members)) or "none"
            raise KilnError(
                f"{entry.where}: `{requirement.name}` is not a workspace member",
                hint=f"workspace members: {known}",
            )
        path = members[name]
        if not path.is_absolute():
            path = (project_root / path).resolve()
        direct = PathSource(raw=str(path), path=path, editable=source.editable)
        return _sourced(
            requirement, entry, source=direct, editable=source.editable is not False,
            workspace=True,
        )
    if isinstance(source, PathSource) and source.editable and not source.path.is_dir():
        raise KilnError(
            f"{entry.where}: `editable = true` needs a project directory, "
            f"but `{source.raw}` is a file"
        )
    editable = isinstance(source, PathSource) and bool(source.editable)
    return _sourced(requirement, entry, source=source, editable=editable)


def _sourced(
    requirement: Requirement,
    entry: SourceEntry,
    *,
    index: str | None = None,
    source: DirectSource | None = None,
    editable: bool = False,
    workspace: bool = False,
) -> LoweredRequirement:
    """``requirement`` where ``entry`` applies: under the entry's marker too, from the
    index or the source it names."""
    return LoweredRequirement(
        name=canonicalize_name(requirement.name),
        extras=frozenset(requirement.extras),
        specifier=requirement.specifier,
        marker=_and(requirement.marker, entry.marker),
        index=index,
        source=source,
        editable=editable,
        workspace=workspace,
        entry=entry,
        original=requirement,
    )


def _plain(requirement: Requirement, *, marker: Marker | None = None) -> LoweredRequirement:
    return LoweredRequirement(
        name=canonicalize_name(requirement.name),
        extras=frozenset(requirement.extras),
        specifier=requirement.specifier,
        marker=marker if marker is not None else requirement.marker,
        original=requirement,
    )


def _and(first: Marker | None, second: Marker | None) -> Marker | None:
    if first is None:
        return second
    if second is None:
        return first
    return Marker(f"({first}) and ({second})")


def _normalised(members: Mapping[str, Path] | None) -> dict[NormalizedName, Path]:
    return {canonicalize_name(name): path for name, path in (members or {}).items()}


def lower_all(
    requirements: Iterable[Requirement],
    sources: ProjectSources,
    *,
    project_root: Path,
    no_sources: bool = False,
    no_sources_packages: Collection[str] = (),
    workspace_members: Mapping[str, Path] | None = None,
    extra: str | None = None,
    group: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> list[LoweredRequirement]:
    """:func:`lower` applied to each requirement (e.g. ``build-system.requires``)."""
    return [
        lower(
            requirement,
            sources,
            project_root=project_root,
            no_sources=no_sources,
            no_sources_packages=no_sources_packages,
            workspace_members=workspace_members,
            extra=extra,
            group=group,
            environment=environment,
        )
        for requirement in requirements
    ]
