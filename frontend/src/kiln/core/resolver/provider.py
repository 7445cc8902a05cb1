"""The Python-packaging dependency provider: the solver's questions, answered by the
modules that own each part of the answer.

:mod:`~kiln.core.resolver.prefetch` fetches pages and metadata ahead of the solver,
:mod:`~kiln.core.resolver.candidates` orders the versions of a package and picks the file
of each, :mod:`~kiln.core.resolver.expansion` turns a version's requirements into terms,
:mod:`~kiln.core.resolver.direct` holds direct references and
:mod:`~kiln.core.resolver.requested` what requirements say about each name. This module
wires them together for one resolution (re-started for each fork of a universal one);
:mod:`~kiln.core.resolver.priorities` decides which package the solver looks at next.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Protocol

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.resolver.candidates import Candidates
from kiln.core.resolver.direct import DirectReferences
from kiln.core.resolver.environment import ResolverEnvironment
from kiln.core.resolver.expansion import Edge, Expander
from kiln.core.resolver.packages import Package
from kiln.core.resolver.prefetch import Prefetcher
from kiln.core.resolver.priorities import Priorities
from kiln.core.resolver.pubgrub import Reprioritized, Unavailable
from kiln.core.resolver.requested import RequestLog, pinned_versions
from kiln.core.resolver.versions import Point, VersionRange
from kiln.core.types import BuildChoices, DistFile, PackageSource, PrereleaseMode

if TYPE_CHECKING:
    from packaging.metadata import Metadata



class MetadataBuilder(Protocol):
    """Obtains metadata that needs a build: sdists and direct references (``name @ url``).

    The resolver's seam to the build service: kiln implements it with
    :class:`kiln.core.builder.sourcebuilder.SourceBuilder`, which fetches and builds through
    the same :class:`~kiln.core.builder.service.BuildContext` as ``kiln build`` and the
    installer. The resolver imports nothing of the builder.
    """

    def sdist_metadata(self, file: DistFile) -> Metadata:
        """The core metadata of the source distribution ``file``."""
        ...

    def direct_reference(self, name: NormalizedName, url: str) -> tuple[DistFile, Metadata]:
        """The file ``url`` points to (any archive, VCS or directory) and its metadata."""
        ...


class PythonProvider:
    """Answers the solver's questions from a :class:`PackageSource`."""

    def __init__(
        self,
        source: PackageSource,
        requirements: Sequence[Requirement],
        *,
        env: ResolverEnvironment,
        constraints: Sequence[Requirement] = (),
        overrides: Sequence[Requirement] = (),
        excludes: Collection[NormalizedName] = (),
        prerelease: PrereleaseMode = "if-necessary",
        prerelease_packages: Mapping[NormalizedName, PrereleaseMode] | None = None,
        builder: MetadataBuilder | None = None,
        executor: Executor | None = None,
        dependencies: bool = True,
        choices: BuildChoices | None = None,
    ) -> None:
        by_name: dict[NormalizedName, list[Requirement]] = {}
        for override in overrides:
            by_name.setdefault(canonicalize_name(override.name), []).append(override)
        for name in excludes:  # overridden by nothing: every requirement on it vanishes
            by_name[name] = []
        narrowed = pinned_versions([*requirements, *constraints], env, by_name)
        requested = RequestLog()
        self.direct = DirectReferences(source, builder)
        self.prefetcher = Prefetcher(
            source, env=env, narrowed=narrowed, requested=requested, direct=self.direct,
            builder=builder, executor=executor, dependencies=dependencies,
        )
        if choices is not None:
            self.prefetcher.choices = choices
        self.candidates = Candidates(
            source, self.prefetcher, env=env, narrowed=narrowed, requested=requested,
            direct=self.direct, prerelease=prerelease, dependencies=dependencies,
            prerelease_packages=prerelease_packages or {},
            user_requirements=[*requirements, *constraints, *overrides],
            choices=self.prefetcher.choices,
        )
        self.expander = Expander(
            requirements, constraints, by_name, env=env, candidates=self.candidates,
            prefetcher=self.prefetcher, requested=requested, direct=self.direct,
            sdists_buildable=builder is not None, dependencies=dependencies,
        )
        self.priorities = Priorities()

    def restart(self, env: ResolverEnvironment) -> None:
        """Set up the state of one solve for ``env``. Called again for each fork of a
        universal resolution: pages, metadata and direct references fetched are kept."""
        self.prefetcher.env = env
        self.candidates.restart(env)
        self.expander.restart(env)
        self.priorities = Priorities()

    # -- the solver's questions ---------------------------------------------------------------

    def prioritize(self, package: Package, versions: VersionRange) -> tuple[int, ...]:
        return self.priorities.rank(
            package, versions,
            direct=package.name in self.direct.by_name,  # the dict: this runs very often
            name_order=self.expander.name_order, order=self.expander.order,
        )

    def proxy_of(self, package: Package) -> Package | None:
        return package.base if package.extra is not None else None

    def conflict(
        self, affected: Package, culprits: Sequence[Package]
    ) -> Reprioritized[Package] | None:
        return self.priorities.conflict(
            affected, culprits, next_needs_source=self.candidates.next_needs_source
        )

    def choose_version(self, package: Package, versions: VersionRange) -> Point | None:
        return self.candidates.choose(package, versions)

    def get_dependencies(
        self, package: Package, version: Point
    ) -> Mapping[Package, VersionRange] | Unavailable:
        return self.expander.dependencies_of(package, version)

    # -- the result ---------------------------------------------------------------------------

    @property
    def selected(self) -> Mapping[tuple[NormalizedName, Point], DistFile]:
        """The file picked for each (name, version) that was used in this solve."""
        return self.expander.selected

    @property
    def edges(self) -> Mapping[tuple[Package, Point], Sequence[Edge]]:
        """Dependency edges per (package, version) of this solve, for the graph."""
        return self.expander.edges

    @property
    def warnings(self) -> Mapping[str, None]:
        """Versions passed over for a reason the user should hear (an ordered set)."""
        return self.expander.warnings

    @property
    def preferred(self) -> dict[NormalizedName, set[Version]]:
        """Versions earlier forks chose, tried first by later ones."""
        return self.candidates.preferred

    def known_versions(self, package: Package) -> list[Point]:
        """Every version of ``package`` the source has, for explaining a failure."""
        return [] if package.is_root else self.candidates.known_versions(package.name)

    def direct_file(self, name: NormalizedName) -> DistFile | None:
        direct = self.direct.get(name)
        return None if direct is None else direct.file

