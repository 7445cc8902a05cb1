"""The resolver entry point: requirements in, pinned packages out."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager

from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.errors import ResolutionError
from kiln.core.resolver.formatting import PackageFormatter
from kiln.core.resolver.packages import ROOT, Package
from kiln.core.resolver.provider import MetadataBuilder, PythonProvider
from kiln.core.resolver.pubgrub import NoSolution, explain, solve
from kiln.core.resolver.resolution import Dependency, Resolution, ResolvedPackage
from kiln.core.resolver.versions import Point
from kiln.core.types import BuildChoices, PackageSource, PrereleaseMode

#: Threads fetching index pages and metadata ahead of the solver.
DEFAULT_CONCURRENCY = 16


def resolve(
    requirements: Sequence[Requirement],
    source: PackageSource,
    *,
    env: TargetEnvironment | None = None,
    constraints: Sequence[Requirement] = (),
    overrides: Sequence[Requirement] = (),
    excludes: Collection[NormalizedName] = (),
    prerelease: PrereleaseMode = "if-necessary",
    prerelease_packages: Mapping[NormalizedName, PrereleaseMode] | None = None,
    builder: MetadataBuilder | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    dependencies: bool = True,
    choices: BuildChoices | None = None,
    preferences: Mapping[NormalizedName, Collection[Version]] | None = None,
) -> Resolution:
    """Pick one version of every package needed by ``requirements`` for ``env``.

    ``overrides`` replace every requirement on their names; requirements on ``excludes``
    are dropped. ``preferences``: versions tried first (an existing output file's pins).
    ``choices`` says which kinds of file (wheels, sdists) each package may use.

    With ``dependencies`` false (``--no-deps``), packages from an index are chosen by
    their files alone: their metadata is never fetched.

    Raises :class:`ResolutionError` (a ``KilnError``) with a step-by-step explanation
    when no set of versions works; errors of ``source`` propagate unchanged.
    """
    target = env if env is not None else TargetEnvironment.current()
    with prefetching(concurrency) as executor:
        provider = PythonProvider(
            source,
            requirements,
            env=target,
            constraints=constraints,
            overrides=overrides,
            excludes=excludes,
            prerelease=prerelease,
            prerelease_packages=prerelease_packages,
            builder=builder,
            executor=executor,
            dependencies=dependencies,
            choices=choices,
        )
        for name, versions in (preferences or {}).items():
            provider.preferred.setdefault(name, set()).update(versions)
        try:
            decisions = solve(provider, ROOT, Point(Version("0")))
        except NoSolution as failure:
            raise unsatisfiable(failure, provider, source) from None
    return _build(decisions, provider)


@contextmanager
def prefetching(concurrency: int) -> Iterator[Executor | None]:
    """The threads that fetch pages and metadata ahead of the solver (None for none);
    work still queued when the resolution ends is dropped."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as executor:
        try:
            yield executor if concurrency > 1 else None
        finally:
            executor.shutdown(wait=False, cancel_futures=True)


def unsatisfiable(
    failure: NoSolution[Package, Point],
    provider: PythonProvider,
    source: PackageSource,
    *,
    where: str = "",
) -> ResolutionError:
    """The error for a failed solve: its explanation, with the source's hints and, for
    part of a universal resolution, which environments it was for (``where``: a marker in
    backticks, or words)."""
    formatter = PackageFormatter(provider.known_versions)
    lines = list(source.resolution_hints())
    if where:
        lines.insert(0, f"this is for the environments where {where}")
    return ResolutionError(
        explain(failure.incompatibility, formatter), hint="\n".join(lines) or None
    )


def _build(decisions: dict[Package, Point], provider: PythonProvider) -> Resolution:
    extras: dict[NormalizedName, set[NormalizedName]] = {}
    for package in decisions:
        if package.extra is not None:
            extras.setdefault(package.name, set()).add(package.extra)
    packages: dict[NormalizedName, ResolvedPackage] = {}
    for package, point in decisions.items():
        if package.is_root or package.extra is not None:
            continue
        direct = provider.direct_file(package.name)
        packages[package.name] = ResolvedPackage(
            name=package.name,
            version=point.version,
            file=provider.selected[(package.name, point)],
            extras=frozenset(extras.get(package.name, ())),
            direct_url=None if direct is None else direct.url,
        )
    dependencies: list[Dependency] = []
    seen: set[tuple[NormalizedName | None, NormalizedName]] = set()
    for package, point in decisions.items():
        for edge in provider.edges.get((package, point), ()):
            parent = None if package.is_root else package.name
            if edge.child not in packages or (parent, edge.child) in seen:
                continue
            seen.add((parent, edge.child))
            dependencies.append(Dependency(parent, edge.child, edge.requirement))
    return Resolution(packages, tuple(dependencies), tuple(provider.warnings))
