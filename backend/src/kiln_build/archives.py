"""Archive writers behind one interface: tar.gz (sdist), zip with RECORD (wheel), list-only.

Every writer is deterministic: entries in the order given, fixed timestamps (or
``SOURCE_DATE_EPOCH``), normalised modes and owners.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

from kiln_build.errors import BuildBackendError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Callable

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip can hold
ZIP_END = 4354819198  # 2107-12-31T23:59:58Z, the latest time a zip can hold
EPOCH_END = 253402300799  # 9999-12-31T23:59:59Z


def source_date_epoch() -> int | None:
    """``SOURCE_DATE_EPOCH`` as the reproducible-builds specification defines it, or None.

    The value is the decimal integer ``date +%s`` prints; anything else is an error
    (the specification asks builds to fail on a malformed value rather than guess).
    """
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    hint = "set it to a whole number of seconds since 1970-01-01 UTC, as `date +%s` prints"
    if value.startswith("-") and value[1:].isascii() and value[1:].isdigit():
        raise BuildBackendError(
            f"`SOURCE_DATE_EPOCH` must not be negative, but it is `{value}`", hint=hint
        )
    if not (value.isascii() and value.isdigit()):
        raise BuildBackendError(
            f"`SOURCE_DATE_EPOCH` must be a whole number of seconds, not `{value}`", hint=hint
        )
    epoch = int(value)
    if epoch > EPOCH_END:
        raise BuildBackendError(
            f"`SOURCE_DATE_EPOCH` is `{value}`, after the year 9999", hint=hint
        )
    return epoch


def sdist_mtime() -> int:
    """The mtime of every sdist member: ``SOURCE_DATE_EPOCH``, else 0."""
    epoch = source_date_epoch()
    return 0 if epoch is None else epoch


def wheel_date_time() -> tuple[int, int, int, int, int, int]:
    """The date of every wheel member: ``SOURCE_DATE_EPOCH``, kept within what a zip holds.

    Earlier than 1980 is raised to 1980-01-01 (as flit and hatchling do); later than
    2107 is an error, since no zip can say it and a silent change of date would not be
    reproducible from the value given.
    """
    epoch = source_date_epoch()
    if epoch is None or epoch < ZIP_EPOCH:
        epoch = ZIP_EPOCH
    if epoch > ZIP_END:
        raise BuildBackendError(
            f"`SOURCE_DATE_EPOCH` is `{epoch}` ({time.strftime('%Y-%m-%d', time.gmtime(epoch))}), "
            "but a wheel is a zip file, whose dates end on 2107-12-31",
            hint=f"use a value of at most {ZIP_END}, or unset it",
        )
    year, month, day, hour, minute, second = time.gmtime(epoch)[:6]
    return year, month, day, hour, minute, second


def read_file(path: str) -> bytes:
    """The bytes of ``path`` (``os.read`` avoids a buffered file object per member)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise BuildBackendError(f"cannot read `{path}`: {exc.strerror}") from None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class ArchiveWriter:
    """Base writer: emits each parent directory once, before the first file inside it."""

    def __init__(self) -> None:
        self._dirs: set[str] = set()
        self._deferred: set[str] = set()
        self._files: set[str] = set()

    def defer_dir(self, arcname: str) -> None:
        """Do not emit ``arcname`` as a parent; it is written later with ``add_dir``."""
        if arcname not in self._dirs:
            self._dirs.add(arcname)
            self._deferred.add(arcname)

    def _ensure_parents(self, arcname: str) -> None:
        parts = arcname.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = "/".join(parts[:depth])
            if directory not in self._dirs:
                self._dirs.add(directory)
                self._write_dir(directory)

    def _claim(self, arcname: str) -> None:
        """Each member name once: an archive holding a name twice means two things."""
        if arcname in self._files:
            raise BuildBackendError(f"the archive would hold `{arcname}` twice")
        self._files.add(arcname)

    def add_bytes(self, arcname: str, data: bytes, executable: bool = False) -> None:
        self._claim(arcname)
        self._ensure_parents(arcname)
        self._write_file(arcname, data, executable)

    def add_path(self, arcname: str, source: str, executable: bool) -> None:
        self.add_bytes(arcname, read_file(source), executable)

    def add_dir(self, arcname: str) -> None:
        if arcname in self._deferred:
            self._deferred.discard(arcname)
            self._write_dir(arcname)
        else:
            self._ensure_parents(arcname + "/x")

    def _write_dir(self, arcname: str) -> None:
        raise NotImplementedError

    def _write_file(self, arcname: str, data: bytes, executable: bool) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the archive."""


class ListWriter(ArchiveWriter):
    """Records file names only: what would be packaged."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []

    def add_path(self, arcname: str, source: str, executable: bool) -> None:
        self._claim(arcname)
        self.files.append(arcname)

    def _write_dir(self, arcname: str) -> None:
        pass

    def _write_file(self, arcname: str, data: bytes, executable: bool) -> None:
        self.files.append(arcname)


class TarGzWriter(ArchiveWriter):
    """A POSIX tar inside gzip, with mtime 0 (or SOURCE_DATE_EPOCH) and root ownership."""

    def __init__(self, fileobj: IO[bytes], mtime: int = 0) -> None:
        from kiln_build.tarwriter import TarGzStream

        super().__init__()
        self._tar = TarGzStream(fileobj, mtime)

    def _write_dir(self, arcname: str) -> None:
        self._tar.add_dir(arcname)

    def _write_file(self, arcname: str, data: bytes, executable: bool) -> None:
        self._tar.add_file(arcname, data, 0o755 if executable else 0o644)

    def close(self) -> None:
        self._tar.close()


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class WheelWriter(ArchiveWriter):
    """A zip with fixed timestamps that keeps the RECORD rows of what it writes."""

    def __init__(
        self, fileobj: IO[bytes], date_time: tuple[int, ...] = (1980, 1, 1, 0, 0, 0)
    ) -> None:
        from kiln_build.zipwriter import ZipStream

        super().__init__()
        self._zip = ZipStream(fileobj, date_time)
        self.records: list[tuple[str, str, int]] = []

    def _write_dir(self, arcname: str) -> None:
        self._zip.add_dir(arcname)

    def _write_file(self, arcname: str, data: bytes, executable: bool) -> None:
        self._zip.add_file(arcname, data, 0o755 if executable else 0o644)
        self.records.append((arcname, record_hash(data), len(data)))

    def write_record(self, arcname: str) -> None:
        lines = [f"{_csv_field(name)},{digest},{size}\n" for name, digest, size in self.records]
        lines.append(f"{_csv_field(arcname)},,\n")
        self._ensure_parents(arcname)
        self._zip.add_file(arcname, "".join(lines).encode("utf-8"), 0o644)

    def close(self) -> None:
        self._zip.close()


def _csv_field(value: str) -> str:
    """Quote a RECORD path as the csv module would (only when it must)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_atomically(directory: Path, filename: str, produce: Callable[[IO[bytes]], None]) -> None:
    """Write ``directory/filename`` through a temporary file, leaving nothing on failure.

    ``filename`` comes from the validated name and version, so the target is inside
    ``directory``. The only file ever removed is this build's own temporary file; an
    earlier artifact of the same name is replaced only by a finished archive.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildBackendError(
            f"cannot create the output directory `{directory}`: {exc.strerror}"
        ) from None
    if filename in ("", ".", "..") or os.path.basename(filename) != filename or "/" in filename:
        raise BuildBackendError(f"refusing to write `{filename}`: not a plain file name")
    target = directory / filename
    temp = directory / f".{filename}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise BuildBackendError(f"cannot write into `{directory}`: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            produce(handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, target)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (None, str(temp), str(target)):
            raise BuildBackendError(f"cannot write `{target}`: {exc.strerror}") from None
        raise
