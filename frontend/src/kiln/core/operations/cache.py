"""Cleaning kiln's cache: everything, one package's entries, or leftovers (``prune``).

The cache root holds versioned buckets: ``simple-v1`` (index pages), ``pages-v1``
(parsed index pages, one folder per package), ``files-v1`` (downloads), ``wheels-v1`` (unpacked wheels), ``build-envs-v1``, ``git-v1``,
``interpreter-v2``, ``local-v1`` and ``environments-v1`` (the environments of PEP 723
scripts). ``build-backend`` (the metadata cache that earlier
versions of kiln_build kept) and ``build-sources-v1`` (build requirements' ``url`` sources,
now in ``files-v1``) are obsolete and pruned. Every change
holds ``<root>/.lock`` so two kiln processes never clean at once.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from filelock import FileLock
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from kiln.core.operations.syncrecord import SNAPSHOTS_BUCKET
from kiln.errors import KilnError

#: Name prefixes of temporary files and directories that a crash may leave behind.
TEMPORARY_PREFIXES = (".tmp-", ".download-", "kiln-tmp-")
#: Buckets no kiln version reads any more: kiln_build's metadata cache (now gone), and the
#: downloads of build requirements' ``url`` sources (now in the index client's ``files-v1``).
OBSOLETE_BUCKETS = ("build-backend", "build-sources-v1")


class CleanReport:
    """How many files, and how many bytes, a clean removed (counted as it goes)."""

    __slots__ = ("bytes", "files")

    def __init__(self, files: int = 0, bytes: int = 0) -> None:
        self.files = files
        self.bytes = bytes


def _lock(root: Path) -> FileLock:
    root.mkdir(parents=True, exist_ok=True)
    return FileLock(str(root / ".lock"))


def _measure(path: Path, report: CleanReport) -> None:
    if path.is_symlink() or path.is_file():
        report.files += 1
        report.bytes += path.lstat().st_size
        return
    for parent, _dirs, files in os.walk(path):
        for name in files:
            try:
                report.bytes += (Path(parent) / name).lstat().st_size
            except OSError:
                continue
            report.files += 1


def _remove(path: Path, report: CleanReport) -> None:
    _measure(path, report)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise KilnError(f"cannot remove `{path}` from the cache: {exc.strerror or exc}") from None


def clean_all(root: Path) -> CleanReport:
    """Remove everything in the cache (the root itself stays, with its lock file)."""
    report = CleanReport()
    if not root.exists():
        return report
    with _lock(root):
        for entry in sorted(root.iterdir()):
            if entry.name != ".lock":
                _remove(entry, report)
    return report


def clean_packages(root: Path, names: Iterable[str]) -> CleanReport:
    """Remove the index pages, downloads and unpacked wheels of the named packages."""
    wanted = {canonicalize_name(n) for n in names}
    report = CleanReport()
    if not root.exists():
        return report
    with _lock(root):
        for path in _package_entries(root, wanted):
            _remove(path, report)
    return report


def _package_entries(root: Path, wanted: set[NormalizedName]) -> Iterator[Path]:
    for entry in _children(root / "simple-v1", depth=2):
        if _page_package(entry) in wanted:
            yield entry
    for parsed in _children(root / "pages-v1", depth=1):
        if parsed.name in wanted:
            yield parsed
    for digest_dir in _children(root / "files-v1", depth=2):
        if digest_dir.parent.name in ("by-url", "locks") or not digest_dir.is_dir():
            continue
        if any(_file_package(f.name) in wanted for f in digest_dir.iterdir()):
            yield digest_dir
    for unpacked in _children(root / "wheels-v1", depth=1):
        if unpacked.is_dir() and any(
            p.name.endswith(".dist-info") and canonicalize_name(p.name.split("-", 1)[0]) in wanted
            for p in unpacked.iterdir()
        ):
            yield unpacked


def _children(folder: Path, *, depth: int) -> list[Path]:
    level = [folder] if folder.is_dir() else []
    for _ in range(depth):
        level = [child for parent in level if parent.is_dir() for child in sorted(parent.iterdir())]
    return level


def _page_package(entry: Path) -> NormalizedName | None:
    """The package of a cached index page, from the URL stored in its first line."""
    try:
        with open(entry, "rb") as handle:
            meta = json.loads(handle.readline())
        url = str(meta["url"]).rstrip("/")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return canonicalize_name(url.rsplit("/", 1)[-1])


def _file_package(filename: str) -> NormalizedName | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def prune(root: Path, *, ci: bool = False) -> CleanReport:
    """Remove what no kiln run can use: temporary leftovers, unfinished build environments.

    ``ci`` (``--ci``) also removes what is cheaper to download again than to keep in a
    cache a CI system saves and restores: downloaded wheels (``files-v1``) and unpacked
    wheels (``wheels-v1``), with the snapshots of environments that link them; sdists,
    build environments and git mirrors are kept."""
    report = CleanReport()
    if not root.exists():
        return report
    with _lock(root):
        for parent, dirs, files in os.walk(root):
            here = Path(parent)
            for name in [*dirs, *files]:
                if name.startswith(TEMPORARY_PREFIXES):
                    _remove(here / name, report)
            dirs[:] = [d for d in dirs if not d.startswith(TEMPORARY_PREFIXES)]
        envs = root / "build-envs-v1"
        for entry in _children(envs, depth=1):
            if entry.is_dir() and not (entry / "kiln-build-env.json").is_file():
                _remove(entry, report)
        for name in OBSOLETE_BUCKETS:
            if (root / name).is_dir() and not (root / name).is_symlink():
                _remove(root / name, report)
        if ci:
            for path in _wheel_entries(root):
                _remove(path, report)
            snapshots = root / SNAPSHOTS_BUCKET  # they link the unpacked wheels just removed
            if snapshots.is_dir() and not snapshots.is_symlink():
                _remove(snapshots, report)
    return report


def _wheel_entries(root: Path) -> Iterator[Path]:
    """The downloaded and the unpacked wheels of the cache."""
    for digest_dir in _children(root / "files-v1", depth=2):
        if digest_dir.parent.name in ("by-url", "locks") or not digest_dir.is_dir():
            continue
        if any(f.name.endswith(".whl") for f in digest_dir.iterdir()):
            yield digest_dir
    for unpacked in _children(root / "wheels-v1", depth=1):
        if unpacked.is_dir() and not unpacked.is_symlink():
            yield unpacked


def human_size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    return f"{size:.1f}GiB"
