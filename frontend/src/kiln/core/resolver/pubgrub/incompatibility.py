"""Incompatibilities: sets of terms that must not all hold, and why."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar, Union

from kiln.core.record import Shown
from kiln.core.resolver.pubgrub.ranges import Comparable
from kiln.core.resolver.pubgrub.term import Term

P = TypeVar("P", bound=Hashable)
V = TypeVar("V", bound=Comparable)


# The causes are plain classes with slots: the solver makes one per incompatibility, and
# they are only ever told apart by type (never compared or hashed).


class RootCause(Shown):
    """The root package must be selected."""

    __slots__ = ()


class NoVersionsCause(Shown):
    """The provider has no version of the package in the range."""

    __slots__ = ()


class UnavailableCause(Shown):
    """The provider cannot use these versions; ``reason`` reads after the term."""

    __slots__ = ("reason",)
    _fields = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class DependencyCause(Shown):
    """The first term's package depends on the second term's package."""

    __slots__ = ()


class DerivedCause(Shown, Generic[P, V]):
    """Learned during conflict resolution from two earlier incompatibilities."""

    __slots__ = ("left", "right")
    _fields = ("left", "right")

    def __init__(self, left: Incompatibility[P, V], right: Incompatibility[P, V]) -> None:
        self.left = left
        self.right = right


ExternalCause = Union[RootCause, NoVersionsCause, UnavailableCause, DependencyCause]


class Incompatibility(Generic[P, V]):
    """A set of terms (at most one per package) that cannot all be true at once."""

    __slots__ = ("cause", "terms")

    def __init__(
        self,
        terms: Iterable[Term[P, V]],
        cause: ExternalCause | DerivedCause[P, V],
        *,
        root: P | None = None,
    ) -> None:
        merged: dict[P, Term[P, V]] = {}
        for term in terms:
            existing = merged.get(term.package)
            merged[term.package] = term if existing is None else existing.intersect(term)
        # "the root is selected" always holds, so it adds nothing to a learned clause.
        if (
            isinstance(cause, DerivedCause)
            and root is not None
            and len(merged) > 1
            and root in merged
            and merged[root].positive
        ):
            del merged[root]
        self.terms: tuple[Term[P, V], ...] = tuple(merged.values())
        self.cause = cause

    @property
    def is_derived(self) -> bool:
        return isinstance(self.cause, DerivedCause)

    def term_for(self, package: P) -> Term[P, V] | None:
        for term in self.terms:
            if term.package == package:
                return term
        return None

    def is_failure(self, root: P) -> bool:
        """True when this incompatibility says the root cannot be selected."""
        if not self.terms:
            return True
        return len(self.terms) == 1 and self.terms[0].positive and self.terms[0].package == root

    def __repr__(self) -> str:
        return f"Incompatibility({list(self.terms)!r}, {type(self.cause).__name__})"
