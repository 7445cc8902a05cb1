"""The result of a successful resolution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.record import Shown
from kiln.core.types import DistFile


class ResolvedPackage(NamedTuple):
    """One pinned package."""

    name: NormalizedName
    version: Version
    #: The file chosen for the target environment.
    file: DistFile
    #: Extras of this package that something requires.
    extras: frozenset[NormalizedName] = frozenset()
    #: The URL when the package came from a direct reference (``name @ url``).
    direct_url: str | None = None
    #: Universal resolutions: PEP 508 text of the environments that need this pin
    #: ("" for every environment).
    marker: str = ""


class Dependency(NamedTuple):
    """``parent`` requires ``child`` through ``requirement``; parent None is the user."""

    parent: NormalizedName | None
    child: NormalizedName
    requirement: Requirement


class _Graph:
    dependencies: tuple[Dependency, ...]

    def requirers(self, name: NormalizedName) -> list[NormalizedName | None]:
        """Who requires ``name`` (None stands for the user's requirements), sorted."""
        parents = {d.parent for d in self.dependencies if d.child == name}
        return sorted(parents, key=lambda p: (p is not None, p or ""))

    def requires(self, name: NormalizedName | None) -> list[NormalizedName]:
        """What ``name`` requires (None: the user's direct requirements), sorted."""
        return sorted({d.child for d in self.dependencies if d.parent == name})


class Resolution(Shown, _Graph):
    """One version per package, plus who requires what."""

    _fields = ("packages", "dependencies", "warnings")

    def __init__(
        self,
        packages: Mapping[NormalizedName, ResolvedPackage],
        dependencies: tuple[Dependency, ...] = (),
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.packages = packages
        self.dependencies = dependencies
        #: Versions the resolver passed over for a reason the user should hear about
        #: (metadata that could not be read), one line each.
        self.warnings = warnings

    @property
    def pins(self) -> tuple[ResolvedPackage, ...]:
        """Every package, by name."""
        return tuple(self.packages[name] for name in sorted(self.packages))


class UniversalResolution(Shown, _Graph):
    """Pins for every environment: a name may have several versions, each with the
    marker of the environments that use it (markers of one name never overlap)."""

    _fields = ("pins", "dependencies", "warnings")

    def __init__(
        self,
        pins: tuple[ResolvedPackage, ...],
        dependencies: tuple[Dependency, ...] = (),
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.pins = pins
        self.dependencies = dependencies
        #: As for :class:`Resolution`, over every fork.
        self.warnings = warnings
