"""Candidate selection: which versions of a package the solver tries, best first, and
which file of a version is used.

Versions come in the source's preferred order (index priority under
``unsafe-first-match``) or highest first, stable releases before pre-releases unless a
requirement names one; a version another fork of a universal resolution chose goes
first. A version's file is its compatible wheel with the best tag, else an sdist; yanked
files count only when the user's own requirement pins that exact version, and a file's
``requires-python`` must admit the target Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, NamedTuple

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.resolver import errors
from kiln.core.resolver.direct import DirectReferences
from kiln.core.resolver.environment import ResolverEnvironment
from kiln.core.resolver.packages import Package
from kiln.core.resolver.requested import RequestLog, yanked_allowed
from kiln.core.resolver.versions import Point, VersionRange
from kiln.core.types import BuildChoices, DistFile, PackageSource
from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.core.resolver.prefetch import Prefetcher
    from kiln.core.types import PrereleaseMode

#: How many candidates of a package get their metadata fetched ahead of need.
PREFETCH_DEPTH = 2


class FileChoice(NamedTuple):
    """The best file of a version, or why none can be used."""

    file: DistFile | None
    reason: str = ""


def python_supports(specifiers: SpecifierSet | None, python: Version) -> bool:
    """``requires-python`` check on the release only (3.13.0b1 counts as 3.13.0)."""
    if specifiers is None:
        return True
    return specifiers.contains(_release(python), prereleases=True)


@lru_cache(maxsize=32)
def _release(python: Version) -> Version:
    return Version(".".join(str(part) for part in python.release))


#: No restriction on the kinds of files.
ANY_FILE = BuildChoices()


def choose_file(
    files: Sequence[DistFile],
    env: ResolverEnvironment,
    *,
    allow_yanked: bool,
    choices: BuildChoices = ANY_FILE,
) -> FileChoice:
    """Prefer the compatible wheel with the best tag, then an sdist; ``choices`` may
    forbid either kind (``--no-binary``, ``--only-binary``, ``--no-build``)."""
    if files and not choices.is_default:
        name = files[0].name
        kinds = [
            f for f in files
            if (choices.wheels_allowed(name) if f.is_wheel else choices.builds_allowed(name))
        ]
        if not kinds:
            return FileChoice(
                None,
                errors.wheels_disabled() if any(f.is_wheel for f in files)
                else errors.building_disabled(),
            )
        if not choices.builds_allowed(name):
            chosen = choose_file(kinds, env, allow_yanked=allow_yanked)
            if chosen.file is None and any(not f.is_wheel for f in files):
                without = choose_file(files, env, allow_yanked=allow_yanked)
                if without.file is not None:  # an sdist would have done
                    return FileChoice(None, errors.building_disabled())
            return chosen
        files = kinds
    usable = [f for f in files if allow_yanked or f.yanked is None]
    if not usable:
        reasons = {f.yanked for f in files if f.yanked}
        return FileChoice(None, errors.yanked(sorted(reasons)[0] if reasons else None))
    python = env.python_version
    supported = [f for f in usable if python_supports(f.requires_python, python)]
    if not supported:
        specifiers = next(f.requires_python for f in usable if f.requires_python is not None)
        return FileChoice(None, errors.python_unsupported(specifiers, python))
    best: tuple[int, DistFile] | None = None
    for file in supported:
        if file.tags is None:
            continue
        ranks = [r for r in (env.tag_rank(tag) for tag in file.tags) if r is not None]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), file)
    if best is not None:
        return FileChoice(best[1])
    sdists = [f for f in supported if f.tags is None]
    if sdists:
        return FileChoice(sdists[0])
    return FileChoice(None, errors.no_compatible_file())


class Candidates:
    """The versions of each package in the order they are tried, with the file of each.

    Pages and direct references are kept for the whole resolution; what depends on the
    environment is dropped by :meth:`restart` when a fork's Python differs."""

    def __init__(
        self,
        source: PackageSource,
        prefetcher: Prefetcher,
        *,
        env: ResolverEnvironment,
        narrowed: Mapping[NormalizedName, SpecifierSet],
        requested: RequestLog,
        direct: DirectReferences,
        prerelease: PrereleaseMode,
        dependencies: bool,
        prerelease_packages: Mapping[NormalizedName, PrereleaseMode] | None = None,
        user_requirements: Sequence[Requirement] = (),
        choices: BuildChoices = ANY_FILE,
    ) -> None:
        self.source = source
        #: Which kinds of file each package may use (``--no-binary``, ``--no-build``).
        self.choices = choices
        self.prefetcher = prefetcher
        self.env = env
        self.narrowed = narrowed
        self.requested = requested
        self.direct = direct
        self.prerelease = prerelease
        #: ``--prerelease-package``: a mode per package, instead of ``prerelease``.
        self.prerelease_packages = dict(prerelease_packages or {})
        #: The user's requirements, constraints and overrides: their exact pins allow
        #: yanked versions.
        self.user_requirements = tuple(user_requirements)
        self._yanked_allowed = yanked_allowed(self.user_requirements, env)
        #: False for ``--no-deps``: only sdists need their metadata fetched ahead.
        self.dependencies = dependencies
        self._versions: dict[NormalizedName, dict[Point, list[DistFile]]] = {}
        self._unnarrowed: dict[NormalizedName, list[Point]] = {}
        self._preferences: dict[tuple[NormalizedName, bool], list[Point]] = {}
        self._preference_sets: dict[tuple[NormalizedName, bool], frozenset[Point]] = {}
        #: The position of each point in its preference order.
        self._positions: dict[tuple[NormalizedName, bool], dict[Point, int]] = {}
        self._choices: dict[tuple[NormalizedName, Version, bool], FileChoice] = {}
        self._choices_python = env.python_version
        self._chosen: dict[NormalizedName, Point] = {}
        #: Versions other forks of a universal resolution chose: the highest that fits is
        #: tried first, so that forks differ only where they must.
        self.preferred: dict[NormalizedName, set[Version]] = {}

    def restart(self, env: ResolverEnvironment) -> None:
        """Start a solve for ``env``: file choices stay valid while its Python does."""
        self.env = env
        self._chosen = {}
        self._yanked_allowed = yanked_allowed(self.user_requirements, env)
        if env.python_version != self._choices_python:
            self._choices = {}
            self._choices_python = env.python_version

    # -- versions -----------------------------------------------------------------------------

    def versions(self, name: NormalizedName) -> dict[Point, list[DistFile]]:
        """Known versions of ``name`` (best first) with their files."""
        known = self._versions.get(name)
        if known is not None:
            return known
        direct = self.direct.get(name)
        if direct is not None:
            known = {Point(direct.file.version): [direct.file]}
        else:
            # Group by version first: one Point per version, not one per file.
            grouped: dict[Version, list[DistFile]] = {}
            for file in self.prefetcher.files(name):
                grouped.setdefault(file.version, []).append(file)
            by_version = {Point(version): files for version, files in grouped.items()}
            known = self._ordered(name, by_version)
        self._versions[name] = known
        return known

    def _ordered(
        self, name: NormalizedName, by_version: dict[Point, list[DistFile]]
    ) -> dict[Point, list[DistFile]]:
        """Best version first: the source's preference (index priority under
        ``unsafe-first-match``) when it states one, else highest first."""
        newest_first = sorted(by_version.items(), key=lambda item: item[0], reverse=True)
        preferred = self.source.version_order(name, self.narrowed.get(name))
        if preferred is None:
            return dict(newest_first)
        rank = {version: position for position, version in enumerate(preferred)}
        return dict(sorted(newest_first, key=lambda item: rank.get(item[0].version, len(rank))))

    def known_versions(self, name: NormalizedName) -> list[Point]:
        """Every version of ``name`` the source has, for explaining a failure: for a
        pinned package that means asking again without the narrowing."""
        try:
            if name in self.narrowed and name not in self.direct:
                found = self._unnarrowed.get(name)
                if found is None:
                    versions = {file.version for file in self.source.files(name)}
                    found = self._unnarrowed[name] = sorted(map(Point, versions), reverse=True)
                return found
            return list(self.versions(name))
        except KilnError:
            return []

    def forget(self, name: NormalizedName) -> None:
        """Drop what was derived from ``name``'s index files (a direct reference replaced
        them)."""
        self._versions.pop(name, None)
        for key in [k for k in self._preferences if k[0] == name]:
            del self._preferences[key]
            self._preference_sets.pop(key, None)
            self._positions.pop(key, None)
        for choice_key in [k for k in self._choices if k[0] == name]:
            del self._choices[choice_key]

    # -- order of preference ------------------------------------------------------------------

    def prerelease_mode(self, name: NormalizedName) -> PrereleaseMode:
        """The pre-release mode of ``name``: its own (``--prerelease-package``), else the
        resolution's (``--prerelease``)."""
        return self.prerelease_packages.get(name, self.prerelease)

    def _allows_prereleases(self, name: NormalizedName) -> bool:
        return self.prerelease_mode(name) == "allow" or self.requested.names_prerelease(name)

    def _preference_order(self, name: NormalizedName) -> list[Point]:
        allows = self._allows_prereleases(name)
        key = (name, allows)
        cached = self._preferences.get(key)
        if cached is not None:
            return cached
        versions = list(self.versions(name))
        if allows:
            order = versions
        else:
            stable = [v for v in versions if not v.is_prerelease]
            if self.prerelease_mode(name) in ("disallow", "explicit"):
                order = stable
            else:
                order = stable + [v for v in versions if v.is_prerelease]
        self._preferences[key] = order
        return order

    def choose(self, package: Package, versions: VersionRange) -> Point | None:
        """The version of ``package`` to try next within ``versions``; the metadata of it
        (and of the runner-up when that is a wheel) is fetched ahead."""
        name = package.name
        if package.extra is not None:
            chosen = self._chosen.get(name)
            if chosen is not None and versions.contains(chosen):
                return chosen
        # Only the first few allowed versions matter: the best, plus the next ones whose
        # metadata is worth fetching ahead in case the best one gets rejected.
        order = list(islice(
            (v for v in self._preference_order(name) if versions.contains(v)), PREFETCH_DEPTH
        ))
        if not order:
            return None
        preferred = self._preferred(name, versions)
        if preferred is not None and preferred != order[0]:
            # A preference never hides a split on Python versions: a newer version that
            # suits the fork's newer Pythons splits the fork first.
            for point in self._preference_order(name):
                if point == preferred:
                    break
                if versions.contains(point):
                    self._split_on_python(name, point)
            order.insert(0, preferred)
        self._split_on_python(name, order[0])
        for position, point in enumerate(order):
            choice = self.file_for(name, point)
            if choice is None:
                continue
            if position == 0:  # needed now (an sdist's metadata even with --no-deps)
                if self.dependencies or not choice.is_wheel:
                    self.prefetcher.prefetch_metadata(choice)
            elif self.dependencies and choice.is_wheel:
                # A runner-up only in case the best is rejected: a wheel's metadata is one
                # request, an sdist's may be a build, which is never done on speculation.
                self.prefetcher.prefetch_metadata(choice)
        self._chosen[name] = order[0]
        return order[0]

    def next_needs_source(self, name: NormalizedName) -> bool:
        """Whether the version tried after the last one chosen for ``name`` (in the order
        of preference) has only a source distribution, whose metadata may take a build."""
        chosen = self._chosen.get(name)
        if chosen is None:
            return False
        key = (name, self._allows_prereleases(name))
        order = self._preference_order(name)
        positions = self._positions.get(key)
        if positions is None:
            positions = self._positions[key] = {point: i for i, point in enumerate(order)}
        start = positions.get(chosen)
        if start is None:
            return False
        for index in range(start + 1, len(order)):
            file = self.file_for(name, order[index])
            if file is not None:
                return file.tags is None
        return False

    def _split_on_python(self, name: NormalizedName, point: Point) -> None:
        """In a universal resolution, fork when ``point`` suits only the newer Pythons."""
        if not self.env.concrete and self.file_for(name, point) is None:
            files = self.versions(name)[point]
            self.env.split_python([f.requires_python for f in files if f.yanked is None])

    def _preferred(self, name: NormalizedName, versions: VersionRange) -> Point | None:
        known = self.preferred.get(name)
        if not known:
            return None
        allowed = self._allowed_points(name)
        for version in sorted(known, reverse=True):
            point = Point(version)
            if versions.contains(point) and point in allowed and self.file_for(name, point):
                return point
        return None

    def _allowed_points(self, name: NormalizedName) -> frozenset[Point]:
        """The members of :meth:`_preference_order`, as a set (made once per order)."""
        key = (name, self._allows_prereleases(name))
        allowed = self._preference_sets.get(key)
        if allowed is None:
            allowed = self._preference_sets[key] = frozenset(self._preference_order(name))
        return allowed

    # -- files --------------------------------------------------------------------------------

    def file_for(self, name: NormalizedName, point: Point) -> DistFile | None:
        return self.choice(name, point).file

    def choice(self, name: NormalizedName, point: Point) -> FileChoice:
        """The file to use for ``name`` at ``point`` (yanked files only when the user pins
        that version)."""
        pinned = point.version in self._yanked_allowed.get(name, ())
        key = (name, point.version, pinned)
        choice = self._choices.get(key)
        if choice is None:
            choice = choose_file(self.versions(name).get(point, []), self.env,
                                 allow_yanked=pinned, choices=self.choices)
            self._choices[key] = choice
        return choice
