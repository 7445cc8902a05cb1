"""The Python-packaging dependency provider: PEP 440, markers, extras, files, metadata."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import Version

from kiln.core.resolver.candidates import FileChoice, choose_file, python_supports
from kiln.core.resolver.environment import ResolverEnvironment
from kiln.core.resolver.errors import ResolutionError
from kiln.core.resolver.formatting import format_range
from kiln.core.resolver.packages import ROOT, Package
from kiln.core.resolver.pubgrub import Range, Unavailable
from kiln.core.resolver.versions import (
    Point,
    VersionRange,
    exact,
    mentions_prerelease,
    specifier_set_range,
)
from kiln.core.types import DistFile, PackageSource
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.metadata import Metadata

PrereleaseMode = Literal["if-necessary", "allow", "disallow", "explicit"]

T = TypeVar("T")
K = TypeVar("K")

#: How many candidates of a package get their metadata fetched ahead of need.
PREFETCH_DEPTH = 2


class MetadataBuilder(Protocol):
    """Obtains metadata that needs a build: sdists and direct references (``name @ url``)."""

    def sdist_metadata(self, file: DistFile) -> Metadata:
        """The core metadata of the source distribution ``file``."""
        ...

    def direct_reference(self, name: NormalizedName, url: str) -> tuple[DistFile, Metadata]:
        """The file ``url`` points to (any archive, VCS or directory) and its metadata."""
        ...


class _Excluded(Exception):
    """A version's requirement falls outside the constraints; ``args[0]`` says how."""


@dataclass(frozen=True)
class Edge:
    """``parent`` requires ``requirement`` (after markers, overrides and extras)."""

    parent: Package
    child: NormalizedName
    requirement: Requirement


@dataclass
class _Direct:
    file: DistFile
    metadata: Metadata


@dataclass
class _Requested:
    """What the requirements seen so far say about one name."""

    prerelease: bool = False
    pins: set[Version] = field(default_factory=set)
    extras: set[str] = field(default_factory=set)


def _done(value: T) -> Future[T]:
    future: Future[T] = Future()
    future.set_result(value)
    return future


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
        prerelease: PrereleaseMode = "if-necessary",
        builder: MetadataBuilder | None = None,
        executor: Executor | None = None,
        dependencies: bool = True,
    ) -> None:
        self.source = source
        self.env = env
        #: False for ``--no-deps``: a version from an index needs no metadata at all (its
        #: wheel's own ``Requires-Python`` is checked when it is installed).
        self.dependencies = dependencies
        self.prerelease = prerelease
        self.builder = builder
        self.executor = executor
        self._given = (tuple(requirements), tuple(constraints))
        self._requested: dict[NormalizedName, _Requested] = {}
        self.overrides: dict[NormalizedName, list[Requirement]] = {}
        for override in overrides:
            self.overrides.setdefault(canonicalize_name(override.name), []).append(override)
        self._narrowed = _pinned_versions([*requirements, *constraints], env, self.overrides)
        self._unnarrowed: dict[NormalizedName, list[Point]] = {}
        self._lock = threading.Lock()
        self._files: dict[NormalizedName, Future[Sequence[DistFile]]] = {}
        self._versions: dict[NormalizedName, dict[Point, list[DistFile]]] = {}
        self._preferences: dict[tuple[NormalizedName, bool], list[Point]] = {}
        self._preference_sets: dict[tuple[NormalizedName, bool], frozenset[Point]] = {}
        self._choices: dict[tuple[NormalizedName, Version, bool], FileChoice] = {}
        self._metadata: dict[str, Future[Metadata]] = {}
        self._direct: dict[NormalizedName, _Direct] = {}
        self._choices_python = env.python_version
        #: Versions other forks of a universal resolution chose: the highest that fits is
        #: tried first, so that forks differ only where they must.
        self.preferred: dict[NormalizedName, set[Version]] = {}
        #: Versions passed over because their metadata could not be had or read, with
        #: why (an ordered set: each is reported once, in the order met).
        self.warnings: dict[str, None] = {}
        self.restart(env)

    def restart(self, env: ResolverEnvironment) -> None:
        """Set up the state of one solve for ``env``. Called again for each fork of a
        universal resolution: pages, metadata and direct references fetched are kept."""
        self.env = env
        requirements, constraints = self._given
        self.requirements = [r for r in requirements if env.evaluate(r.marker)]
        self.constraints: dict[NormalizedName, VersionRange] = {}
        for constraint in constraints:
            if env.evaluate(constraint.marker):
                name = canonicalize_name(constraint.name)
                current = self.constraints.get(name, Range.full())
                self.constraints[name] = current.intersection(
                    specifier_set_range(constraint.specifier)
                )
                self._note(name, constraint)
        self._order: dict[Package, int] = {ROOT: 0}
        self._chosen: dict[NormalizedName, Point] = {}
        #: The file picked for each (name, version) that was used.
        self.selected: dict[tuple[NormalizedName, Point], DistFile] = {}
        #: Dependency edges per (package, version), for the resolution graph.
        self.edges: dict[tuple[Package, Point], list[Edge]] = {}
        for requirement in self.requirements:
            self._note(canonicalize_name(requirement.name), requirement)
        if env.python_version != self._choices_python:
            self._choices = {}
            self._choices_python = env.python_version

    # -- background work ----------------------------------------------------------------------

    def _submit(self, function: Callable[[], T]) -> Future[T]:
        if self.executor is None:
            future: Future[T] = Future()
            try:
                future.set_result(function())
            except BaseException as exc:
                future.set_exception(exc)
            return future
        try:
            return self.executor.submit(function)
        except RuntimeError:
            # The executor shut down (the resolution ended while speculative work was
            # still finishing): hand back a cancelled future, which ``_now`` runs inline.
            unstarted: Future[T] = Future()
            unstarted.cancel()
            return unstarted

    def prefetch_files(self, name: NormalizedName) -> None:
        """Start fetching the files of ``name`` in the background (once per name)."""
        with self._lock:
            if name in self._files or name in self._direct:
                return
            pins = self._pins(name)
            if self.executor is None:
                self._files[name] = self._submit(
                    lambda: self.source.files(name, self._narrowed.get(name))
                )
                return
            future: Future[Sequence[DistFile]] = Future()
            self._files[name] = future
        self._submit(lambda: self._fetch_files(name, pins, future))

    def _fetch_files(
        self, name: NormalizedName, pins: frozenset[Version], future: Future[Sequence[DistFile]]
    ) -> None:
        """A worker's job: the files of ``name`` into ``future``, then the guess's metadata.

        When the solver needed the files before a worker got to this job, it cancelled
        ``future`` and did the work itself; the job then has nothing to do."""
        if not future.set_running_or_notify_cancel():
            return
        try:
            files = self.source.files(name, self._narrowed.get(name))
        except BaseException as exc:
            future.set_exception(exc)
            return
        future.set_result(files)
        if self.dependencies:
            self._guess(name, files, pins, inline=True)

    def _pins(self, name: NormalizedName) -> frozenset[Version]:
        requested = self._requested.get(name)
        return frozenset(requested.pins) if requested is not None else frozenset()

    def _guess(
        self,
        name: NormalizedName,
        files: Sequence[DistFile],
        pins: frozenset[Version],
        *,
        inline: bool,
    ) -> None:
        """Speculation: fetch the metadata of the solver's most likely choice for ``name``
        (the highest pinned version, else the newest final release) when it is a wheel,
        so that the solver does not wait a round trip per level of the dependency tree.

        ``inline`` does it in the calling worker thread, right after the page: work
        queued behind other pages would wait for a free thread, and this metadata is
        what the next level of pages depends on."""
        finals = [f.version for f in files if f.version in pins] or [
            f.version for f in files if not f.version.is_prerelease
        ]
        if not finals:
            return
        newest = max(finals)
        candidates = [f for f in files if f.version == newest]
        choice = choose_file(candidates, self.env, allow_yanked=False).file
        if choice is None or not choice.is_wheel:
            return
        if inline:
            guess = self._claim(self._metadata, choice.url, lambda: self._fetch_metadata(choice))
        else:
            guess = self._prefetch_metadata(choice)
        guess.add_done_callback(lambda done: self._prefetch_requirements(name, done))

    def _claim(self, futures: dict[K, Future[T]], key: K, function: Callable[[], T]) -> Future[T]:
        """``futures[key]``, computed here and now by the calling thread unless another
        thread already started (or finished) it."""
        with self._lock:
            future = futures.get(key)
            if future is not None:
                return future
            future = Future()
            future.set_running_or_notify_cancel()
            futures[key] = future
        try:
            future.set_result(function())
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def _prefetch_requirements(self, name: NormalizedName, done: Future[Metadata]) -> None:
        """Speculation, one level further: once the likely version's metadata is in, start
        fetching the pages of the packages it requires (for the extras requested so far),
        so the whole likely graph streams in without waiting for the solver's questions.
        A wrong guess costs a few unneeded pages, never a wrong answer."""
        try:
            if done.cancelled() or done.exception() is not None:
                return
            requested = self._requested.get(name)
            extras = ("", *tuple(requested.extras)) if requested is not None else ("",)
            for requirement in done.result().requires_dist or []:
                if requirement.url is None and any(
                    self.env.evaluate(requirement.marker, extra) for extra in extras
                ):
                    self.prefetch_files(canonicalize_name(requirement.name))
        except Exception:  # a failed speculation only loses its head start
            return

    def _solver_files(self, name: NormalizedName) -> Sequence[DistFile]:
        """The files of ``name``, fetched by the solver's thread because no worker had
        started on them; the guess's metadata then goes to the workers."""
        files = self.source.files(name, self._narrowed.get(name))
        if self.executor is not None and self.dependencies:
            self._guess(name, files, self._pins(name), inline=False)
        return files

    def _prefetch_metadata(self, file: DistFile) -> Future[Metadata]:
        with self._lock:
            future = self._metadata.get(file.url)
            if future is None:
                future = self._submit(lambda: self._fetch_metadata(file))
                self._metadata[file.url] = future
            return future

    def _metadata_now(self, file: DistFile) -> Metadata:
        self._prefetch_metadata(file)
        return self._now(self._metadata, file.url, lambda: self._fetch_metadata(file))

    def _now(self, futures: dict[K, Future[T]], key: K, function: Callable[[], T]) -> T:
        """The result of ``futures[key]``. When the work is still queued behind other
        prefetches, the solver does it itself instead of waiting for a free thread."""
        with self._lock:
            future = futures[key]
            if future.cancel():
                future = Future()
                futures[key] = future
                run_here = True
            else:
                run_here = False
        if run_here:
            try:
                future.set_result(function())
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def _fetch_metadata(self, file: DistFile) -> Metadata:
        if file.tags is None and self.builder is not None:
            return self.builder.sdist_metadata(file)
        return self.source.metadata(file)

    # -- candidates ---------------------------------------------------------------------------

    def versions(self, name: NormalizedName) -> dict[Point, list[DistFile]]:
        """Known versions of ``name`` (highest first) with their files."""
        known = self._versions.get(name)
        if known is not None:
            return known
        direct = self._direct.get(name)
        if direct is not None:
            known = {Point(direct.file.version): [direct.file]}
        else:
            self.prefetch_files(name)
            # Group by version first: one Point per version, not one per file.
            grouped: dict[Version, list[DistFile]] = {}
            for file in self._now(self._files, name, lambda: self._solver_files(name)):
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
        preferred = self.source.version_order(name, self._narrowed.get(name))
        if preferred is None:
            return dict(newest_first)
        rank = {version: position for position, version in enumerate(preferred)}
        return dict(sorted(newest_first, key=lambda item: rank.get(item[0].version, len(rank))))

    def _allows_prereleases(self, name: NormalizedName) -> bool:
        if self.prerelease == "allow":
            return True
        requested = self._requested.get(name)
        return requested is not None and requested.prerelease

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
            if self.prerelease in ("disallow", "explicit"):
                order = stable
            else:
                order = stable + [v for v in versions if v.is_prerelease]
        self._preferences[key] = order
        return order

    def choose_version(self, package: Package, versions: VersionRange) -> Point | None:
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
        for point in order:
            choice = self._file_for(name, point)
            if choice is not None and (self.dependencies or not choice.is_wheel):
                self._prefetch_metadata(choice)
        self._chosen[name] = order[0]
        return order[0]

    def _split_on_python(self, name: NormalizedName, point: Point) -> None:
        """In a universal resolution, fork when ``point`` suits only the newer Pythons."""
        if not self.env.concrete and self._file_for(name, point) is None:
            files = self.versions(name)[point]
            self.env.split_python([f.requires_python for f in files if f.yanked is None])

    def _preferred(self, name: NormalizedName, versions: VersionRange) -> Point | None:
        known = self.preferred.get(name)
        if not known:
            return None
        allowed = self._allowed_points(name)
        for version in sorted(known, reverse=True):
            point = Point(version)
            if versions.contains(point) and point in allowed and self._file_for(name, point):
                return point
        return None

    def _allowed_points(self, name: NormalizedName) -> frozenset[Point]:
        """The members of :meth:`_preference_order`, as a set (made once per order)."""
        key = (name, self._allows_prereleases(name))
        allowed = self._preference_sets.get(key)
        if allowed is None:
            allowed = self._preference_sets[key] = frozenset(self._preference_order(name))
        return allowed

    def _file_for(self, name: NormalizedName, point: Point) -> DistFile | None:
        return self._choice(name, point).file

    def _choice(self, name: NormalizedName, point: Point) -> FileChoice:
        """The file to use for ``name`` at ``point`` (yanked files only when pinned)."""
        requested = self._requested.get(name)
        pinned = requested is not None and point.version in requested.pins
        key = (name, point.version, pinned)
        choice = self._choices.get(key)
        if choice is None:
            choice = choose_file(self.versions(name).get(point, []), self.env,
                                 allow_yanked=pinned)
            self._choices[key] = choice
        return choice

    # -- priorities ---------------------------------------------------------------------------

    def prioritize(self, package: Package, versions: VersionRange) -> tuple[int, ...]:
        if package.is_root:
            rank = 5
        elif package.name in self._direct:
            rank = 4
        elif versions.singleton_value() is not None or _is_single_release(versions):
            rank = 3
        elif package.extra is None:
            rank = 2
        else:
            rank = 1
        return (rank, -self._order.get(package, len(self._order)))

    # -- dependencies -------------------------------------------------------------------------

    def get_dependencies(
        self, package: Package, version: Point
    ) -> Mapping[Package, VersionRange] | Unavailable:
        if package.is_root:
            return self._expand(package, version, self.requirements, extra="")
        name = package.name
        if not self.dependencies and name not in self._direct:
            choice = self._choice(name, version)
            if choice.file is not None and choice.file.is_wheel:
                self.selected[(name, version)] = choice.file
                if package.extra is None:
                    return {}
                return {package.base: exact(version.version)}
        if package.extra is not None:
            metadata = self._metadata_for(name, version)
            if isinstance(metadata, Unavailable):
                return metadata
            extra_requirements = [
                r
                for r in metadata.requires_dist or []
                if r.marker is not None and "extra" in str(r.marker)
            ]
            try:
                dependencies = self._expand(
                    package, version, extra_requirements, extra=package.extra
                )
            except _Excluded as excluded:
                return Unavailable(str(excluded))
            dependencies = dict(dependencies)
            dependencies[package.base] = exact(version.version)
            return dependencies
        metadata = self._metadata_for(name, version)
        if isinstance(metadata, Unavailable):
            return metadata
        if not python_supports(metadata.requires_python, self.env.python_version):
            self.env.split_python([metadata.requires_python])
            return Unavailable(
                f"requires Python {metadata.requires_python} "
                f"(the target Python is {self.env.python_version})"
            )
        try:
            return self._expand(package, version, metadata.requires_dist or [], extra="")
        except _Excluded as excluded:
            return Unavailable(str(excluded))

    def _metadata_for(self, name: NormalizedName, version: Point) -> Metadata | Unavailable:
        direct = self._direct.get(name)
        if direct is not None:
            self.selected[(name, version)] = direct.file
            return direct.metadata
        choice = self._choice(name, version)
        if choice.file is None:
            return Unavailable(choice.reason)
        try:
            metadata = self._metadata_now(choice.file)
        except KilnError as exc:
            self.warnings.setdefault(f"skipping `{name} {version}`: {exc}", None)
            if choice.file.tags is None and self.builder is None:
                return Unavailable(f"has only a source distribution, whose metadata failed: {exc}")
            return Unavailable(f"has unusable metadata: {exc}")
        self.selected[(name, version)] = choice.file
        return metadata

    def _note(self, name: NormalizedName, requirement: Requirement) -> None:
        requested = self._requested.setdefault(name, _Requested())
        requested.extras.update(canonicalize_name(extra) for extra in requirement.extras)
        if mentions_prerelease(requirement.specifier):
            requested.prerelease = True
        for specifier in requirement.specifier:
            if _is_exact(specifier):
                try:
                    requested.pins.add(Version(specifier.version))
                except ValueError:
                    continue

    def _lower(self, requirement: Requirement) -> Iterable[Requirement]:
        """Apply overrides: they replace every requirement on the same name."""
        name = canonicalize_name(requirement.name)
        replacements = self.overrides.get(name)
        if replacements is None:
            return [requirement]
        return [r for r in replacements if self.env.evaluate(r.marker)]

    def _expand(
        self,
        parent: Package,
        version: Point,
        requirements: Iterable[Requirement],
        *,
        extra: str,
    ) -> dict[Package, VersionRange]:
        dependencies: dict[Package, VersionRange] = {}
        edges: list[Edge] = []
        applying = [
            lowered
            for original in requirements
            if parent.is_root or self.env.evaluate(original.marker, extra)
            for lowered in self._lower(original)
        ]
        if not self.env.concrete:
            # Constraints apply from the root: their markers split the environments there.
            marked = [c.marker for c in self._given[1] if c.marker] if parent.is_root else []
            self.env.split(applying, extra, also=marked)
        for requirement in applying:
            name = canonicalize_name(requirement.name)
            if name == parent.name:
                # A requirement on the package itself holds for this very version or for
                # none: `a[x]` requiring `a[y]` or `a>=1` is fine, `a 1.0` requiring
                # `a==2.0` makes 1.0 unusable (as in pip and uv).
                if requirement.url is None and not specifier_set_range(
                    requirement.specifier
                ).contains(version):
                    raise _Excluded(
                        f"depends on {name}{requirement.specifier} (a conflict with itself)"
                    )
                if not requirement.extras:
                    continue
            self._note(name, requirement)
            if requirement.url:
                versions = self._register_direct(name, requirement.url)
            else:
                versions = specifier_set_range(requirement.specifier)
            constraint = self.constraints.get(name)
            if constraint is not None:
                allowed = versions.intersection(constraint)
                if allowed.is_empty() and not versions.is_empty():
                    self._excluded(parent, name, requirement, constraint)
                versions = allowed
            edges.append(Edge(parent, name, requirement))
            targets = [Package(name)]
            targets += [Package(name, canonicalize_name(e)) for e in sorted(requirement.extras)]
            for target in targets:
                if target == parent:
                    continue
                current = dependencies.get(target, Range.full())
                dependencies[target] = current.intersection(versions)
                if target not in self._order:
                    self._order[target] = len(self._order)
            self.prefetch_files(name)
        self.edges[(parent, version)] = edges
        return dependencies

    def _excluded(
        self,
        parent: Package,
        name: NormalizedName,
        requirement: Requirement,
        constraint: VersionRange,
    ) -> None:
        """A requirement that no version within the constraints meets: the user's own
        cannot be met at all; a package's makes that version of the package unusable."""
        shown = f" @ {requirement.url}" if requirement.url else str(requirement.specifier)
        wanted = f"{name}{shown}"
        allowed = f"{name}{format_range(constraint)}"
        if parent.is_root:
            raise ResolutionError(
                f"Because you require {wanted} and the constraints allow only {allowed}, "
                "we can conclude that your requirements are unsatisfiable."
            )
        raise _Excluded(f"depends on {wanted}, but the constraints allow only {allowed}")

    def _register_direct(self, name: NormalizedName, url: str) -> VersionRange:
        direct = self._direct.get(name)
        if direct is None:
            direct = self._load_direct(name, url)
            self._direct[name] = direct
            self._versions.pop(name, None)
            self._forget_choices(name)
        elif direct.file.url != url:
            raise KilnError(
                f"conflicting URLs for `{name}`: `{direct.file.url}` and `{url}`",
                hint="require each package from one URL only",
            )
        return exact(direct.file.version)

    def _forget_choices(self, name: NormalizedName) -> None:
        """Drop what was derived from ``name``'s index files (a direct reference replaced them)."""
        for key in [k for k in self._preferences if k[0] == name]:
            del self._preferences[key]
            self._preference_sets.pop(key, None)
        for choice_key in [k for k in self._choices if k[0] == name]:
            del self._choices[choice_key]

    def _load_direct(self, name: NormalizedName, url: str) -> _Direct:
        filename = url.split("#", 1)[0].rsplit("/", 1)[-1]
        if filename.endswith(".whl"):
            try:
                wheel_name, version, _, tags = parse_wheel_filename(filename)
            except InvalidWheelFilename as exc:
                raise KilnError(f"invalid wheel URL for `{name}`: {exc}") from None
            if wheel_name != name:
                raise KilnError(f"the wheel `{filename}` is for `{wheel_name}`, not for `{name}`")
            file = DistFile(name, version, filename, url, tags=tags)
            return _Direct(file, self.source.metadata(file))
        if self.builder is None:
            raise KilnError(
                f"cannot read the metadata of `{name} @ {url}` without building it",
                hint="direct references to source archives, repositories and directories "
                "need a metadata builder",
            )
        file, metadata = self.builder.direct_reference(name, url)
        return _Direct(file, metadata)

    # -- reporting ----------------------------------------------------------------------------

    def known_versions(self, package: Package) -> list[Point]:
        """Every version of ``package`` the source has, for explaining a failure: for a
        pinned package that means asking again without the narrowing."""
        if package.is_root:
            return []
        name = package.name
        try:
            if name in self._narrowed and name not in self._direct:
                return self._every_version(name)
            return list(self.versions(name))
        except KilnError:
            return []

    def _every_version(self, name: NormalizedName) -> list[Point]:
        found = self._unnarrowed.get(name)
        if found is None:
            versions = {file.version for file in self.source.files(name)}
            found = self._unnarrowed[name] = sorted(map(Point, versions), reverse=True)
        return found

    def is_direct(self, name: NormalizedName) -> bool:
        return name in self._direct

    def direct_file(self, name: NormalizedName) -> DistFile | None:
        direct = self._direct.get(name)
        return None if direct is None else direct.file


def _is_single_release(versions: VersionRange) -> bool:
    """True for ``==V`` ranges, which also admit V's local versions."""
    if len(versions.intervals) != 1:
        return False
    lower, upper = versions.intervals[0]
    return (
        lower is not None
        and upper is not None
        and upper[0].is_max_local
        and upper[0].version == lower[0].version
    )


def _is_exact(specifier: Specifier) -> bool:
    """``==1.2`` or ``===anything``: one version (and its local variants), not a prefix."""
    return specifier.operator == "===" or (
        specifier.operator == "==" and not specifier.version.endswith(".*")
    )


def _pinned_versions(
    requirements: Iterable[Requirement],
    env: ResolverEnvironment,
    overrides: Mapping[NormalizedName, object],
) -> dict[NormalizedName, SpecifierSet]:
    """Packages that a root requirement or a constraint pins exactly (``==1.2``, not
    ``==1.*``), with the specifiers every solution must meet: no other version of them
    can be chosen, so the source need not build their other files (a page of a large
    project lists tens of thousands). Overridden packages are left alone: an override
    replaces the root requirement too."""
    narrowed: dict[NormalizedName, SpecifierSet] = {}
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name in overrides or requirement.url is not None or not env.evaluate(
            requirement.marker
        ):
            continue
        if requirement.marker is not None and not env.concrete:
            continue  # the pin holds in part of a universal resolution only
        if any(_is_exact(specifier) for specifier in requirement.specifier):
            current = narrowed.get(name)
            narrowed[name] = (
                requirement.specifier if current is None else current & requirement.specifier
            )
    return narrowed
