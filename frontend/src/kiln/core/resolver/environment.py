"""The environment a resolution is for: marker values, wheel tags and Python version."""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol

from packaging import tags
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.version import Version

from kiln.core.record import Shown
from kiln.core.types import DistFile
from kiln.errors import KilnError

#: ``--python-platform`` values: marker values and wheel platform tags, best first (the plain
#: ``linux_<arch>`` first, as for an interpreter: see core/platformtags.py).
_PLATFORMS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "linux": (
        {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
         "platform_machine": "x86_64"},
        ("linux_x86_64", *(f"manylinux_2_{m}_x86_64" for m in range(40, 16, -1)),
         "manylinux2014_x86_64"),
    ),
    "linux-aarch64": (
        {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
         "platform_machine": "aarch64"},
        ("linux_aarch64", *(f"manylinux_2_{m}_aarch64" for m in range(40, 16, -1)),
         "manylinux2014_aarch64"),
    ),
    "macos": (
        {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
         "platform_machine": "arm64"},
        (*(f"macosx_{v}_0_arm64" for v in range(15, 10, -1)),
         *(f"macosx_{v}_0_universal2" for v in range(15, 10, -1))),
    ),
    "macos-x86_64": (
        {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
         "platform_machine": "x86_64"},
        (*(f"macosx_{v}_0_x86_64" for v in range(15, 10, -1)),
         *(f"macosx_10_{v}_x86_64" for v in range(16, 8, -1))),
    ),
    "windows": (
        {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
         "platform_machine": "AMD64"},
        ("win_amd64",),
    ),
}
_ALIASES = {
    "x86_64-unknown-linux-gnu": "linux",
    "x86_64-manylinux_2_17": "linux",
    "aarch64-unknown-linux-gnu": "linux-aarch64",
    "aarch64-apple-darwin": "macos",
    "x86_64-apple-darwin": "macos-x86_64",
    "x86_64-pc-windows-msvc": "windows",
    "darwin": "macos",
    "win32": "windows",
}

PLATFORM_NAMES: tuple[str, ...] = tuple(sorted({*_PLATFORMS, *_ALIASES}))


class ResolverEnvironment(Protocol):
    """What the provider asks of the environments it resolves for: one concrete
    environment (:class:`TargetEnvironment`) or a fork of a universal resolution."""

    @property
    def concrete(self) -> bool:
        """True for one concrete environment: every marker is simply true or false."""
        ...

    @property
    def markers(self) -> Mapping[str, str]:
        """Marker values of a concrete environment (settings with markers use them)."""
        ...

    @property
    def python_version(self) -> Version:
        """The Python version that ``requires-python`` must admit."""
        ...

    def tag_rank(self, tag: Tag) -> int | None:
        """Position of ``tag`` in the preference list (0 is best), None if unsupported."""
        ...

    def evaluate(self, marker: Marker | None, extra: str = "") -> bool:
        """Whether a requirement with ``marker`` applies (anywhere in this environment)."""
        ...

    def split(
        self, requirements: Sequence[Requirement], extra: str, *, also: Sequence[Marker] = ()
    ) -> None:
        """Raise when requirements on one name differ by marker inside this environment."""
        ...

    def split_python(self, requires_python: Sequence[SpecifierSet | None]) -> None:
        """Raise when ``requires-python`` admits only part of this environment's Pythons."""
        ...

    def unserved(self, files: Sequence[DistFile]) -> str | None:
        """A required environment that none of ``files`` (one version's) can be installed
        in, if any (``required-environments`` of a lock)."""
        ...


class TargetEnvironment(Shown):
    """Marker values and supported wheel tags (best first) of the environment to resolve for.

    Not modified after creation."""

    __slots__ = ("_tag_rank", "markers", "tags")
    _fields = ("markers", "tags")

    def __init__(self, markers: Mapping[str, str], tags: Sequence[Tag]) -> None:
        self.markers = markers
        self.tags = tags
        # The best (first) position of each tag, for ranking a version's files.
        self._tag_rank: Mapping[Tag, int] = {
            tag: index for index, tag in reversed(list(enumerate(tags)))
        }

    @property
    def python_version(self) -> Version:
        """The full interpreter version (``python_full_version``), e.g. ``3.12.4``."""
        return Version(self.markers["python_full_version"])

    def tag_rank(self, tag: Tag) -> int | None:
        """Position of ``tag`` in the preference list (0 is best), None if unsupported."""
        return self._tag_rank.get(tag)

    def evaluate(self, marker: Marker | None, extra: str = "") -> bool:
        if marker is None:
            return True
        return marker.evaluate({**self.markers, "extra": extra})

    #: One concrete environment: markers evaluate to true or false.
    concrete: ClassVar[bool] = True

    def split(
        self, requirements: Sequence[Requirement], extra: str, *, also: Sequence[Marker] = ()
    ) -> None:
        """Nothing to split: a concrete environment is never forked."""

    def split_python(self, requires_python: Sequence[SpecifierSet | None]) -> None:
        """Nothing to split: a concrete environment has one Python version."""

    def unserved(self, files: Sequence[DistFile]) -> str | None:
        """Nothing is required beyond this environment, which the file choice checks."""
        return None

    @classmethod
    def current(cls) -> TargetEnvironment:
        """The running interpreter: its markers and tags computed as for any probed
        interpreter, from facts the probe's functions gather in process."""
        return cls(_default_markers(), tuple(_running_tags()))

    @classmethod
    def for_target(
        cls, python_version: str | None = None, python_platform: str | None = None
    ) -> TargetEnvironment:
        """The running interpreter with ``--python-version``/``--python-platform`` applied."""
        if python_version is None and python_platform is None:
            return cls.current()
        markers = _default_markers()
        if python_version is not None:
            try:
                parsed = Version(python_version)
            except ValueError:
                parsed = None
            if parsed is None or len(parsed.release) < 2 or parsed.release[0] != 3:
                raise KilnError(
                    f"invalid Python version `{python_version}`",
                    hint="use a version like `3.12` or `3.12.4`",
                )
            major, minor = parsed.release[0], parsed.release[1]
            markers["python_version"] = f"{major}.{minor}"
            markers["python_full_version"] = (
                str(parsed) if len(parsed.release) > 2 else f"{major}.{minor}.0"
            )
        else:
            major, minor = sys.version_info[:2]
        platforms: list[str] | None = None
        if python_platform is not None:
            key = _ALIASES.get(python_platform, python_platform)
            if key not in _PLATFORMS:
                raise KilnError(
                    f"unknown Python platform `{python_platform}`",
                    hint="choose one of: " + ", ".join(f"`{n}`" for n in PLATFORM_NAMES),
                )
            values, platform_tags = _PLATFORMS[key]
            markers.update(values)
            markers["platform_release"] = ""
            markers["platform_version"] = ""
            platforms = list(platform_tags)
        interpreter = (major, minor)
        if platform.python_implementation() != "CPython" and python_version is None:
            supported = _running_tags() if platforms is None else []
        else:
            supported = []
        if not supported:
            supported = [
                *tags.cpython_tags(interpreter, platforms=platforms),
                *tags.compatible_tags(interpreter, "cp" + f"{major}{minor}", platforms=platforms),
            ]
        markers["implementation_name"] = markers.get("implementation_name", "cpython")
        return cls(markers, tuple(supported))


def _default_markers() -> dict[str, str]:
    from kiln.core.interpreter_probe import marker_environment

    return marker_environment()


def _running_tags() -> list[Tag]:
    from kiln.core.platformtags import running_facts, supported_tags

    return supported_tags(running_facts())
