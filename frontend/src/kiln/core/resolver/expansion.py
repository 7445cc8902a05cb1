"""Dependency expansion: what one version of a package requires, as the solver's terms.

Requirements apply where their markers hold (for the extra being expanded); overrides
replace every requirement on their name; constraints narrow the ranges; an extra is a
package of its own (``foo[x]`` at V requires ``foo==V`` and the extra's requirements);
a direct reference (``name @ url``) pins its package to the URL's file. A requirement
that rules its own version out (a conflict with itself, or a range the constraints
forbid) makes that version unusable instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.resolver import errors
from kiln.core.resolver.candidates import Candidates, python_supports
from kiln.core.resolver.direct import DirectReferences
from kiln.core.resolver.environment import ResolverEnvironment
from kiln.core.resolver.formatting import format_range
from kiln.core.resolver.packages import ROOT, Package
from kiln.core.resolver.prefetch import Prefetcher
from kiln.core.resolver.pubgrub import Range, Unavailable
from kiln.core.resolver.requested import RequestLog
from kiln.core.resolver.versions import Point, VersionRange, exact, specifier_set_range
from kiln.core.types import DistFile
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.metadata import Metadata


class Edge(NamedTuple):
    """``parent`` requires ``requirement`` (after markers, overrides and extras)."""

    parent: Package
    child: NormalizedName
    requirement: Requirement


class Expander:
    """The dependencies of each version the solver picks, for the current solve; records
    the file used for each version and the requirement edges, for the result."""

    def __init__(
        self,
        requirements: Sequence[Requirement],
        constraints: Sequence[Requirement],
        overrides: Mapping[NormalizedName, Sequence[Requirement]],
        *,
        env: ResolverEnvironment,
        candidates: Candidates,
        prefetcher: Prefetcher,
        requested: RequestLog,
        direct: DirectReferences,
        sdists_buildable: bool,
        dependencies: bool,
    ) -> None:
        self._given = (tuple(requirements), tuple(constraints))
        self.overrides = overrides
        self.candidates = candidates
        self.prefetcher = prefetcher
        self.requested = requested
        self.direct = direct
        #: False when there is no metadata builder: an sdist's metadata is read, not built.
        self.sdists_buildable = sdists_buildable
        #: False for ``--no-deps``: a version from an index needs no metadata at all (its
        #: wheel's own ``Requires-Python`` is checked when it is installed).
        self.dependencies = dependencies
        #: Versions passed over because their metadata could not be had or read, with
        #: why (an ordered set: each is reported once, in the order met).
        self.warnings: dict[str, None] = {}
        self.restart(env)

    def restart(self, env: ResolverEnvironment) -> None:
        """Set up the state of one solve for ``env``."""
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
                self.requested.note(name, constraint)
        #: The order in which packages, and names, were first required (the solver's
        #: tie-breaks).
        self.order: dict[Package, int] = {ROOT: 0}
        self.name_order: dict[NormalizedName, int] = {ROOT.name: 0}
        #: The file picked for each (name, version) that was used.
        self.selected: dict[tuple[NormalizedName, Point], DistFile] = {}
        #: Dependency edges per (package, version), for the resolution graph.
        self.edges: dict[tuple[Package, Point], list[Edge]] = {}
        for requirement in self.requirements:
            self.requested.note(canonicalize_name(requirement.name), requirement)

    def dependencies_of(
        self, package: Package, version: Point
    ) -> Mapping[Package, VersionRange] | Unavailable:
        """What ``package`` requires at ``version``, or why that version is unusable."""
        if package.is_root:
            return self._expand(package, version, self.requirements, extra="")
        name = package.name
        if package.extra is None and not self.env.concrete:
            missing = self.env.unserved(self.candidates.versions(name).get(version, ()))
            if missing is not None:
                return Unavailable(errors.no_file_for_required(missing))
        if not self.dependencies and name not in self.direct:
            choice = self.candidates.choice(name, version)
            if choice.file is not None and choice.file.is_wheel:
                self.selected[(name, version)] = choice.file
                if package.extra is None:
                    return {}
                return {package.base: exact(version.version)}
        metadata = self._metadata_for(name, version)
        if isinstance(metadata, Unavailable):
            return metadata
        if package.extra is not None:
            extra_requirements = [
                r
                for r in metadata.requires_dist or []
                if r.marker is not None and "extra" in str(r.marker)
            ]
            try:
                dependencies = self._expand(
                    package, version, extra_requirements, extra=package.extra
                )
            except errors.Excluded as excluded:
                return Unavailable(str(excluded))
            dependencies[package.base] = exact(version.version)
            return dependencies
        if not python_supports(metadata.requires_python, self.env.python_version):
            self.env.split_python([metadata.requires_python])
            return Unavailable(
                errors.python_unsupported(metadata.requires_python, self.env.python_version)
            )
        try:
            return self._expand(package, version, metadata.requires_dist or [], extra="")
        except errors.Excluded as excluded:
            return Unavailable(str(excluded))

    def _metadata_for(self, name: NormalizedName, version: Point) -> Metadata | Unavailable:
        direct = self.direct.get(name)
        if direct is not None:
            self.selected[(name, version)] = direct.file
            return direct.metadata
        choice = self.candidates.choice(name, version)
        if choice.file is None:
            return Unavailable(choice.reason)
        try:
            metadata = self.prefetcher.metadata(choice.file)
        except KilnError as exc:
            self.warnings.setdefault(errors.skipped(name, version, exc), None)
            sdist_only = choice.file.tags is None and not self.sdists_buildable
            return Unavailable(errors.unusable_metadata(exc, sdist_only=sdist_only))
        self.selected[(name, version)] = choice.file
        return metadata

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
                    raise errors.Excluded(
                        errors.conflicts_with_itself(f"{name}{requirement.specifier}")
                    )
                if not requirement.extras:
                    continue
            self.requested.note(name, requirement)
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
                if target not in self.order:
                    self.order[target] = len(self.order)
                    if name not in self.name_order:
                        self.name_order[name] = len(self.name_order)
            self.prefetcher.prefetch_files(name)
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
        raise errors.outside_constraints(
            f"{name}{shown}", f"{name}{format_range(constraint)}", user=parent.is_root
        )

    def _register_direct(self, name: NormalizedName, url: str) -> VersionRange:
        direct, new = self.direct.register(name, url)
        if new:
            self.candidates.forget(name)
        return exact(direct.file.version)
