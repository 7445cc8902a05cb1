"""Universal resolution: one set of pins, each with a marker, right for every environment
from a Python floor up (``kiln pip compile --universal``).

The environment space is solved fork by fork (see :mod:`kiln.core.resolver.forks`): a solve
that meets requirements it cannot satisfy at once stops and is replaced by solves of the
parts. Every fork shares one provider, so pages and metadata are fetched once, and tries
first the highest version earlier forks chose for a package, so that forks differ only where
they must (forks on Python versions are solved newest first). The marker of a pin
is where some chain of requirements from the user reaches it, inside its fork; pins of the
same version from different forks are merged.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Literal

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.markers import MarkerSet, marker_set, python_at_least, release
from kiln.core.resolver.driver import DEFAULT_CONCURRENCY, prefetching, unsatisfiable
from kiln.core.resolver.errors import ResolutionError
from kiln.core.resolver.forks import ForkEnvironment, ForkRequired
from kiln.core.resolver.packages import ROOT, Package
from kiln.core.resolver.provider import MetadataBuilder, PythonProvider
from kiln.core.resolver.pubgrub import NoSolution, solve
from kiln.core.resolver.resolution import Dependency, ResolvedPackage, UniversalResolution
from kiln.core.resolver.versions import Point
from kiln.core.types import BuildChoices, PackageSource, PrereleaseMode
from kiln.errors import KilnError

#: ``--fork-strategy``: ``requires-python`` picks the newest version for each range of
#: Python versions (forking where a newer one drops older Pythons); ``fewest`` picks one
#: version that suits every Python of the fork, forking only where requirements differ.
ForkStrategy = Literal["requires-python", "fewest"]
FORK_STRATEGIES: tuple[ForkStrategy, ...] = ("requires-python", "fewest")

#: More forks than this means the requirements split the space without end.
MAX_FORKS = 128


class _Pin:
    """A pin being gathered over the forks (its marker and extras widen as forks add to
    them)."""

    __slots__ = ("extras", "marker", "package")

    def __init__(
        self, package: ResolvedPackage, marker: MarkerSet, extras: set[NormalizedName]
    ) -> None:
        self.package = package
        self.marker = marker
        self.extras = extras


def resolve_universal(
    requirements: Sequence[Requirement],
    source: PackageSource,
    *,
    python: Version,
    markers: Mapping[str, str],
    constraints: Sequence[Requirement] = (),
    overrides: Sequence[Requirement] = (),
    excludes: Collection[NormalizedName] = (),
    prerelease: PrereleaseMode = "if-necessary",
    prerelease_packages: Mapping[NormalizedName, PrereleaseMode] | None = None,
    builder: MetadataBuilder | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    preferences: Mapping[NormalizedName, Collection[Version]] | None = None,
    environments: Sequence[Marker] = (),
    routes: SourceRoutes | None = None,
    required: Sequence[Marker] = (),
    choices: BuildChoices | None = None,
    fork_strategy: ForkStrategy = "requires-python",
) -> UniversalResolution:
    """Pins for every environment with Python ``python`` or newer.

    ``markers`` are the running interpreter's values, used only by settings that must
    pick one environment (an index pinned by marker). Raises :class:`ResolutionError`
    when some fork has no solution.

    Hooks for project locking (``kiln lock``): ``preferences`` are versions tried first
    (those of an existing lockfile), as the versions earlier forks chose are;
    ``environments``, when given, limit the resolution to the environments where one of
    them holds; ``routes``, packages that come from another index in other environments
    (the space is split first so that each part has one index for each); ``required``,
    environments that must be served by every version chosen for them (a wheel that can
    be installed there, or a source distribution): a version that is not is unusable there.
    ``fork_strategy`` is ``--fork-strategy`` (see :data:`ForkStrategy`).
    """
    space = _space(python, environments)
    needed = [(marker_set(marker), str(marker)) for marker in required]
    on_python = fork_strategy == "requires-python"

    def environment(fork: MarkerSet) -> ForkEnvironment:
        return ForkEnvironment(fork, markers, needed, fork_on_python=on_python)
    pins: dict[tuple[NormalizedName, Version, str | None], _Pin] = {}
    edges: dict[tuple[NormalizedName | None, NormalizedName], Requirement] = {}
    solved = 0
    #: Versions chosen so far, tried first by every later fork.
    preferred: dict[NormalizedName, set[Version]] = {
        name: set(versions) for name, versions in (preferences or {}).items()
    }
    #: One provider (and source) per assignment of indexes to the routed packages.
    providers: dict[Assignment, tuple[PythonProvider, PackageSource]] = {}
    with prefetching(concurrency) as executor:

        def provider_for(fork: MarkerSet) -> tuple[PythonProvider, PackageSource]:
            assignment = routes.assignment(fork, space) if routes is not None else ()
            found = providers.get(assignment)
            if found is None:
                view = routes.source(dict(assignment)) if routes is not None else source
                made = PythonProvider(
                    view, requirements, env=environment(fork),
                    constraints=constraints, overrides=overrides, excludes=excludes,
                    prerelease=prerelease, prerelease_packages=prerelease_packages,
                    builder=builder, executor=executor, choices=choices,
                )
                made.candidates.preferred = preferred
                found = providers[assignment] = (made, view)
            return found

        # Each part is inside each required environment, or outside it; the parts outside
        # come first, so that what a required environment rules out there stays newest
        # elsewhere.
        pending = _cut([space], [~where for where, _text in needed])
        if routes is not None:
            pending = _cut(pending, routes.cuts())
        while pending:
            fork = pending.pop(0)
            if solved + len(pending) >= MAX_FORKS:
                raise ResolutionError(
                    f"the requirements split the environments into more than "
                    f"{MAX_FORKS} parts",
                    hint="narrow the requirements' markers, or resolve for one "
                    "environment without `--universal`",
                )
            provider, view = provider_for(fork)
            provider.restart(environment(fork))
            try:
                decisions = solve(provider, ROOT, Point(Version("0")))
            except ForkRequired as split:
                pending[0:0] = split.regions
                continue
            except NoSolution as failure:
                raise unsatisfiable(
                    failure, provider, view, where=_described(fork, space)
                ) from None
            solved += 1
            _collect(decisions, provider, fork, pins, edges)
    ordered = sorted(pins.values(), key=lambda pin: (pin.package.name, pin.package.version))
    warnings: dict[str, None] = {}
    for provider, _view in providers.values():
        warnings.update(provider.warnings)
    return UniversalResolution(
        pins=tuple(_finish(pin, space) for pin in ordered),
        dependencies=tuple(
            Dependency(parent, child, requirement)
            for (parent, child), requirement in edges.items()
        ),
        warnings=tuple(warnings),
    )


#: Which index each routed package comes from in one part of the space (None: no pin),
#: sorted by name.
Assignment = tuple[tuple[NormalizedName, "str | None"], ...]


class SourceRoutes:
    """Packages pinned to different indexes in different environments (``index = "..."``
    sources with a marker, or of an extra or a group), for a universal resolution.

    The space is split along the markers of the pins before solving, so that in each part
    every routed package comes from one index (or from none: the ordinary indexes)."""

    def __init__(
        self,
        pins: Mapping[NormalizedName, tuple[tuple[Marker | None, str], ...]],
        source: Callable[[Mapping[NormalizedName, str | None]], PackageSource],
    ) -> None:
        #: Each routed package's pins: (where, index name); where None means everywhere.
        self.pins = pins
        #: The package source in which each package of an assignment comes from its index.
        self.source = source

    def cuts(self) -> list[MarkerSet]:
        """Every pin's marker: where the space is cut."""
        found = {marker_set(marker) for entries in self.pins.values() for marker, _ in entries}
        return sorted(found, key=lambda m: m.text())

    def assignment(self, fork: MarkerSet, space: MarkerSet) -> Assignment:
        """The index of each routed package in ``fork`` (a part of a region)."""
        found: list[tuple[NormalizedName, str | None]] = []
        for name in sorted(self.pins):
            indexes = sorted({
                index for marker, index in self.pins[name]
                if fork.overlaps(marker_set(marker))
            })
            if len(indexes) > 1:
                listed = ", ".join(f"`{index}`" for index in indexes)
                raise KilnError(
                    f"`{name}` is pinned to more than one index ({listed}) where "
                    f"{_described(fork, space)}",
                    hint="give its `index` sources markers that do not overlap, or declare "
                    "the extras or groups that pin it differently as `conflicts`",
                )
            found.append((name, indexes[0] if indexes else None))
        return tuple(found)


def _cut(regions: list[MarkerSet], cuts: Sequence[MarkerSet]) -> list[MarkerSet]:
    """``regions`` cut along each of ``cuts``: every piece is inside or outside each."""
    for cut in cuts:
        regions = [
            piece
            for region in regions
            for piece in (region & cut, region & ~cut)
            if not piece.is_false()
        ]
    return regions


def _space(python: Version, environments: Sequence[Marker]) -> MarkerSet:
    """Every environment from the Python floor up, limited to ``environments`` if any."""
    space = python_at_least(release(f"{python.major}.{python.minor}"))
    if environments:
        allowed = MarkerSet.false()
        for marker in environments:
            allowed = allowed | marker_set(marker)
        space = space & allowed
    return space


def _finish(pin: _Pin, space: MarkerSet) -> ResolvedPackage:
    package = pin.package
    marker = pin.marker.pep508(space)
    if marker is None:
        # The environments of this pin involve the opposite of `===`, which PEP 508 cannot
        # say: no marker written would mean what the resolution found.
        unwritable = next(
            (atom for atom in pin.marker.opaque_comparisons() if " === " in atom), "==="
        )
        raise KilnError(
            f"cannot write the marker of `{package.name}=={package.version}` in PEP 508: "
            f"it has no opposite of `{unwritable}`",
            hint="compare with `==` instead of `===` in the requirements' markers",
        )
    return ResolvedPackage(
        name=package.name, version=package.version, file=package.file,
        extras=frozenset(pin.extras), direct_url=package.direct_url, marker=marker,
    )


def _described(fork: MarkerSet, space: MarkerSet) -> str:
    """The environments of ``fork`` for a message: its PEP 508 marker, or, when PEP 508
    cannot write it, what it says in words; nothing when the fork is every environment."""
    marker = fork.pep508(space)
    if marker is not None:
        return f"`{marker}`" if marker else ""
    return f"{fork.text(space)} (no PEP 508 marker says this: it has no opposite of `===`)"


def _collect(
    decisions: Mapping[Package, Point],
    provider: PythonProvider,
    fork: MarkerSet,
    pins: dict[tuple[NormalizedName, Version, str | None], _Pin],
    edges: dict[tuple[NormalizedName | None, NormalizedName], Requirement],
) -> None:
    """Add one fork's solution: each package with the environments that reach it."""
    reach = _reach(decisions, provider, fork)
    extras: dict[NormalizedName, set[NormalizedName]] = {}
    for package in reach:
        if package.extra is not None:
            extras.setdefault(package.name, set()).add(package.extra)
    for package, point in decisions.items():
        provider.preferred.setdefault(package.name, set()).add(point.version)
        marker = reach.get(package)
        if package.is_root or package.extra is not None or marker is None:
            continue
        direct = provider.direct_file(package.name)
        url = None if direct is None else direct.url
        file = provider.selected[(package.name, point)]
        # One version from two indexes (routed differently by fork) is two pins.
        key = (package.name, point.version, url if url is not None else f"index:{file.index}")
        wanted = extras.get(package.name, set())
        pin = pins.get(key)
        if pin is None:
            resolved = ResolvedPackage(
                name=package.name, version=point.version, file=file, direct_url=url,
            )
            pins[key] = _Pin(resolved, marker, set(wanted))
        else:
            pin.marker = pin.marker | marker
            pin.extras |= wanted
    for (package, point), package_edges in provider.edges.items():
        if decisions.get(package) != point or package not in reach:
            continue
        parent = None if package.is_root else package.name
        for edge in package_edges:
            if Package(edge.child) in reach:
                edges.setdefault((parent, edge.child), edge.requirement)


def _reach(
    decisions: Mapping[Package, Point], provider: PythonProvider, fork: MarkerSet
) -> dict[Package, MarkerSet]:
    """For each package of the solution, the environments of ``fork`` where a chain of
    requirements from the user leads to it (the fixed point over the graph)."""
    reach: dict[Package, MarkerSet] = {ROOT: fork}
    changed = True

    def widen(target: Package, marker: MarkerSet) -> None:
        nonlocal changed
        if target not in decisions or marker.is_false():
            return
        known = reach.get(target)
        if known is None:
            reach[target] = marker
            changed = True
        elif not marker.implies(known):
            reach[target] = known | marker
            changed = True

    while changed:
        changed = False
        for (package, point), package_edges in provider.edges.items():
            here = reach.get(package)
            if here is None or decisions.get(package) != point:
                continue
            extra = package.extra or ""
            for edge in package_edges:
                marker = here & marker_set(edge.requirement.marker, extra)
                widen(Package(edge.child), marker)
                for name in edge.requirement.extras:
                    widen(Package(edge.child, canonicalize_name(name)), marker)
            if package.extra is not None:
                widen(package.base, here)
    return reach
