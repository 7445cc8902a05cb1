"""The PubGrub main loop: unit propagation, conflict resolution and decision making.

The package decided next is the undecided one the provider gives the highest priority,
found in a heap that is told only about the packages whose term changed since the last
decision: a decision costs ``log n`` in the number of packages, not ``n``.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence
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
from kiln.core.resolver.pubgrub.provider import DependencyProvider, Reprioritized, Unavailable
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
        #: Undecided packages by priority: (negated priority, entry number, package); an
        #: entry is current while ``_entries[package]`` is its number.
        self._queue: list[tuple[tuple[int, ...], int, P]] = []
        self._entries: dict[P, int] = {}
        self._entry_count = 0
        self._requeue_all = False
        #: Decisions to take back before the next one (the provider re-prioritized).
        self._backtrack: list[P] = []

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
            while self._backtrack:
                self._take_back()
            next_package = self.decide()
        return dict(self.solution.decisions)

    # -- learning from conflicts --------------------------------------------------------------

    def _conflict(self, affected: P, culprits: Sequence[P]) -> None:
        answer = self.provider.conflict(affected, culprits)
        if isinstance(answer, Reprioritized):
            self._requeue_all = True
            self._backtrack.extend(answer.backtrack)

    def _take_back(self) -> None:
        """Undo the decisions the provider asked to undo (from the earliest), then bring
        the rest of the solution up to date with what was learned since."""
        pending, self._backtrack = self._backtrack, []
        levels = [
            a.decision_level
            for a in self.solution.assignments
            if a.is_decision and a.term.package in pending and a.term.package != self.root
        ]
        if not levels:
            return
        self.solution.backtrack(min(levels) - 1)
        for package in list(self.incompatibilities):
            if self.solution.term_for(package) is not None:
                self.propagate(package)

    # -- unit propagation ---------------------------------------------------------------------

    def propagate(self, package: P) -> None:
        # A stack without duplicates (an ordered set: membership tests must not scan it).
        changed: dict[P, None] = {package: None}
        while changed:
            current, _ = changed.popitem()
            for incompatibility in reversed(list(self.incompatibilities.get(current, ()))):
                result = self._propagate_one(incompatibility)
                if isinstance(result, _Conflict):
                    root_cause = self.resolve_conflict(incompatibility)
                    changed.clear()
                    forced = self._propagate_one(root_cause)
                    assert not isinstance(forced, _Conflict) and forced is not None
                    changed[forced] = None
                    self._conflict(
                        package, [t.package for t in root_cause.terms if t.package != forced]
                    )
                    break
                if result is not None and result not in changed:
                    changed[result] = None

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

    def _enqueue(self, package: P) -> None:
        term = self.solution.term_for(package)
        assert term is not None
        priority = self.provider.prioritize(package, term.versions)
        self._entry_count += 1
        entry = self._entries[package] = self._entry_count
        heapq.heappush(self._queue, (tuple(-part for part in priority), entry, package))

    def next_package(self) -> P | None:
        """The undecided package of the highest priority (None when all are decided)."""
        solution = self.solution
        if self._requeue_all:
            self._requeue_all = False
            self._queue.clear()
            self._entries.clear()
            solution.take_changed()
            for package in solution.undecided():
                self._enqueue(package)
        else:
            for package in solution.take_changed():
                if solution.is_undecided(package):
                    self._enqueue(package)
        queue, entries = self._queue, self._entries
        while queue:
            _, entry, package = queue[0]
            if entries.get(package) == entry and solution.is_undecided(package):
                return package
            heapq.heappop(queue)
        return None

    def decide(self) -> P | None:
        package = self.next_package()
        if package is None:
            return None
        term = self.solution.term_for(package)
        assert term is not None
        if package == self.root:
            version: V | None = self.root_version
        else:
            base = self.provider.proxy_of(package)
            decided = None if base is None else self.solution.decisions.get(base)
            if decided is not None and term.versions.contains(decided):
                version = decided
            else:
                version = self.provider.choose_version(package, term.versions)
                if version is not None and base is not None and decided is not None:
                    # Every version of the proxy needs the base at that version: it is
                    # the base's decision that has to change, so learn that at once
                    # instead of trying the proxy's versions one by one.
                    self.add(
                        Incompatibility(
                            [Term(package, term.versions), Term(base, term.versions, False)],
                            DependencyCause(),
                        )
                    )
                    return package
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
        culprits: list[P] = []
        for dependency, versions in dependencies.items():
            incompatibility = Incompatibility(
                [Term(package, Range.singleton(version)), Term(dependency, versions, False)],
                DependencyCause(),
            )
            self.add(incompatibility)
            if all(
                t.package == package or self.solution.satisfies(t)
                for t in incompatibility.terms
            ):
                culprits.append(dependency)
        if culprits:
            self._conflict(package, culprits)
        else:
            self.solution.decide(package, version)
        return package


def solve(provider: DependencyProvider[P, V], root: P, root_version: V) -> dict[P, V]:
    """Select one version per needed package, or raise :class:`NoSolution`."""
    return _Solver(provider, root, root_version).run()
