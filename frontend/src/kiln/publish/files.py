"""Finding distribution files and grouping each sdist with the wheels of the same release."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from kiln.errors import KilnError

DEFAULT_PATTERN = os.path.join("dist", "*")
_LOOKS_LIKE_A_DIST = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".egg")


class DistFilename(NamedTuple):
    """What a distribution's file name says about it."""

    path: Path
    name: NormalizedName
    version: Version
    #: ``bdist_wheel`` or ``sdist``, as the upload API spells it.
    filetype: str
    #: Wheel python tags joined by ``.`` (``py3``, ``cp312``), or ``source`` for an sdist.
    pyversion: str

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def is_wheel(self) -> bool:
        return self.filetype == "bdist_wheel"


class Release(NamedTuple):
    """The files of one project version: its sdist (if any) and its wheels."""

    name: NormalizedName
    version: Version
    sdist: DistFilename | None
    wheels: tuple[DistFilename, ...]

    @property
    def files(self) -> tuple[DistFilename, ...]:
        """Upload order: wheels first, then the sdist (as twine and uv do)."""
        return self.wheels + ((self.sdist,) if self.sdist else ())


class Discovery(NamedTuple):
    releases: tuple[Release, ...]
    #: Files that matched a pattern but are not wheels or sdists (with the reason).
    ignored: tuple[tuple[Path, str], ...]

    @property
    def files(self) -> tuple[DistFilename, ...]:
        return tuple(f for release in self.releases for f in release.files)


def parse_filename(path: Path) -> DistFilename:
    """Parse a wheel or sdist file name; raise ``ValueError`` with the reason otherwise."""
    name = path.name
    if name.endswith(".whl"):
        try:
            project, version, _build, tags = parse_wheel_filename(name)
        except InvalidWheelFilename as exc:
            raise ValueError(f"not a valid wheel file name: {exc}") from None
        pythons = sorted({tag.interpreter for tag in tags})
        return DistFilename(path, project, version, "bdist_wheel", ".".join(pythons))
    if name.endswith((".tar.gz", ".zip")):
        try:
            project, version = parse_sdist_filename(name)
        except InvalidSdistFilename as exc:
            raise ValueError(f"not a valid sdist file name: {exc}") from None
        return DistFilename(path, project, version, "sdist", "source")
    raise ValueError("not a wheel (`.whl`) or an sdist (`.tar.gz`)")


def discover(patterns: Sequence[str], *, base: Path | None = None) -> Discovery:
    """Expand ``patterns`` (default ``dist/*``) and group the distributions into releases.

    An explicit pattern that matches nothing is an error; so is finding no distribution
    at all. Other files that match are ignored and reported back to the caller.
    """
    base = base or Path.cwd()
    explicit = bool(patterns)
    paths: set[Path] = set()
    for pattern in patterns or [DEFAULT_PATTERN]:
        matches = _expand(pattern, base)
        if not matches and explicit:
            raise KilnError(
                f"no file matches `{pattern}`",
                hint="pass paths or glob patterns of wheels and sdists, e.g. `dist/*`",
            )
        paths.update(matches)
    dists: list[DistFilename] = []
    ignored: list[tuple[Path, str]] = []
    for path in sorted(paths):
        try:
            dists.append(parse_filename(path))
        except ValueError as exc:
            if explicit or path.name.endswith(_LOOKS_LIKE_A_DIST):
                ignored.append((path, str(exc)))
    if not dists:
        where = "the given paths" if explicit else "`dist/`"
        raise KilnError(
            f"no wheels or sdists found in {where}",
            hint=None if explicit else "run `kiln build` first, or name the files to publish",
        )
    return Discovery(group(dists), tuple(ignored))


def group(dists: Sequence[DistFilename]) -> tuple[Release, ...]:
    """Group files by (name, version); releases and wheels sorted by file name."""
    by_release: dict[tuple[NormalizedName, Version], list[DistFilename]] = {}
    for dist in sorted(dists, key=lambda d: d.filename):
        by_release.setdefault((dist.name, dist.version), []).append(dist)
    releases: list[Release] = []
    for (name, version), members in sorted(by_release.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        sdists = [m for m in members if not m.is_wheel]
        if len(sdists) > 1:
            listed = ", ".join(f"`{s.filename}`" for s in sdists)
            raise KilnError(
                f"more than one sdist for {name} {version}: {listed}",
                hint="a release has at most one source distribution; publish only one of them",
            )
        wheels = tuple(m for m in members if m.is_wheel)
        releases.append(Release(name, version, sdists[0] if sdists else None, wheels))
    return tuple(releases)


def _expand(pattern: str, base: Path) -> list[Path]:
    full = pattern if os.path.isabs(pattern) else os.path.join(base, pattern)
    return [Path(p) for p in glob.glob(full) if os.path.isfile(p)]
