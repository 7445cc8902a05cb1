"""What the solver asks of the outside world."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from kiln.core.resolver.pubgrub.ranges import Comparable, Range

P = TypeVar("P", bound=Hashable)
V = TypeVar("V", bound=Comparable)


@dataclass(frozen=True)
class Unavailable:
    """A version that exists but cannot be used; ``reason`` reads after ``pkg==version``.

    For example ``"is yanked"`` or ``"has no wheel for the target platform"``.
    """

    reason: str


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
