"""All-or-nothing changes to an environment.

Files are first staged inside a hidden directory of site-packages (``.kiln-tmp-*``):
each top-level entry of a destination root (``site-packages/requests``,
``site-packages/six.py``, ``bin/http``) is staged whole, as one entry of the staging
directory with its subtree below it. Committing moves each staged entry into place: an
entry whose destination does not exist yet is moved by one rename however many files it
holds; only a directory that already exists (a namespace package shared with another
distribution, a package being replaced) is entered and merged file by file. Files that
are replaced or removed are moved aside, not deleted, so that a failure can put
everything back.

Nothing is made and then removed on the way (removing inodes slows down making new ones
on some file systems), and staging touches nothing outside the staging directory, so
the transactions of a batch may stage at the same time in several threads; they commit
one after another.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from kiln.core.install.envlock import STAGING_PREFIX
from kiln.core.install.linking import LinkMode, link_or_copy, move

#: Called before an existing file is replaced, with its path and the staged file that
#: replaces it; raises to refuse (the transaction then rolls back).
Guard = Callable[[str, str], None]
_serial = itertools.count()


def _commit_order(name: str) -> tuple[bool, bool, str]:
    """Metadata goes last: ``.dist-info`` directories after everything else, and RECORD
    last of all, so a distribution looks installed only once all of it is in place."""
    return (name.endswith(".dist-info"), name == "RECORD", name)


class Transaction:
    """One all-or-nothing change. ``staging`` is a directory of site-packages to stage in,
    shared by the transactions of one batch (the batch removes it); by default each
    transaction makes and removes its own. ``guard`` decides whether committing may
    replace an existing file."""

    def __init__(
        self,
        site_packages: Path,
        link_mode: LinkMode = "hardlink",
        staging: Path | None = None,
        guard: Guard | None = None,
    ) -> None:
        self._own_root = staging is None
        if staging is None:
            site_packages.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=site_packages))
        self.root = staging
        self._prefix = os.path.join(staging, f"{next(_serial)}-")
        self.link_mode = link_mode
        self.guard = guard
        self._count = 0
        #: (destination root, top-level name) -> its staged path
        self._tops: dict[tuple[str, str], str] = {}
        self._staged_dirs: set[str] = set()  # directories made below staged entries
        self._trees: set[str] = set()  # staged entries that are directories
        self._scratches: list[str] = []
        self._placed: list[tuple[str, str | None, bool]] = []  # (final, backup, is a tree)
        self._removed: list[tuple[Path, Path]] = []  # (original, backup)
        self._created: list[str] = []  # destination roots this transaction made
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
            self.discard()

    def discard(self) -> None:
        """Remove what this transaction left in the staging directory: entries never moved
        into place and backups of replaced files (after a rollback, those are back)."""
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        for path in [*self._tops.values(), *self._scratches]:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        self._tops.clear()
        self._scratches.clear()

    def _next_name(self) -> str:
        self._count += 1
        return f"{self._prefix}{self._count}"

    # -- staging -------------------------------------------------------------------

    def _entry(self, root: str, top: str) -> str:
        """The staged path of the top-level entry ``top`` of the destination ``root``."""
        entry = self._tops.get((root, top))
        if entry is None:
            entry = self._tops[(root, top)] = self._next_name()
        return entry

    def _staged(self, root: Path, relative: str) -> str:
        """The staged path of ``relative`` (``/``-separated) under the destination ``root``,
        with its parent directories made."""
        top, sep, rest = relative.partition("/")
        entry = self._entry(os.fspath(root), top)
        if not sep:
            return entry
        self._trees.add(entry)
        staged = os.path.join(entry, *rest.split("/"))
        parent = os.path.dirname(staged)
        if parent not in self._staged_dirs:
            os.makedirs(parent, exist_ok=True)
            while parent not in self._staged_dirs and parent != entry:
                self._staged_dirs.add(parent)
                parent = os.path.dirname(parent)
            self._staged_dirs.add(entry)
        return staged

    def stage_link(self, source: str | os.PathLike[str], root: Path, relative: str) -> None:
        """Stage ``source`` to go to ``root/relative``."""
        if link_or_copy(source, self._staged(root, relative), self.link_mode):
            self.linked += 1

    def stage_many(self, source_root: str, root: Path, members: Sequence[str]) -> None:
        """Stage the files ``source_root/member`` to go to ``root/member`` for every
        ``member`` (``/``-separated): the bulk of a wheel, in one pass that makes each
        directory once and then links file after file."""
        key = os.fspath(root)
        staged_paths: list[str] = []
        parents: set[str] = set()
        for member in members:
            top, sep, rest = member.partition("/")
            entry = self._entry(key, top)
            if sep:
                staged = f"{entry}/{rest}"
                parents.add(staged.rpartition("/")[0])
                self._trees.add(entry)
            else:
                staged = entry
            staged_paths.append(staged)
        for parent in sorted(parents - self._staged_dirs):  # a parent sorts before its children
            os.makedirs(parent, exist_ok=True)
        self._staged_dirs |= parents
        link = os.link if self.link_mode == "hardlink" else None
        linked = 0
        for member, staged in zip(members, staged_paths):
            source = f"{source_root}/{member}"
            if link is not None:
                try:
                    link(source, staged)
                except OSError:
                    link = None  # another file system, no hard links: copy the rest
                else:
                    linked += 1
                    continue
            shutil.copy2(source, staged)
        self.linked += linked

    def stage_bytes(
        self, data: bytes, root: Path, relative: str, *, executable: bool = False
    ) -> None:
        """Stage a new file with ``data`` to go to ``root/relative``."""
        staged = self._staged(root, relative)
        # A new file, so its mode is set as it is made (less the umask, like any file the
        # user's programs write) instead of by a chmod afterwards.
        descriptor = os.open(
            staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
            0o755 if executable else 0o644,
        )
        with open(descriptor, "wb") as handle:
            handle.write(data)

    def _scratch(self) -> str:
        scratch = self._next_name()
        self._scratches.append(scratch)
        return scratch

    def remove(self, path: Path) -> None:
        """Move ``path`` (a file or a directory) aside; it is deleted on success."""
        if not path.exists() and not path.is_symlink():
            return
        backup = Path(self._scratch())
        move(path, backup)
        self._removed.append((path, backup))

    # -- committing ----------------------------------------------------------------

    def commit(self) -> None:
        """Move every staged entry into place, ``.dist-info`` metadata last."""
        order = sorted(self._tops, key=lambda key: _commit_order(key[1]))
        present: set[str] = set()
        for root, top in order:
            if root not in present:
                if not os.path.isdir(root):
                    self._make_root(root)
                present.add(root)
            staged = self._tops.pop((root, top))
            self._place(staged, os.path.join(root, top), staged in self._trees)

    def _make_root(self, root: str) -> None:
        missing = []
        while not os.path.isdir(root):
            missing.append(root)
            root = os.path.dirname(root)
        for folder in reversed(missing):
            try:
                os.mkdir(folder)
            except FileExistsError:
                continue  # made meanwhile by another process: not ours to remove
            self._created.append(folder)

    def _place(self, source: str, final: str, is_tree: bool) -> None:
        # Staged entries are plain files and directories, never symbolic links.
        backup = None
        if os.path.lexists(final):
            if os.path.isdir(final) and not os.path.islink(final):
                if not is_tree:
                    raise IsADirectoryError(f"`{final}` is a directory")
                for name in sorted(os.listdir(source), key=_commit_order):
                    inner = os.path.join(source, name)
                    self._place(inner, os.path.join(final, name), os.path.isdir(inner))
                os.rmdir(source)
                return
            if is_tree:
                raise NotADirectoryError(f"`{final}` is in the way of a directory")
            if self.guard is not None:
                self.guard(final, source)
            backup = self._scratch()
            move(Path(final), Path(backup))
        self._placed.append((final, backup, is_tree))
        move(Path(source), Path(final))

    def rollback(self) -> None:
        for final, backup, is_tree in reversed(self._placed):
            with contextlib.suppress(OSError):
                if is_tree:
                    shutil.rmtree(final)
                else:
                    os.unlink(final)
            if backup is not None:
                with contextlib.suppress(OSError):
                    move(Path(backup), Path(final))
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        for original, backup_path in reversed(self._removed):
            with contextlib.suppress(OSError):
                original.parent.mkdir(parents=True, exist_ok=True)
                move(backup_path, original)
        self._placed.clear()
        self._created.clear()
        self._removed.clear()
