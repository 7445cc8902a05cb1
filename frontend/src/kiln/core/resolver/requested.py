"""What requirements say about each package name, beyond a version range: the versions
pinned exactly, the extras asked for and whether a pre-release is named; which of the
user's requirements pin a package so exactly that the source may leave out the files of
its other versions; and which yanked versions the user's own pins allow."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.record import Shown
from kiln.core.resolver.environment import ResolverEnvironment
from kiln.core.resolver.versions import mentions_prerelease


class Requested(Shown):
    """What the requirements seen so far say about one name (updated in place as more
    requirements are met)."""

    __slots__ = ("extras", "pins", "prerelease")
    _fields = ("prerelease", "pins", "extras")

    def __init__(
        self,
        prerelease: bool = False,
        pins: set[Version] | None = None,
        extras: set[str] | None = None,
    ) -> None:
        self.prerelease = prerelease
        self.pins: set[Version] = set() if pins is None else pins
        self.extras: set[str] = set() if extras is None else extras


class RequestLog:
    """:class:`Requested` per name, noted as requirements are met during a resolution.

    Written by the solver's thread only; the prefetching threads read it, and tolerate a
    read that races with a write (they only guess)."""

    def __init__(self) -> None:
        self.by_name: dict[NormalizedName, Requested] = {}

    def note(self, name: NormalizedName, requirement: Requirement) -> None:
        requested = self.by_name.get(name)
        if requested is None:
            requested = self.by_name[name] = Requested()
        if requirement.extras:
            requested.extras.update(canonicalize_name(extra) for extra in requirement.extras)
        if mentions_prerelease(requirement.specifier):
            requested.prerelease = True
        for specifier in requirement.specifier:
            if is_exact(specifier):
                try:
                    requested.pins.add(Version(specifier.version))
                except ValueError:
                    continue

    def pins(self, name: NormalizedName) -> frozenset[Version]:
        requested = self.by_name.get(name)
        return frozenset(requested.pins) if requested is not None else frozenset()

    def extras(self, name: NormalizedName) -> tuple[str, ...]:
        requested = self.by_name.get(name)
        return tuple(requested.extras) if requested is not None else ()

    def names_prerelease(self, name: NormalizedName) -> bool:
        requested = self.by_name.get(name)
        return requested is not None and requested.prerelease


def is_exact(specifier: Specifier) -> bool:
    """``==1.2`` or ``===anything``: one version (and its local variants), not a prefix."""
    return specifier.operator == "===" or (
        specifier.operator == "==" and not specifier.version.endswith(".*")
    )


def pinned_versions(
    requirements: Iterable[Requirement],
    env: ResolverEnvironment,
    overrides: Mapping[NormalizedName, object],
) -> dict[NormalizedName, SpecifierSet]:
    """Packages that a root requirement or a constraint pins exactly (``==1.2``, not
    ``==1.*``), with the specifiers every solution must meet: no other version of them
    can be chosen, so the source need not build their other files (a page of a large
    project lists tens of thousands). Overridden packages are left alone: an override
    replaces the root requirement too."""
    narrowed: dict[NormalizedName, SpecifierSet] = {}
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name in overrides or requirement.url is not None or not env.evaluate(
            requirement.marker
        ):
            continue
        if requirement.marker is not None and not env.concrete:
            continue  # the pin holds in part of a universal resolution only
        if any(is_exact(specifier) for specifier in requirement.specifier):
            current = narrowed.get(name)
            narrowed[name] = (
                requirement.specifier if current is None else current & requirement.specifier
            )
    return narrowed


def yanked_allowed(
    requirements: Iterable[Requirement], env: ResolverEnvironment
) -> dict[NormalizedName, frozenset[Version]]:
    """The versions a yanked file may be used for: those the user's own requirements,
    constraints or overrides (``requirements``, where their markers apply) pin with one
    ``==`` or ``===`` specifier (PEP 592 as uv applies it). A dependency's pin on a yanked
    version does not count: yanking is how a release says it should not be picked."""
    allowed: dict[NormalizedName, set[Version]] = {}
    for requirement in requirements:
        specifiers = list(requirement.specifier)
        if requirement.url is not None or len(specifiers) != 1 or not is_exact(specifiers[0]):
            continue
        if not env.evaluate(requirement.marker):
            continue
        try:
            version = Version(specifiers[0].version)
        except ValueError:
            continue
        allowed.setdefault(canonicalize_name(requirement.name), set()).add(version)
    return {name: frozenset(versions) for name, versions in allowed.items()}
