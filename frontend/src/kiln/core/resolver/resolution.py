"""The result of a successful resolution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.types import DistFile


@dataclass(frozen=True)
class ResolvedPackage:
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


@dataclass(frozen=True)
class Dependency:
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


@dataclass(frozen=True)
class Resolution(_Graph):
    """One version per package, plus who requires what."""

    packages: Mapping[NormalizedName, ResolvedPackage]
    dependencies: tuple[Dependency, ...] = field(default=())
    #: Versions the resolver passed over for a reason the user should hear about
    #: (metadata that could not be read), one line each.
    warnings: tuple[str, ...] = ()

    @property
    def pins(self) -> tuple[ResolvedPackage, ...]:
        """Every package, by name."""
        return tuple(self.packages[name] for name in sorted(self.packages))


@dataclass(frozen=True)
class UniversalResolution(_Graph):
    """Pins for every environment: a name may have several versions, each with the
    marker of the environments that use it (markers of one name never overlap)."""

    pins: tuple[ResolvedPackage, ...]
    dependencies: tuple[Dependency, ...] = field(default=())
    #: As for :class:`Resolution`, over every fork.
    warnings: tuple[str, ...] = ()
