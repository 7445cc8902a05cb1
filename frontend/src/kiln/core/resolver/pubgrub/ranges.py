"""Sets of versions as sorted unions of disjoint intervals.

The versions only need a total order (``<`` and ``==``) and a hash. An interval
bound is ``None`` when unbounded, otherwise ``(value, inclusive)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Generic, Optional, Protocol, TypeVar


class Comparable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


V = TypeVar("V", bound=Comparable)

Bound = Optional[tuple[V, bool]]
Interval = tuple[Bound[V], Bound[V]]


def _lower_lt(a: Bound[V], b: Bound[V]) -> bool:
    """True when lower bound ``a`` starts strictly before lower bound ``b``."""
    if a is None:
        return b is not None
    if b is None:
        return False
    if a[0] < b[0]:
        return True
    if b[0] < a[0]:
        return False
    return a[1] and not b[1]


def _upper_lt(a: Bound[V], b: Bound[V]) -> bool:
    """True when upper bound ``a`` ends strictly before upper bound ``b``."""
    if a is None:
        return False
    if b is None:
        return True
    if a[0] < b[0]:
        return True
    if b[0] < a[0]:
        return False
    return not a[1] and b[1]


def _nonempty(lower: Bound[V], upper: Bound[V]) -> bool:
    if lower is None or upper is None:
        return True
    if lower[0] < upper[0]:
        return True
    if upper[0] < lower[0]:
        return False
    return lower[1] and upper[1]


def _starts_after(lower: Bound[V], value: V) -> bool:
    """True when an interval starting at ``lower`` holds nothing up to ``value``."""
    return lower is not None and (value < lower[0] or (not lower[1] and not lower[0] < value))


def _touches(upper: Bound[V], lower: Bound[V]) -> bool:
    """True when an interval ending at ``upper`` overlaps or abuts one starting at ``lower``."""
    if upper is None or lower is None:
        return True
    if lower[0] < upper[0]:
        return True
    if upper[0] < lower[0]:
        return False
    return upper[1] or lower[1]


class Range(Generic[V]):
    """An immutable set of versions."""

    __slots__ = ("_hash", "intervals")

    def __init__(self, intervals: tuple[Interval[V], ...] = ()) -> None:
        self.intervals = intervals
        self._hash: int | None = None

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> Range[V]:
        return cls(())

    @classmethod
    def full(cls) -> Range[V]:
        return cls(((None, None),))

    @classmethod
    def singleton(cls, value: V) -> Range[V]:
        return cls((((value, True), (value, True)),))

    @classmethod
    def at_least(cls, value: V, *, inclusive: bool = True) -> Range[V]:
        return cls((((value, inclusive), None),))

    @classmethod
    def at_most(cls, value: V, *, inclusive: bool = True) -> Range[V]:
        return cls(((None, (value, inclusive)),))

    @classmethod
    def between(
        cls, low: V, high: V, *, low_inclusive: bool = True, high_inclusive: bool = False
    ) -> Range[V]:
        lower: Bound[V] = (low, low_inclusive)
        upper: Bound[V] = (high, high_inclusive)
        if not _nonempty(lower, upper):
            return cls.empty()
        return cls(((lower, upper),))

    # -- queries ------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return not self.intervals

    def is_full(self) -> bool:
        return self.intervals == ((None, None),)

    def contains(self, value: V) -> bool:
        """Binary search: a range made of thousands of ``!=`` holes answers in log time."""
        intervals = self.intervals
        low, high = 0, len(intervals)
        while low < high:  # the first interval starting after ``value``
            middle = (low + high) // 2
            if _starts_after(intervals[middle][0], value):
                high = middle
            else:
                low = middle + 1
        if low == 0:
            return False
        upper = intervals[low - 1][1]
        return upper is None or value < upper[0] or (upper[1] and not upper[0] < value)

    def __contains__(self, value: V) -> bool:
        return self.contains(value)

    def singleton_value(self) -> V | None:
        """The only member, when this range is exactly one version."""
        if len(self.intervals) != 1:
            return None
        lower, upper = self.intervals[0]
        if lower is None or upper is None or not (lower[1] and upper[1]):
            return None
        if lower[0] < upper[0] or upper[0] < lower[0]:
            return None
        return lower[0]

    def is_subset(self, other: Range[V]) -> bool:
        return self.intersection(other) == self

    def is_disjoint(self, other: Range[V]) -> bool:
        return self.intersection(other).is_empty()

    # -- set algebra --------------------------------------------------------------------------

    def complement(self) -> Range[V]:
        result: list[Interval[V]] = []
        previous: Bound[V] = None
        start = True
        for lower, upper in self.intervals:
            if lower is not None:
                gap_upper: Bound[V] = (lower[0], not lower[1])
                if start:
                    result.append((None, gap_upper))
                else:
                    result.append((previous, gap_upper))
            start = False
            if upper is None:
                return Range(tuple(result))
            previous = (upper[0], not upper[1])
        if start:
            return Range.full()
        result.append((previous, None))
        return Range(tuple(result))

    def intersection(self, other: Range[V]) -> Range[V]:
        if self.is_full():
            return other
        if other.is_full():
            return self
        result: list[Interval[V]] = []
        i = j = 0
        left, right = self.intervals, other.intervals
        while i < len(left) and j < len(right):
            lo = left[i][0] if _lower_lt(right[j][0], left[i][0]) else right[j][0]
            left_ends_first = _upper_lt(left[i][1], right[j][1])
            hi = left[i][1] if left_ends_first else right[j][1]
            if _nonempty(lo, hi):
                result.append((lo, hi))
            if left_ends_first:
                i += 1
            else:
                j += 1
        return Range(tuple(result))

    def union(self, other: Range[V]) -> Range[V]:
        if self.is_empty():
            return other
        if other.is_empty():
            return self
        return _merged((*self.intervals, *other.intervals))

    @classmethod
    def union_all(cls, ranges: Iterable[Range[V]]) -> Range[V]:
        """The union of many ranges in one sort: ``n log n`` in their intervals, where
        uniting them one by one costs ``n`` squared."""
        return _merged([interval for r in ranges for interval in r.intervals])

    @classmethod
    def intersection_all(cls, ranges: Iterable[Range[V]]) -> Range[V]:
        """The intersection of many ranges (the complement of their complements' union),
        in ``n log n``: a specifier set of 20,000 ``!=`` is 20,000 ranges."""
        return cls.union_all(r.complement() for r in ranges).complement()


    def difference(self, other: Range[V]) -> Range[V]:
        return self.intersection(other.complement())

    # -- dunder -------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Interval[V]]:
        return iter(self.intervals)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return bool(self.intervals == other.intervals)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.intervals)
        return self._hash

    def __repr__(self) -> str:
        parts = []
        for lower, upper in self.intervals:
            low = "(-inf" if lower is None else ("[" if lower[1] else "(") + repr(lower[0])
            high = "inf)" if upper is None else repr(upper[0]) + ("]" if upper[1] else ")")
            parts.append(f"{low}, {high}")
        return "Range(" + " | ".join(parts) + ")"


def _merged(intervals: Iterable[Interval[V]]) -> Range[V]:
    """The union of ``intervals``, in any order, as a range."""
    merged = sorted(intervals, key=_SortLower)
    result: list[Interval[V]] = []
    for lower, upper in merged:
        if result and _touches(result[-1][1], lower):
            previous_lower, previous_upper = result[-1]
            if _upper_lt(previous_upper, upper):
                result[-1] = (previous_lower, upper)
        else:
            result.append((lower, upper))
    return Range(tuple(result))


class _SortLower:
    """Sort key ordering intervals by their lower bound."""

    __slots__ = ("interval",)

    def __init__(self, interval: Interval[Any]) -> None:
        self.interval = interval

    def __lt__(self, other: _SortLower) -> bool:
        return _lower_lt(self.interval[0], other.interval[0])
