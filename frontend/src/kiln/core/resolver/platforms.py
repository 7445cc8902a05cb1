"""The environments a wheel can be installed in, from its platform tags, as a marker set:
what ``required-environments`` of a lock is checked against.

Only the platform part of a tag counts (the operating system and the machine); a tag this
module does not know serves every environment, so that nothing is refused on a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from packaging.markers import Marker
from packaging.tags import Tag

from kiln.core.markers import MarkerSet, marker_set
from kiln.core.types import DistFile

_LINUX = re.compile(r"^(?:many|musl)?linux(?:1|2010|2014|_\d+_\d+)?_(?P<machine>.+)$")
_MACOS = re.compile(r"^macosx_\d+_\d+_(?P<machine>.+)$")
_MACOS_MACHINES = {
    "universal2": ("arm64", "x86_64"),
    "intel": ("x86_64", "i386"),
    "universal": ("x86_64", "i386", "ppc", "ppc64"),
    "fat": ("i386", "ppc"),
    "fat3": ("x86_64", "i386", "ppc"),
    "fat32": ("i386", "ppc"),
    "fat64": ("x86_64", "ppc64"),
}
_WINDOWS_MACHINES = {"win_amd64": ("AMD64",), "win_arm64": ("ARM64",)}


@lru_cache(maxsize=1024)
def platform_environments(platform: str) -> MarkerSet:
    """The environments a wheel with the platform tag ``platform`` serves."""
    if platform == "any":
        return MarkerSet.true()
    linux = _LINUX.match(platform)
    if linux is not None:
        return _system("linux", "Linux", "posix", (linux["machine"],))
    macos = _MACOS.match(platform)
    if macos is not None:
        machine = macos["machine"]
        return _system("darwin", "Darwin", "posix", _MACOS_MACHINES.get(machine, (machine,)))
    if platform == "win32" or platform in _WINDOWS_MACHINES:
        # A 32-bit Windows wheel runs on any Windows machine (the marker names the machine).
        return _system("win32", "Windows", "nt", _WINDOWS_MACHINES.get(platform, ()))
    return MarkerSet.true()


def _system(sys_platform: str, system: str, os_name: str, machines: Sequence[str]) -> MarkerSet:
    text = (f'sys_platform == "{sys_platform}" and platform_system == "{system}" '
            f'and os_name == "{os_name}"')
    if machines:
        text += " and (" + " or ".join(f'platform_machine == "{m}"' for m in machines) + ")"
    return marker_set(Marker(text))


def wheel_environments(tags: Iterable[Tag]) -> MarkerSet:
    """The environments a wheel with ``tags`` serves (the union over its tags)."""
    found = MarkerSet.false()
    for platform in sorted({tag.platform for tag in tags}):
        found = found | platform_environments(platform)
    return found


def serves(files: Sequence[DistFile], environment: MarkerSet) -> bool:
    """Whether one of ``files`` can be installed somewhere in ``environment``: a source
    distribution (or a direct reference) can be built anywhere."""
    return any(
        file.tags is None or wheel_environments(file.tags).overlaps(environment)
        for file in files
    )
