"""The partial solution: the solver's ordered list of decisions and derivations."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

from kiln.core.record import Shown
from kiln.core.resolver.pubgrub.incompatibility import Incompatibility
from kiln.core.resolver.pubgrub.ranges import Comparable, Range
from kiln.core.resolver.pubgrub.term import Relation, Term

P = TypeVar("P", bound=Hashable)
V = TypeVar("V", bound=Comparable)


class Assignment(Shown, Generic[P, V]):
    """A decision (``cause is None``) or a derivation forced by ``cause``.

    A plain class with slots, as the solver makes one per step; never modified after
    creation, and never compared (assignments are told apart by ``index``)."""

    __slots__ = ("cause", "decision_level", "index", "term")
    _fields = ("term", "decision_level", "index", "cause")

    def __init__(
        self,
        term: Term[P, V],
        decision_level: int,
        index: int,
        cause: Incompatibility[P, V] | None = None,
    ) -> None:
        self.term = term
        self.decision_level = decision_level
        self.index = index
        self.cause = cause

    @property
    def is_decision(self) -> bool:
        return self.cause is None


class PartialSolution(Generic[P, V]):
    def __init__(self) -> None:
        self.assignments: list[Assignment[P, V]] = []
        self.decisions: dict[P, V] = {}
        #: Per package, the intersection of its assignments (positive when any is positive).
        self._terms: dict[P, Term[P, V]] = {}
        #: Packages with a positive term and no decision (an ordered set, kept up to date
        #: as assignments come and go: finding them never scans every package).
        self._undecided: dict[P, None] = {}
        #: Packages whose term changed since :meth:`take_changed` last ran.
        self._changed: dict[P, None] = {}
        self.decision_level = 0

    # -- recording ----------------------------------------------------------------------------

    def decide(self, package: P, version: V) -> None:
        self.decision_level += 1
        self.decisions[package] = version
        self._undecided.pop(package, None)
        self._append(Term(package, Range.singleton(version), True), None)

    def derive(self, term: Term[P, V], cause: Incompatibility[P, V]) -> None:
        self._append(term, cause)

    def _append(self, term: Term[P, V], cause: Incompatibility[P, V] | None) -> None:
        assignment = Assignment(term, self.decision_level, len(self.assignments), cause)
        self.assignments.append(assignment)
        self._register(term)

    def _register(self, term: Term[P, V]) -> None:
        package = term.package
        existing = self._terms.get(package)
        current = self._terms[package] = term if existing is None else existing.intersect(term)
        self._changed[package] = None
        if current.positive and package not in self.decisions:
            self._undecided[package] = None

    def backtrack(self, decision_level: int) -> None:
        """Forget every assignment made after ``decision_level``."""
        removed: set[P] = set()
        while self.assignments and self.assignments[-1].decision_level > decision_level:
            assignment = self.assignments.pop()
            removed.add(assignment.term.package)
            if assignment.is_decision:
                self.decisions.pop(assignment.term.package, None)
        for package in removed:
            self._terms.pop(package, None)
            self._undecided.pop(package, None)
            self._changed[package] = None
        for assignment in self.assignments:
            if assignment.term.package in removed:
                self._register(assignment.term)
        self.decision_level = decision_level

    def backtrack_before(self, package: P) -> bool:
        """Forget the decision of ``package`` and everything after it (to decide it later);
        False when it is not decided."""
        if package not in self.decisions:
            return False
        for assignment in self.assignments:
            if assignment.is_decision and assignment.term.package == package:
                self.backtrack(assignment.decision_level - 1)
                return True
        return False  # pragma: no cover - a decision always has its assignment

    # -- queries ------------------------------------------------------------------------------

    def term_for(self, package: P) -> Term[P, V] | None:
        return self._terms.get(package)

    def relation(self, term: Term[P, V]) -> Relation:
        current = self._terms.get(term.package)
        if current is None:
            return Relation.OVERLAPPING
        return current.relation(term)

    def satisfies(self, term: Term[P, V]) -> bool:
        return self.relation(term) is Relation.SUBSET

    def satisfier(self, term: Term[P, V]) -> Assignment[P, V]:
        """The earliest assignment after which the solution satisfies ``term``."""
        accumulated: Term[P, V] | None = None
        for assignment in self.assignments:
            if assignment.term.package != term.package:
                continue
            accumulated = (
                assignment.term if accumulated is None else accumulated.intersect(assignment.term)
            )
            if accumulated.satisfies(term):
                return assignment
        raise AssertionError(f"{term!r} is not satisfied by the partial solution")

    def undecided(self) -> list[P]:
        """Packages that still need a version (a positive term and no decision)."""
        return list(self._undecided)

    def is_undecided(self, package: P) -> bool:
        return package in self._undecided

    def take_changed(self) -> list[P]:
        """The packages whose term changed since the last call (then forgotten)."""
        changed = list(self._changed)
        self._changed.clear()
        return changed
