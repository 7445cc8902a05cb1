"""Reading version ranges the way users write them: ``foo>=1,<2``, ``all versions of foo``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kiln.core.resolver.packages import Package
from kiln.core.resolver.pubgrub.ranges import Bound, Range
from kiln.core.resolver.versions import Point, VersionRange


def _lower(bound: Bound[Point]) -> str:
    assert bound is not None
    point, inclusive = bound
    return f">={point}" if inclusive and not point.is_sentinel else f">{point}"


def _upper(bound: Bound[Point]) -> str:
    assert bound is not None
    point, inclusive = bound
    return f"<={point}" if inclusive else f"<{point}"


def _interval(lower: Bound[Point], upper: Bound[Point]) -> str:
    if lower is None and upper is None:
        return ""
    if lower is None:
        return _upper(upper)
    if upper is None:
        return _lower(lower)
    low, high = lower[0], upper[0]
    if lower[1] and upper[1] and (low == high or (high.is_max_local and high.version == low.version)):
        return f"=={low}"
    return f"{_lower(lower)},{_upper(upper)}"


def format_range(versions: VersionRange) -> str:
    """PEP 440-style text for ``versions`` (without the package name)."""
    intervals = versions.intervals
    if not intervals:
        return " (no versions)"
    if len(intervals) == 2 and intervals[0][0] is None and intervals[1][1] is None:
        first_upper, second_lower = intervals[0][1], intervals[1][0]
        assert first_upper is not None and second_lower is not None
        excluded = Range(((
            (first_upper[0], not first_upper[1]), (second_lower[0], not second_lower[1])
        ),))
        text = _interval(*excluded.intervals[0])
        if text.startswith("=="):
            return "!=" + text[2:]
    return " | ".join(_interval(lower, upper) for lower, upper in intervals)


class PackageFormatter:
    """The :class:`~kiln.core.resolver.pubgrub.TermFormatter` for Python packages.

    Ranges are simplified against the versions that exist: a range covering every
    known version reads as ``all versions of foo``.
    """

    def __init__(self, known_versions: Callable[[Package], Sequence[Point]]) -> None:
        self.known_versions = known_versions

    def is_root(self, package: Package) -> bool:
        return package.is_root

    def _simplify(self, package: Package, versions: VersionRange) -> VersionRange | None:
        """None for "every known version"; otherwise the range minus empty intervals."""
        known = self.known_versions(package)
        if versions.is_full() or (known and all(versions.contains(v) for v in known)):
            return None
        kept = tuple(
            interval
            for interval in versions.intervals
            if any(Range((interval,)).contains(v) for v in known)
        )
        if not kept:
            return versions
        hits = [v for v in known if versions.contains(v)]
        if len(hits) == 1 and not any(v.version.public == hits[0].version.public
                                      and v != hits[0] for v in known):
            return Range.singleton(hits[0])
        return Range(kept)

    def describe(self, package: Package, versions: VersionRange, *, subject: bool) -> str:
        if package.is_root:
            return "your requirements"
        if not subject:
            # What something requires reads as written: "depends on bar>=2,<3".
            if versions.is_full():
                return str(package)
            single = versions.singleton_value()
            # A derived pin (`>=1` met with `<=1.0`) is spelled like the version that exists.
            for version in self.known_versions(package) if single is not None else ():
                if version == single:
                    return f"{package}=={version}"
            return f"{package}{format_range(versions)}"
        simplified = self._simplify(package, versions)
        known = self.known_versions(package)
        if simplified is None and len(known) == 1:
            return f"{package}=={known[0]}"
        if simplified is None:
            return f"all versions of {package}" if subject else str(package)
        return f"{package}{format_range(simplified)}"

    def is_gap(self, package: Package, versions: VersionRange) -> bool:
        known = self.known_versions(package)
        return bool(known) and not any(versions.contains(v) for v in known)

    def no_versions(self, package: Package, versions: VersionRange) -> str:
        known = self.known_versions(package)
        if not known:
            return f"{package} was not found in the package index"
        last_upper = versions.intervals[-1][1] if versions.intervals else None
        if self.is_gap(package, versions) and last_upper is None:
            rest = versions.complement()
            return f"only {self.describe(package, rest, subject=False)} is available"
        return f"there is no version of {package}{format_range(versions)}"
