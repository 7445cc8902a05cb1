"""Snapshots of new environments, to make the same environment again by linking.

Right after a sync has made an environment and filled it from the cache's unpacked wheels,
a *snapshot* lists everything in it: its directories, its symbolic links, every file that
is a hard link of a file of those unpacked wheels (by that file's path in the cache) and
the few files written for this environment alone (``pyvenv.cfg``, activation scripts,
script launchers, each ``RECORD`` and ``INSTALLER``), by content. :func:`restore` makes the
same environment from it with one system call per entry: no wheel, ``RECORD`` or
``entry_points.txt`` is read and no installer code runs.

A snapshot is a cache of what making an environment produced, so whoever keeps one keys it
by everything that shaped it (see :func:`kiln.core.operations.syncrecord.snapshot_key`).
An environment with copied files (another link mode, another file system than the cache)
or byte code has no snapshot: it would only duplicate those files.

The environment is restored in a directory beside its final place,
``.kiln-new-<name>-<process id>``, and renamed into place when complete: it is there whole or
not at all. A restore that was killed leaves that directory behind; the next restore at the
same place removes it.

This module is on the path of a ``kiln sync`` into a new environment: it imports little.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

#: A snapshot whose written files hold more bytes than this is not taken.
MAX_WRITTEN = 1 << 20
#: The start of the name of the directory an environment is restored in before it is moved
#: into place; the environment's name, a dash and the process id follow.
_ASIDE = ".kiln-new-"
#: Written first, so that a directory left by a killed restore can be recognised.
_FIRST = "pyvenv.cfg"


class Snapshot(NamedTuple):
    """Everything in an environment, by paths relative to it (``/``-separated)."""

    #: Directories, each after its parent.
    directories: list[str]
    #: Symbolic links: (path, target).
    symlinks: list[tuple[str, str]]
    #: Hard links of files of the cache: (path, the file's path relative to the cache).
    links: list[tuple[str, str]]
    #: Files written for this environment: (path, content, permission bits).
    written: list[tuple[str, str, int]]

    def to_json(self) -> dict[str, object]:
        return {
            "directories": self.directories,
            "symlinks": [list(entry) for entry in self.symlinks],
            "links": [list(entry) for entry in self.links],
            "written": [list(entry) for entry in self.written],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Snapshot | None:
        """The snapshot ``data`` holds; None when it is not one, or names a path outside the
        environment or the cache."""
        try:
            directories = [str(path) for path in _rows(data["directories"])]
            symlinks = [(str(p), str(t)) for p, t in _rows(data["symlinks"])]
            links = [(str(p), str(s)) for p, s in _rows(data["links"])]
            written = [(str(p), str(c), int(m)) for p, c, m in _rows(data["written"])]
        except (KeyError, TypeError, ValueError):
            return None
        paths = [*directories, *(p for p, _ in symlinks), *(p for p, _ in links),
                 *(s for _, s in links), *(p for p, _, _ in written)]
        if _leaves(paths):
            return None
        return cls(directories, symlinks, links, written)


def _rows(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return value


def _leaves(paths: Sequence[str]) -> bool:
    """Whether a relative path of ``paths`` leaves the directory it is relative to: it has
    an empty part (as an absolute path has first), a ``.`` or ``..`` part, or a backslash or
    colon (a separator or a drive elsewhere). Each path is searched as ``/path/``."""
    joined = "/" + "/\n/".join(paths) + "/"
    return any(bad in joined for bad in ("//", "/./", "/../", "\\", ":"))


def take(
    prefix: Path, cache: Path, trees: Sequence[Path], *, leave_out: Collection[str] = ()
) -> Snapshot | None:
    """The snapshot of the environment at ``prefix``, whose linked files come from the
    unpacked wheels ``trees`` of ``cache``; ``leave_out``: relative paths not to include
    (the records written after an environment is made). None when the environment holds
    another kind of file: a copy, byte code, anything but small UTF-8 text (see the
    module's docstring), or when it cannot be read."""
    try:
        sources: dict[tuple[int, int], str] = {}
        for tree in trees:
            _index(str(tree), os.path.relpath(tree, cache).replace(os.sep, "/"), sources)
        snapshot = Snapshot([], [], [], [])
        budget = _walk(str(prefix), "", sources, frozenset(leave_out), snapshot, MAX_WRITTEN)
    except (OSError, UnicodeDecodeError):
        return None
    return snapshot if budget >= 0 else None


def _index(folder: str, relative: str, sources: dict[tuple[int, int], str]) -> None:
    """Add the files below ``folder`` to ``sources``, by device and inode."""
    with os.scandir(folder) as entries:
        for entry in entries:
            path = f"{relative}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                _index(entry.path, path, sources)
            elif entry.is_file(follow_symlinks=False):
                found = entry.stat(follow_symlinks=False)
                sources[(found.st_dev, found.st_ino)] = path


def _walk(
    folder: str,
    relative: str,
    sources: Mapping[tuple[int, int], str],
    leave_out: frozenset[str],
    snapshot: Snapshot,
    budget: int,
) -> int:
    """Add what is below ``folder`` to ``snapshot``; returns what is left of ``budget``
    (the bytes written files may still hold), negative when the snapshot cannot be taken."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        path = f"{relative}{entry.name}"
        if path in leave_out:
            continue
        if entry.is_symlink():
            snapshot.symlinks.append((path, os.readlink(entry.path)))
        elif entry.is_dir(follow_symlinks=False):
            snapshot.directories.append(path)
            budget = _walk(entry.path, f"{path}/", sources, leave_out, snapshot, budget)
        elif entry.is_file(follow_symlinks=False):
            found = entry.stat(follow_symlinks=False)
            source = sources.get((found.st_dev, found.st_ino))
            if source is not None:
                snapshot.links.append((path, source))
                continue
            budget -= found.st_size
            if budget < 0:
                return budget
            with open(entry.path, encoding="utf-8", newline="") as handle:
                snapshot.written.append((path, handle.read(), stat.S_IMODE(found.st_mode)))
        else:
            return -1  # a device, socket or pipe: nothing a sync makes
        if budget < 0:
            return budget
    return budget


def restore(
    snapshot: Snapshot,
    prefix: Path,
    cache: Path,
    *,
    finish: Callable[[Path], None] | None = None,
) -> bool:
    """Make the environment of ``snapshot`` at ``prefix``, which must not exist (or be an
    empty directory); ``finish`` is given the complete environment where it was made, just
    before it is moved to ``prefix``. False, with nothing made, when a file of the cache is
    gone, ``prefix`` is taken or the file system refuses. The caller holds the lock on
    creating the environment at ``prefix``."""
    if os.path.islink(prefix) or (os.path.isdir(prefix) and os.listdir(prefix)):
        return False
    parent, name = os.path.dirname(prefix), os.path.basename(prefix)
    _remove_leftovers(parent, name)
    aside = os.path.join(parent, f"{_ASIDE}{name}-{os.getpid()}")
    try:
        os.mkdir(aside)
    except OSError:
        return False
    try:
        _fill(snapshot, aside, os.fspath(cache))
        if finish is not None:
            finish(Path(aside))
        os.rename(aside, prefix)
    except OSError:
        shutil.rmtree(aside, ignore_errors=True)
        return False
    return True


def _fill(snapshot: Snapshot, root: str, cache: str) -> None:
    """Make every entry of ``snapshot`` below ``root``: the files of ``root`` itself first
    (:data:`_FIRST` before them all), then the directories and what goes into them."""
    top = sorted((e for e in snapshot.written if "/" not in e[0]), key=lambda e: e[0] != _FIRST)
    for path, content, mode in top:
        _write(root, path, content, mode)
    for path in snapshot.directories:
        os.mkdir(f"{root}/{path}")
    for path, target in snapshot.symlinks:
        os.symlink(target, f"{root}/{path}")
    for path, source in snapshot.links:
        os.link(f"{cache}/{source}", f"{root}/{path}")
    for path, content, mode in snapshot.written:
        if "/" in path:
            _write(root, path, content, mode)


def _write(root: str, path: str, content: str, mode: int) -> None:
    descriptor = os.open(f"{root}/{path}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with open(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(content)


def _remove_leftovers(parent: str, name: str) -> None:
    """Remove what killed restores at ``parent/name`` left: directories named as this module
    names them, holding the file it writes first, or empty."""
    start = f"{_ASIDE}{name}-"
    with contextlib.suppress(OSError), os.scandir(parent) as entries:
        for entry in entries:
            if not (entry.name.startswith(start) and entry.name[len(start):].isdigit()):
                continue
            if not entry.is_dir(follow_symlinks=False):
                continue
            if os.path.isfile(os.path.join(entry.path, _FIRST)):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.rmdir(entry.path)
