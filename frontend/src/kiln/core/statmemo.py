"""Facts derived from local files (a wheel's sha256, its metadata), kept across runs.

Hashing a wheel or opening it to read its metadata costs far more than asking the file
system whether the file changed. An entry is keyed by the file's absolute path, size,
inode, and modification and change times, so any change to the file (rewritten, replaced,
touched) misses the entry and the fact is computed again. Stored under
``<cache>/local-v1/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

BUCKET = "local-v1"


class StatMemo:
    def __init__(self, cache_root: Path) -> None:
        self.root = cache_root / BUCKET

    def remember(self, path: Path, kind: str, compute: Callable[[], bytes]) -> bytes:
        """The ``kind`` fact about ``path``: stored, or ``compute()``d and stored."""
        entry = self._entry(path, kind)
        stored = _read(entry)
        if stored is not None:
            return stored
        value = compute()
        if entry is not None:
            # Imported here: looking facts up (an install with nothing to do) needs no
            # `tempfile`. A read-only cache only costs the next run the work again.
            from kiln.core.fileio import write_atomic

            with contextlib.suppress(OSError):
                write_atomic(entry, value)
        return value

    def recall(self, path: Path, kind: str) -> bytes | None:
        """The stored ``kind`` fact about ``path``, if there is one (nothing is computed)."""
        return _read(self._entry(path, kind))

    def _entry(self, path: Path, kind: str) -> Path | None:
        try:
            info = os.stat(path)
        except OSError:
            return None
        identity = "\0".join((
            kind, os.path.abspath(path), str(info.st_size), str(info.st_ino), str(info.st_dev),
            str(info.st_mtime_ns), str(info.st_ctime_ns),
        ))
        digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return self.root / digest[:2] / digest


def _read(entry: Path | None) -> bytes | None:
    if entry is None:
        return None
    try:
        return entry.read_bytes()
    except OSError:
        return None
