"""One change at a time per environment: the environment lock, and removing what a dead
process left behind.

Every command that changes an environment (install, sync, uninstall, creating or
re-creating it) holds an exclusive lock on ``<venv>/.lock`` for the whole change, from
reading what is installed to the last file moved into place, so concurrent kiln processes
take turns instead of interleaving their moves. Environments that are not virtual
environments are locked through a file in the temporary directory named after their
prefix. Reading an environment (``pip list``, an install that finds nothing to do) takes
no lock: every installed distribution appears whole, its ``RECORD`` last.

On POSIX the lock is ``flock(2)`` on the lock file, which is also what the ``filelock``
package and uv take on that file, so kiln and uv exclude each other too. It is called
directly because importing ``filelock`` (4.x) costs about 25 ms and its first acquisition
a few more, where ``flock`` costs a tenth of a millisecond; elsewhere ``filelock`` is used.

Staging directories (``.kiln-tmp-*`` in site-packages) live only while their process holds
the lock, so whoever holds it may remove any it finds: they were left by a process that
died (``kill -9``, a power cut) in the middle of a change.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from kiln.core.install.environment import Environment
from kiln.errors import KilnError

#: The lock file inside a virtual environment (the name uv uses too).
LOCK_NAME = ".lock"
#: Name prefix of the staging directories that transactions make in site-packages.
STAGING_PREFIX = ".kiln-tmp-"



class _Held:
    """A lock this process holds: how to release it, and how many holders nest in it."""

    __slots__ = ("depth", "release")

    def __init__(self, release: Callable[[], None], depth: int = 1) -> None:
        self.release = release
        self.depth = depth


#: The locks this process holds, by lock file.
_held: dict[str, _Held] = {}


def lock_file(prefix: Path) -> Path:
    """The lock file of the environment at ``prefix``."""
    if (prefix / "pyvenv.cfg").is_file():
        return prefix / LOCK_NAME
    return _outside_lock_file(prefix, "kiln-env")


def creation_lock_file(prefix: Path) -> Path:
    """The lock held while deciding whether to create or re-create the environment at
    ``prefix`` and doing it: outside the environment, which may not exist yet or be
    emptied while it is held."""
    return _outside_lock_file(prefix, "kiln-create")


def _outside_lock_file(prefix: Path, stem: str) -> Path:
    import tempfile

    digest = hashlib.sha256(os.fsencode(os.path.abspath(prefix))).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"{stem}-{digest}.lock"


@contextlib.contextmanager
def changing(env: Environment) -> Iterator[None]:
    """Hold ``env``'s lock while changing it; first remove staging directories that dead
    processes left."""
    with holding(lock_file(env.prefix), env.prefix):
        remove_leftovers(env)
        yield


@contextlib.contextmanager
def holding(path: Path, prefix: Path) -> Iterator[None]:
    """Hold the exclusive lock on ``path`` (made if missing), waiting for other processes.
    Re-entrant within the process; ``prefix`` names the environment in errors."""
    key = os.path.abspath(path)
    held = _held.get(key)
    if held is not None:
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
        return
    _held[key] = _Held(_acquire(key, prefix))
    try:
        yield
    finally:
        _held.pop(key).release()


def _acquire(path: str, prefix: Path) -> Callable[[], None]:
    """Take the lock on ``path``; returns what releases it."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the filelock package does it there
        from filelock import FileLock

        lock = FileLock(path)
        lock.acquire()
        return functools.partial(lock.release)
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise KilnError(
                f"cannot lock environment `{prefix}`: cannot open `{path}`: "
                f"{exc.strerror or exc}"
            ) from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            # While this process waited, the holder may have removed the file (`kiln venv`
            # failing removes the directory it made): a lock on a file that is no longer
            # there excludes nobody, so take the one that is there now, if any.
            mine, there = os.fstat(descriptor), os.stat(path)
            if (mine.st_ino, mine.st_dev) == (there.st_ino, there.st_dev):
                return functools.partial(os.close, descriptor)  # closing it unlocks
        except FileNotFoundError:
            pass
        except OSError as exc:
            os.close(descriptor)
            raise KilnError(
                f"cannot lock environment `{prefix}`: `{path}`: {exc.strerror or exc}"
            ) from None
        os.close(descriptor)


def leftovers(env: Environment) -> list[Path]:
    """Staging directories in the environment's site-packages (a directory listing each)."""
    found = []
    for folder in dict.fromkeys((env.scheme.purelib, env.scheme.platlib)):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found += [folder / name for name in names if name.startswith(STAGING_PREFIX)]
    return found


def remove_leftovers(env: Environment) -> list[Path]:
    """Remove the staging directories of dead processes; the caller holds the lock."""
    found = leftovers(env)
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return found
