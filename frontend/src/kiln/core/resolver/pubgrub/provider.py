"""What the solver asks of the outside world."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

from kiln.core.record import Shown
from kiln.core.resolver.pubgrub.ranges import Comparable, Range

P = TypeVar("P", bound=Hashable)
V = TypeVar("V", bound=Comparable)


class Unavailable(Shown):
    """A version that exists but cannot be used; ``reason`` reads after ``pkg==version``.

    For example ``"is yanked"`` or ``"has no wheel for the target platform"``.

    A plain class rather than a tuple: it is one side of a union with a mapping and told
    apart by ``isinstance``.
    """

    __slots__ = ("reason",)
    _fields = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Reprioritized(Shown, Generic[P]):
    """The provider's priorities changed after a conflict: the solver re-orders what is
    left to decide, and first takes back the decisions of ``backtrack`` (and everything
    decided after them), so that those packages are decided again, later."""

    __slots__ = ("backtrack",)
    _fields = ("backtrack",)

    def __init__(self, backtrack: tuple[P, ...] = ()) -> None:
        self.backtrack = backtrack


class DependencyProvider(Protocol[P, V]):
    """The solver's view of a package universe."""

    def prioritize(self, package: P, versions: Range[V]) -> tuple[int, ...]:
        """Priority of deciding ``package`` next: the highest tuple is decided first."""
        ...

    def choose_version(self, package: P, versions: Range[V]) -> V | None:
        """The preferred version of ``package`` inside ``versions``, or None when none fits."""
        ...

    def get_dependencies(
        self, package: P, version: V
    ) -> Mapping[P, Range[V]] | Unavailable:
        """What ``package`` at ``version`` requires, or why that version cannot be used."""
        ...

    def proxy_of(self, package: P) -> P | None:
        """The package whose version ``package`` always has, or None.

        A proxy (an extra of a Python package) at version V depends on its base at V.
        Once the base is decided, the solver gives the proxy that version without asking
        :meth:`choose_version`, and when the proxy's range excludes it, learns at once that
        the proxy's range needs the base in the same range, instead of trying every
        version of the proxy in turn."""
        ...

    def conflict(self, affected: P, culprits: Sequence[P]) -> Reprioritized[P] | None:
        """A version of ``affected`` was just rejected because of what the solution says
        of ``culprits``. A provider that learns from repeated conflicts answers with
        :class:`Reprioritized` when its priorities changed; None otherwise."""
        ...
