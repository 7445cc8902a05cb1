"""Which package the solver decides next, and what repeated conflicts teach about it.

Packages are ranked as uv ranks them: the root first, then packages required by URL, then
those whose range is a single version, then the rest in the order their names were first
required. The extras of a name share its rank and its place, so ``foo[x]`` is decided
right after ``foo`` (and its requirements count as early as ``foo``'s).

Conflict learning: when versions of one package keep being rejected because of what was
decided for another, the order was wrong. After :data:`CONFLICT_THRESHOLD` conflicts the
rejected package (the *affected* one) is decided before ordinary packages, and the one
that caused them (the *culprit*) after it; the solver takes back the culprit's decision so
that the new order applies at once. When the next version of the affected package has only
a source distribution, whose metadata may need a build, that happens at the first conflict. Instead of walking down every version of the affected
package (and building the source distributions of its oldest ones), the resolution then
keeps its newest version and moves the culprit instead, as uv does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from packaging.utils import NormalizedName

from kiln.core.resolver.packages import Package
from kiln.core.resolver.pubgrub import Reprioritized
from kiln.core.resolver.versions import VersionRange

#: Conflicts after which a package is re-prioritized (uv's number).
CONFLICT_THRESHOLD = 5

ROOT = 6
DIRECT = 5
SINGLETON = 4
CONFLICT_EARLY = 3
CONFLICT_LATE = 2
UNSPECIFIED = 1


class Priorities:
    """The solver's order of decisions for one solve (forks start afresh)."""

    def __init__(self) -> None:
        #: Conflict ranks by name (:data:`CONFLICT_EARLY` or :data:`CONFLICT_LATE`).
        self.marks: dict[NormalizedName, int] = {}
        self._affected: dict[NormalizedName, int] = {}
        self._culprit: dict[Package, int] = {}

    def rank(
        self,
        package: Package,
        versions: VersionRange,
        *,
        direct: bool,
        name_order: Mapping[NormalizedName, int],
        order: Mapping[Package, int],
    ) -> tuple[int, int, int]:
        if package.is_root:
            rank = ROOT
        elif direct:
            rank = DIRECT
        elif versions.singleton_value() is not None or _is_single_release(versions):
            rank = SINGLETON
        else:
            rank = self.marks.get(package.name, UNSPECIFIED)
        return (
            rank,
            -name_order.get(package.name, len(name_order)),
            -order.get(package, len(order)),
        )

    def conflict(
        self,
        affected: Package,
        culprits: Sequence[Package],
        *,
        next_needs_source: Callable[[NormalizedName], bool],
    ) -> Reprioritized[Package] | None:
        """Count a conflict; past the threshold, move the packages involved. The threshold
        counts as reached at once when the next version of ``affected`` to try has only a
        source distribution (``next_needs_source``): trying it may cost a build, moving
        the culprit costs nothing."""
        real = [c for c in culprits if c.name != affected.name and not c.is_root]
        if not real or affected.is_root:
            # An extra copying its base's obligations is no conflict between packages.
            return None
        count = self._affected[affected.name] = self._affected.get(affected.name, 0) + 1
        reached = count >= CONFLICT_THRESHOLD or next_needs_source(affected.name)
        backtrack: list[Package] = []
        for culprit in real:
            times = self._culprit[culprit] = self._culprit.get(culprit, 0) + 1
            if (times >= CONFLICT_THRESHOLD or reached) and self._mark(
                culprit.name, CONFLICT_LATE
            ):
                backtrack += [culprit.base, culprit]
        early = reached and self._mark(affected.name, CONFLICT_EARLY)
        if not backtrack and not early:
            return None
        return Reprioritized(tuple(backtrack))

    def _mark(self, name: NormalizedName, rank: int) -> bool:
        """Give ``name`` a conflict rank; False when it has it already. A package marked
        early stays early (marking it late again would make the order see-saw)."""
        current = self.marks.get(name)
        if current in (CONFLICT_EARLY, rank):
            return False
        self.marks[name] = rank
        return True


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
