"""A small POSIX (ustar + PAX) tar writer for sdists.

``tarfile`` builds a ``TarInfo`` copy and a PAX header per member; for thousands of
files that dominates an sdist build. This writer emits plain ustar headers, adding a
PAX ``path`` record only for names ustar cannot hold (long or non-ASCII) and a PAX
``mtime`` record when the time does not fit the 11 octal digits of the header (a
``SOURCE_DATE_EPOCH`` after 2242; the header field then holds 0, as POSIX and
``tarfile`` do), and feeds
the whole stream through one gzip compressor. Archives it writes are read back with
``tarfile`` (``filter="data"``) in the tests.
"""

from __future__ import annotations

import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

BLOCK = 512
RECORD = 20 * BLOCK
_MAX_SIZE = 0o77777777777
#: The largest value of a 12-byte numeric header field (11 octal digits and a NUL).
_MAX_OCTAL_12 = 0o77777777777


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body)
    while True:
        record = str(length).encode() + body
        if len(record) == length:
            return record
        length = len(record)


def _split_ustar(name: bytes) -> tuple[bytes, bytes] | None:
    """``(prefix, name)`` fitting ustar's 155 + 100 bytes, or None."""
    if len(name) <= 100:
        return b"", name
    for index in range(len(name) - 1, -1, -1):
        if name[index : index + 1] == b"/" and index <= 155 and len(name) - index - 1 <= 100:
            return name[:index], name[index + 1 :]
    return None


class TarGzStream:
    def __init__(self, fileobj: IO[bytes], mtime: int) -> None:
        self._out = fileobj
        self._mtime = mtime
        #: The mtime as the header field holds it; larger values go in a PAX record.
        self._header_mtime = mtime if 0 <= mtime <= _MAX_OCTAL_12 else 0
        # wbits 31: a gzip wrapper with mtime 0 and no file name, so output is reproducible.
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31)
        self._size = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._pax_count = 0

    def _emit(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        self._size += len(data)
        if self._pending_size >= 1 << 20:
            self._flush_pending()

    def _flush_pending(self) -> None:
        if self._pending:
            self._out.write(self._gzip.compress(b"".join(self._pending)))
            self._pending = []
            self._pending_size = 0

    def _header(self, name: bytes, prefix: bytes, mode: int, size: int, kind: bytes) -> bytes:
        header = bytearray(BLOCK)
        header[0 : len(name)] = name
        header[100:108] = _octal(mode, 8)
        header[108:116] = _octal(0, 8)
        header[116:124] = _octal(0, 8)
        header[124:136] = _octal(size, 12)
        header[136:148] = _octal(self._header_mtime, 12)
        header[148:156] = b" " * 8
        header[156:157] = kind
        header[257:263] = b"ustar\0"
        header[263:265] = b"00"
        header[345 : 345 + len(prefix)] = prefix
        header[148:156] = b"%06o\0 " % sum(header)
        return bytes(header)

    def _entry(self, name: str, mode: int, data: bytes, kind: bytes) -> None:
        if len(data) > _MAX_SIZE:
            from kiln_build.errors import BuildBackendError

            raise BuildBackendError(f"`{name}` is too large for an sdist member (8 GiB at most)")
        encoded = name.encode("utf-8")
        split = _split_ustar(encoded) if encoded.isascii() else None
        pax = b""
        if split is None:
            pax += _pax_record("path", name)
            split = (b"", encoded[:100])
        if self._header_mtime != self._mtime:
            pax += _pax_record("mtime", str(self._mtime))
        if pax:
            self._pax_count += 1
            short = f"PaxHeaders/{self._pax_count}".encode()
            self._emit(self._header(short, b"", 0o644, len(pax), b"x"))
            self._emit(pax + b"\0" * (-len(pax) % BLOCK))
        prefix, short_name = split
        self._emit(self._header(short_name, prefix, mode, len(data), kind))
        if data:
            self._emit(data + b"\0" * (-len(data) % BLOCK))

    def add_file(self, name: str, data: bytes, mode: int) -> None:
        self._entry(name, mode, data, b"0")

    def add_dir(self, name: str) -> None:
        self._entry(name.rstrip("/") + "/", 0o755, b"", b"5")

    def close(self) -> None:
        self._emit(b"\0" * (2 * BLOCK))
        self._emit(b"\0" * (-self._size % RECORD))
        self._flush_pending()
        self._out.write(self._gzip.flush())
