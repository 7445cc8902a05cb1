"""Reading what is installed in an environment (``*.dist-info`` directories)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.headers import Headers, parse_headers
from kiln.core.install.environment import Environment


class InstalledDistribution(NamedTuple):
    name: NormalizedName
    display_name: str
    version: str
    dist_info: Path
    editable: bool
    requested: bool
    installer: str
    requires: tuple[str, ...]
    #: The parsed ``direct_url.json`` (PEP 610), when there is one.
    direct_url: dict[str, object] | None

    @property
    def location(self) -> Path:
        return self.dist_info.parent


def installed_distributions(env: Environment) -> list[InstalledDistribution]:
    """Every distribution in the environment's site-packages, sorted by name."""
    return distributions_in((env.scheme.purelib, env.scheme.platlib))


def distributions_in(folders: Iterable[Path]) -> list[InstalledDistribution]:
    """Every distribution in ``folders`` (site-packages directories), sorted by name; the
    first folder wins for a name found twice, and a missing folder holds none."""
    found: dict[NormalizedName, InstalledDistribution] = {}
    for folder in dict.fromkeys(folders):
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            dist = read_distribution(folder / entry)
            if dist is not None:
                found.setdefault(dist.name, dist)
    return sorted(found.values(), key=lambda d: d.name)


def find_installed(env: Environment, name: str) -> InstalledDistribution | None:
    wanted = canonicalize_name(name)
    for dist in installed_distributions(env):
        if dist.name == wanted:
            return dist
    return None


def read_distribution(dist_info: Path) -> InstalledDistribution | None:
    """The distribution described by ``dist_info``; None when its METADATA is unreadable."""
    try:
        metadata = read_headers(dist_info / "METADATA")
    except OSError:
        return None
    name = metadata.get("Name")
    version = metadata.get("Version")
    if not name or not version:
        return None
    direct_url = _direct_url(dist_info / "direct_url.json")
    dir_info = direct_url.get("dir_info") if direct_url else None
    return InstalledDistribution(
        name=canonicalize_name(str(name)),
        display_name=str(name),
        version=str(version),
        dist_info=dist_info,
        editable=isinstance(dir_info, dict) and dir_info.get("editable") is True,
        requested=(dist_info / "REQUESTED").exists(),
        installer=_read_text(dist_info / "INSTALLER").strip(),
        requires=tuple(str(r) for r in metadata.get_all("Requires-Dist") or ()),
        direct_url=direct_url,
    )


def is_complete(dist: InstalledDistribution) -> bool:
    """Whether every file the distribution's ``RECORD`` lists is present (bytecode caches
    aside: Python writes them again). False without a ``RECORD``: every installer writes
    one, kiln as the very last file of an install, so a ``.dist-info`` without it is an
    install that did not finish. True with a ``RECORD`` that cannot be read: nothing to
    compare with.

    An installed distribution that lost files (deleted by hand, or by installers racing
    each other before kiln locked environments) is not what it claims to be, so an install
    puts it back instead of counting it as satisfied.

    Checking costs a directory listing per folder the ``RECORD`` lists files in. Once a
    distribution was found whole, the modification times of those folders are remembered
    with its ``RECORD`` (see :mod:`kiln.core.statmemo`): removing a file changes its
    folder's time, so while none changed, a ``stat`` per folder answers instead. As in
    git's index, times less than two seconds old when looked at are not remembered: a
    change made within the same tick of the file system's clock would not show."""
    from kiln.core.cachedir import cache_root
    from kiln.core.statmemo import StatMemo

    record = dist.dist_info / "RECORD"
    memo = StatMemo(cache_root())
    remembered = memo.recall(record, _WHOLE)
    if remembered is not None and _unchanged(remembered):
        return True
    folders = _recorded_folders(dist)
    if folders is None:
        return record.exists()
    seen: list[tuple[str, int]] = []
    for folder, names in folders.items():
        try:
            seen.append((folder, os.stat(folder).st_mtime_ns))  # before listing it
            present = os.listdir(folder)
        except OSError:
            return False
        if not set(present).issuperset(names):
            return False
    settled = time.time_ns() - _RACY_NS
    if all(mtime < settled for _folder, mtime in seen):
        memo.remember(record, _WHOLE, lambda: json.dumps(seen).encode("utf-8"))
    return True


#: The StatMemo fact of a whole distribution: its RECORD's folders and their times.
_WHOLE = "whole-record-1"
#: How old a folder's modification time must be to be remembered (nanoseconds).
_RACY_NS = 2_000_000_000


def _unchanged(remembered: bytes) -> bool:
    try:
        seen = json.loads(remembered)
        return all(os.stat(folder).st_mtime_ns == mtime for folder, mtime in seen)
    except (OSError, ValueError, TypeError):
        return False


def _recorded_folders(dist: InstalledDistribution) -> dict[str, list[str]] | None:
    """The names ``RECORD`` lists (bytecode caches aside), by absolute folder; None when it
    cannot be read."""
    from kiln.core.install.record import parse_rows

    try:
        rows = parse_rows((dist.dist_info / "RECORD").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    location = str(dist.location)
    by_relative: dict[str, list[str]] = {}
    for path, _digest, _size in rows:
        if path.endswith((".pyc", "/")):
            continue
        folder, _, name = path.rpartition("/")
        names = by_relative.get(folder)
        if names is None:
            by_relative[folder] = [name]
        else:
            names.append(name)
    folders: dict[str, list[str]] = {}
    for folder, names in by_relative.items():
        folders.setdefault(os.path.normpath(os.path.join(location, folder)), []).extend(names)
    return folders


def read_headers(path: Path) -> Headers:
    """The header fields of an email-style file (METADATA, WHEEL); raises ``OSError``."""
    with open(path, "rb") as handle:
        return parse_headers(handle.read())


def _direct_url(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
