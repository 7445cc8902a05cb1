"""Writing a file all at once, hashing a file and reading a text file of bounded size: the
file operations shared by the cache, the installer and the commands that read their input
or write their results."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from kiln.errors import KilnError

#: The largest text file kiln reads as input (requirements, constraints, TOML): far above
#: any real one, and small enough that reading ``/dev/zero`` by mistake stops at once.
MAX_TEXT_BYTES = 16 * 1024 * 1024


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, so that
    readers never see half a file and a failure leaves none behind. ``mode``: the
    permissions of a new file, less the umask (default: readable by the owner only).

    A symbolic link is written through (its target is replaced, the link stays), and a
    path that is not a regular file (``/dev/null``, ``/dev/stdout``, a named pipe) is
    written to directly: replacing it would put a plain file in its place."""
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as handle:
            handle.write(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.name[-20:])
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if mode is not None:
                umask = os.umask(0o022)
                os.umask(umask)
                os.chmod(tmp, mode & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_sha256(path: Path) -> str:
    """The hex sha256 of the file at ``path`` (``OSError`` when it cannot be read)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_text(path: Path, what: str, *, limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of the file at ``path``, read as input from the user.

    ``what`` names the file in messages (e.g. ``requirements file `r.txt```). A file larger
    than ``limit`` bytes (``/dev/zero``, a disk image), one with NUL bytes (binary data) and
    one that is not UTF-8 are refused with a :class:`KilnError`; at most ``limit + 1`` bytes
    are read. ``OSError`` when the file cannot be opened or read."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    nul = data.find(b"\0")
    if nul >= 0:
        raise KilnError(
            f"{what} is not a text file: line {_line_at(data, nul)} contains a NUL byte"
        )
    if len(data) > limit:
        raise KilnError(f"{what} is larger than {_size(limit)}, the most kiln reads")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KilnError(
            f"{what} is not UTF-8 text: line {_line_at(data, exc.start)} has {exc.reason}"
        ) from None


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _size(limit: int) -> str:
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit % mib == 0 else f"{limit} bytes"


def file_url_path(url: str) -> Path:
    """The local path of a ``file:`` URL."""
    from urllib.parse import unquote, urlsplit

    if os.name == "nt":
        from nturl2path import url2pathname  # what urllib.request uses there

        return Path(url2pathname(urlsplit(url).path))
    # urllib.request's url2pathname is unquote on POSIX; importing it costs ssl and http.
    return Path(unquote(urlsplit(url).path))
