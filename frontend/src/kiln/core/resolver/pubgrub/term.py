"""Terms: statements about the version selected for one package."""

from __future__ import annotations

import enum
from collections.abc import Hashable
from typing import Generic, TypeVar

from kiln.core.resolver.pubgrub.ranges import Comparable, Range

P = TypeVar("P", bound=Hashable)
V = TypeVar("V", bound=Comparable)


class Relation(enum.Enum):
    """How the possibilities allowed by one term relate to those allowed by another."""

    SUBSET = "subset"  #: every selection allowed by the first is allowed by the second
    DISJOINT = "disjoint"  #: no selection is allowed by both
    OVERLAPPING = "overlapping"


class Term(Generic[P, V]):
    """``package`` has a version in ``versions`` (positive), or does not (negative).

    A negative term is also satisfied when the package is not selected at all.

    The solver makes terms by the thousand: a plain class with slots is cheaper to create
    than a frozen dataclass (whose ``__init__`` goes through ``object.__setattr__``).
    Terms are never modified after creation.
    """

    __slots__ = ("package", "positive", "versions")

    def __init__(self, package: P, versions: Range[V], positive: bool = True) -> None:
        self.package = package
        self.versions = versions
        self.positive = positive

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Term):
            return NotImplemented
        return (
            self.package == other.package
            and self.positive == other.positive
            and self.versions == other.versions
        )

    def __hash__(self) -> int:
        return hash((self.package, self.versions, self.positive))

    def negate(self) -> Term[P, V]:
        return Term(self.package, self.versions, not self.positive)

    def intersect(self, other: Term[P, V]) -> Term[P, V]:
        """The term allowing exactly what both allow (may be a positive empty term)."""
        if self.positive and other.positive:
            return Term(self.package, self.versions.intersection(other.versions), True)
        if self.positive:
            return Term(self.package, self.versions.difference(other.versions), True)
        if other.positive:
            return Term(self.package, other.versions.difference(self.versions), True)
        return Term(self.package, self.versions.union(other.versions), False)

    def difference(self, other: Term[P, V]) -> Term[P, V]:
        return self.intersect(other.negate())

    def is_empty(self) -> bool:
        """True when no selection satisfies the term."""
        return self.positive and self.versions.is_empty()

    def relation(self, other: Term[P, V]) -> Relation:
        """How this term relates to ``other`` (both about the same package)."""
        mine, theirs = self.versions, other.versions
        if other.positive:
            if self.positive:
                both = mine.intersection(theirs)
                if both.is_empty():
                    return Relation.DISJOINT
                if both == mine:
                    return Relation.SUBSET
                return Relation.OVERLAPPING
            # "not in mine" allows not selecting the package, which "in theirs" does not.
            if theirs.is_subset(mine):
                return Relation.DISJOINT
            return Relation.OVERLAPPING
        if self.positive:
            both = mine.intersection(theirs)
            if both.is_empty():
                return Relation.SUBSET
            if both == mine:
                return Relation.DISJOINT
            return Relation.OVERLAPPING
        if theirs.is_subset(mine):
            return Relation.SUBSET
        return Relation.OVERLAPPING

    def satisfies(self, other: Term[P, V]) -> bool:
        return self.relation(other) is Relation.SUBSET

    def __repr__(self) -> str:
        sign = "" if self.positive else "not "
        return f"<{sign}{self.package!r} {self.versions!r}>"
