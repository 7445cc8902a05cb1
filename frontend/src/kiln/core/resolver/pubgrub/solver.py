"""The PubGrub main loop: unit propagation, conflict resolution and decision making."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

from kiln.core.resolver.pubgrub.incompatibility import (
    DependencyCause,
    DerivedCause,
    Incompatibility,
    NoVersionsCause,
    RootCause,
    UnavailableCause,
)
from kiln.core.resolver.pubgrub.partial_solution import Assignment, PartialSolution
from kiln.core.resolver.pubgrub.provider import DependencyProvider, Unavailable
from kiln.core.resolver.pubgrub.ranges import Comparable, Range
from kiln.core.resolver.pubgrub.term import Relation, Term

P = TypeVar("P", bound=Hashable)
V = TypeVar("V", bound=Comparable)


class NoSolution(Exception, Generic[P, V]):
    """Raised when the root cannot be satisfied; ``incompatibility`` is the proof."""

    def __init__(self, incompatibility: Incompatibility[P, V]) -> None:
        super().__init__("no solution")
        self.incompatibility = incompatibility


class _Conflict:
    """Marker returned by unit propagation when an incompatibility is fully satisfied."""


_CONFLICT = _Conflict()


class _Solver(Generic[P, V]):
    def __init__(self, provider: DependencyProvider[P, V], root: P, root_version: V) -> None:
        self.provider = provider
        self.root = root
        self.root_version = root_version
        self.solution: PartialSolution[P, V] = PartialSolution()
        self.incompatibilities: dict[P, list[Incompatibility[P, V]]] = {}

    def add(self, incompatibility: Incompatibility[P, V]) -> None:
        for term in incompatibility.terms:
            self.incompatibilities.setdefault(term.package, []).append(incompatibility)

    # -- main loop ----------------------------------------------------------------------------

    def run(self) -> dict[P, V]:
        self.add(
            Incompatibility(
                [Term(self.root, Range.singleton(self.root_version), False)], RootCause()
            )
        )
        next_package: P | None = self.root
        while next_package is not None:
            self.propagate(next_package)
            next_package = self.decide()
        return dict(self.solution.decisions)

    # -- unit propagation ---------------------------------------------------------------------

    def propagate(self, package: P) -> None:
        changed: list[P] = [package]
        while changed:
            current = changed.pop()
            for incompatibility in reversed(list(self.incompatibilities.get(current, ()))):
                result = self._propagate_one(incompatibility)
                if isinstance(result, _Conflict):
                    root_cause = self.resolve_conflict(incompatibility)
                    changed.clear()
                    forced = self._propagate_one(root_cause)
                    assert not isinstance(forced, _Conflict) and forced is not None
                    changed.append(forced)
                    break
                if result is not None and result not in changed:
                    changed.append(result)

    def _propagate_one(self, incompatibility: Incompatibility[P, V]) -> P | _Conflict | None:
        unsatisfied: Term[P, V] | None = None
        for term in incompatibility.terms:
            relation = self.solution.relation(term)
            if relation is Relation.DISJOINT:
                return None
            if relation is Relation.OVERLAPPING:
                if unsatisfied is not None:
                    return None
                unsatisfied = term
        if unsatisfied is None:
            return _CONFLICT
        self.solution.derive(unsatisfied.negate(), incompatibility)
        return unsatisfied.package

    # -- conflict resolution ------------------------------------------------------------------

    def resolve_conflict(self, incompatibility: Incompatibility[P, V]) -> Incompatibility[P, V]:
        learned = False
        while not incompatibility.is_failure(self.root):
            recent_term: Term[P, V] | None = None
            recent: Assignment[P, V] | None = None
            difference: Term[P, V] | None = None
            previous_level = 1
            for term in incompatibility.terms:
                satisfier = self.solution.satisfier(term)
                if recent is None:
                    recent_term, recent = term, satisfier
                elif recent.index < satisfier.index:
                    previous_level = max(previous_level, recent.decision_level)
                    recent_term, recent, difference = term, satisfier, None
                else:
                    previous_level = max(previous_level, satisfier.decision_level)
                if recent_term is term:
                    rest = recent.term.difference(term)
                    difference = None if rest.is_empty() else rest
                    if difference is not None:
                        earlier = self.solution.satisfier(difference.negate())
                        previous_level = max(previous_level, earlier.decision_level)
            assert recent is not None and recent_term is not None
            if recent.cause is None or previous_level < recent.decision_level:
                self.solution.backtrack(previous_level)
                if learned:
                    self.add(incompatibility)
                return incompatibility
            terms = [t for t in incompatibility.terms if t is not recent_term]
            terms += [t for t in recent.cause.terms if t.package != recent.term.package]
            if difference is not None:
                terms.append(difference.negate())
            incompatibility = Incompatibility(
                terms, DerivedCause(incompatibility, recent.cause), root=self.root
            )
            learned = True
        raise NoSolution(incompatibility)

    # -- decision making ----------------------------------------------------------------------

    def decide(self) -> P | None:
        pending = self.solution.undecided()
        if not pending:
            return None
        term = max(
            pending, key=lambda t: self.provider.prioritize(t.package, t.versions)
        )
        package = term.package
        if package == self.root:
            version: V | None = self.root_version
        else:
            version = self.provider.choose_version(package, term.versions)
        if version is None:
            self.add(Incompatibility([Term(package, term.versions)], NoVersionsCause()))
            return package
        dependencies = self.provider.get_dependencies(package, version)
        if isinstance(dependencies, Unavailable):
            self.add(
                Incompatibility(
                    [Term(package, Range.singleton(version))],
                    UnavailableCause(dependencies.reason),
                )
            )
            return package
        conflict = False
        for dependency, versions in dependencies.items():
            incompatibility = Incompatibility(
                [Term(package, Range.singleton(version)), Term(dependency, versions, False)],
                DependencyCause(),
            )
            self.add(incompatibility)
            conflict = conflict or all(
                t.package == package or self.solution.satisfies(t)
                for t in incompatibility.terms
            )
        if not conflict:
            self.solution.decide(package, version)
        return package


def solve(provider: DependencyProvider[P, V], root: P, root_version: V) -> dict[P, V]:
    """Select one version per needed package, or raise :class:`NoSolution`."""
    return _Solver(provider, root, root_version).run()
