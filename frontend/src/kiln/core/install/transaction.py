"""All-or-nothing changes to an environment.

Files are first staged inside a hidden directory of site-packages
(``.kiln-tmp-*``), then moved into place. Files that are replaced or removed are
moved aside, not deleted, so that a failure can put everything back.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from kiln.core.install.linking import LinkMode, link_or_copy, move

STAGING_PREFIX = ".kiln-tmp-"


class Transaction:
    """One all-or-nothing change. ``staging`` is a directory of site-packages to stage in,
    shared by the transactions of one batch (it saves a directory per transaction; the
    batch removes it); by default each transaction makes and removes its own."""

    _serial = itertools.count()

    def __init__(
        self, site_packages: Path, link_mode: LinkMode = "hardlink", staging: Path | None = None
    ) -> None:
        if staging is None:
            site_packages.mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=site_packages))
        else:
            self.root = staging
        self._own_root = staging is None
        self.link_mode = link_mode
        self._count = 0
        self._prefix = f"{next(self._serial)}-"
        self._staging = str(self.root)
        self._pending: list[tuple[str, Path]] = []  # (staged, final)
        self._placed: list[tuple[Path, Path | None]] = []  # (final, backup of what was there)
        self._removed: list[tuple[Path, Path]] = []  # (original, backup)
        self._created: list[Path] = []  # directories this transaction made
        self._existing: set[str] = set()  # directories known to exist (saves a stat per file)
        self._fresh: set[str] = set()  # directories this transaction made (so they were empty)
        #: How many staged files were hard links (the rest are copies or new files).
        self.linked = 0

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if kind is not None:
                self.rollback()
        finally:
            if self._own_root:
                shutil.rmtree(self.root, ignore_errors=True)
            else:
                self._discard_leftovers()

    def _discard_leftovers(self) -> None:
        """Remove what this transaction left in a shared staging directory (staged files
        never moved into place, backups of replaced files)."""
        for staged, _final in self._pending:
            with contextlib.suppress(OSError):
                os.unlink(staged)
        self._pending.clear()
        for name in os.listdir(self._staging):
            if name.startswith(self._prefix):
                path = os.path.join(self._staging, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)

    def _scratch(self) -> Path:
        self._count += 1
        return self.root / f"{self._prefix}{self._count}"

    def _staged_name(self) -> str:
        """A new path in the staging directory (a plain string: this runs once per file)."""
        self._count += 1
        return os.path.join(self._staging, f"{self._prefix}{self._count}")

    def stage_link(self, source: str | os.PathLike[str], final: Path) -> None:
        staged = self._staged_name()
        if link_or_copy(source, staged, self.link_mode):
            self.linked += 1
        self._pending.append((staged, final))

    def stage_bytes(self, data: bytes, final: Path, *, executable: bool = False) -> None:
        staged = self._staged_name()
        with open(staged, "wb") as handle:
            handle.write(data)
        os.chmod(staged, 0o755 if executable else 0o644)
        self._pending.append((staged, final))

    def remove(self, path: Path) -> None:
        """Move ``path`` (a file or a directory) aside; it is deleted on success."""
        if not path.exists() and not path.is_symlink():
            return
        backup = self._scratch()
        move(path, backup)
        self._removed.append((path, backup))

    def commit(self) -> None:
        """Move every staged file into place, in staging order."""
        for staged, final in self._pending:
            target = os.fspath(final)
            parent = os.path.dirname(target)
            self._make_parents(parent)
            backup = None
            # In a directory this transaction made, nothing can be in the way.
            if parent not in self._fresh and os.path.lexists(target):
                if final.is_dir() and not final.is_symlink():
                    raise IsADirectoryError(f"`{final}` is a directory")
                backup = self._scratch()
                move(final, backup)
            self._placed.append((final, backup))
            if not _replace(staged, target):
                move(Path(staged), final)
        self._pending.clear()

    def _make_parents(self, directory: str) -> None:
        if directory in self._existing:
            return
        missing = []
        while not os.path.exists(directory):
            missing.append(directory)
            directory = os.path.dirname(directory)
        for folder in reversed(missing):
            try:
                os.mkdir(folder)
            except FileExistsError:
                continue  # made meanwhile by another transaction: not ours to remove
            self._created.append(Path(folder))
            self._fresh.add(folder)
        self._existing.update(missing)
        self._existing.add(directory)

    def rollback(self) -> None:
        for final, backup in reversed(self._placed):
            with contextlib.suppress(OSError):
                final.unlink()
            if backup is not None:
                with contextlib.suppress(OSError):
                    move(backup, final)
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        for original, backup in reversed(self._removed):
            with contextlib.suppress(OSError):
                original.parent.mkdir(parents=True, exist_ok=True)
                move(backup, original)
        self._placed.clear()
        self._created.clear()
        self._removed.clear()


def _replace(source: str, destination: str) -> bool:
    """``os.replace``; False when it failed (e.g. across file systems) and a slower move
    must be tried."""
    try:
        os.replace(source, destination)
    except OSError:
        return False
    return True
