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


def source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise BuildBackendError(
            f"`SOURCE_DATE_EPOCH` must be a whole number of seconds, not `{value}`"
        ) from None


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

    def add_bytes(self, arcname: str, data: bytes, executable: bool = False) -> None:
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
        self.files.append(arcname)

    def _write_dir(self, arcname: str) -> None:
        pass

    def _write_file(self, arcname: str, data: bytes, executable: bool) -> None:
        self.files.append(arcname)


class TarGzWriter(ArchiveWriter):
    """A POSIX tar inside gzip, with mtime 0 (or SOURCE_DATE_EPOCH) and root ownership."""

    def __init__(self, fileobj: IO[bytes]) -> None:
        from kiln_build.tarwriter import TarGzStream

        super().__init__()
        epoch = source_date_epoch()
        self._tar = TarGzStream(fileobj, max(epoch, 0) if epoch is not None else 0)

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

    def __init__(self, fileobj: IO[bytes]) -> None:
        from kiln_build.zipwriter import ZipStream

        super().__init__()
        epoch = source_date_epoch()
        moment = max(epoch, ZIP_EPOCH) if epoch is not None else ZIP_EPOCH
        self._zip = ZipStream(fileobj, time.gmtime(moment)[:6])
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

    An existing file of that name is removed first, so a failed build never leaves a
    stale artifact that looks fresh.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / filename
    if target.exists():
        target.unlink()
    temp = directory / f".{filename}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            produce(handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
