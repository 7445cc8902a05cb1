"""A generic PubGrub version solver.

Nothing in this package knows about Python packaging: packages are any hashable
values, versions are any totally ordered values, and the outside world is
reached through a :class:`~kiln.core.resolver.pubgrub.provider.DependencyProvider`.
"""

from __future__ import annotations

from kiln.core.resolver.pubgrub.incompatibility import Incompatibility
from kiln.core.resolver.pubgrub.provider import DependencyProvider, Reprioritized, Unavailable
from kiln.core.resolver.pubgrub.ranges import Range
from kiln.core.resolver.pubgrub.report import TermFormatter, explain
from kiln.core.resolver.pubgrub.solver import NoSolution, solve
from kiln.core.resolver.pubgrub.term import Term

__all__ = [
    "DependencyProvider",
    "Incompatibility",
    "NoSolution",
    "Range",
    "Reprioritized",
    "Term",
    "TermFormatter",
    "Unavailable",
    "explain",
    "solve",
]
