"""A streaming zip writer for wheels: deflate, fixed timestamps, no seeking.

``zipfile`` writes each local header twice (before and after compressing) and builds
a ``ZipInfo`` per member; for thousands of small modules that is most of a build.
This writer compresses in memory first, so each member is written once, in order.
It covers what wheels need (no zip64: a pure-Python wheel never has 65,535 members or
4 GiB), and archives it writes are read back by ``zipfile`` in the tests.
"""

from __future__ import annotations

import struct
import sys
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_UTF8 = 0x800
_DEFLATED = 8
_STORED = 0
_LIMIT = 0xFFFFFFFF


def dos_date_time(moment: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = moment[:6]
    date = ((year - 1980) << 9) | (month << 5) | day
    clock = (hour << 11) | (minute << 5) | (second // 2)
    return date, clock


if sys.version_info >= (3, 11):

    def deflate(data: bytes) -> bytes:
        """Raw deflate at level 6 (one call; cheaper than a compressobj per member)."""
        return zlib.compress(data, 6, wbits=-15)

else:  # pragma: no cover - Python 3.9 and 3.10

    def deflate(data: bytes) -> bytes:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush()


class ZipStream:
    def __init__(self, fileobj: IO[bytes], moment: tuple[int, ...]) -> None:
        self._out = fileobj
        self._date, self._time = dos_date_time(moment)
        self._offset = 0
        self._central: list[bytes] = []

    def _add(self, name: str, payload: bytes, method: int, crc: int, size: int, mode: int) -> None:
        encoded = name.encode("utf-8")
        if self._offset > _LIMIT or size > _LIMIT or len(self._central) >= 0xFFFF:
            raise ValueError("the wheel is too large for a zip without zip64 extensions")
        header = _LOCAL.pack(
            b"PK\x03\x04",
            20,
            0,
            _UTF8,
            method,
            self._time,
            self._date,
            crc,
            len(payload),
            size,
            len(encoded),
            0,
        )
        external = (mode << 16) | (0x10 if name.endswith("/") else 0)
        self._central.append(
            _CENTRAL.pack(
                b"PK\x01\x02",
                20,
                3,
                20,
                0,
                _UTF8,
                method,
                self._time,
                self._date,
                crc,
                len(payload),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                external,
                self._offset,
            )
            + encoded
        )
        self._out.write(header + encoded + payload)
        self._offset += len(header) + len(encoded) + len(payload)

    def add_file(self, name: str, data: bytes, mode: int) -> None:
        payload = deflate(data)
        self._add(name, payload, _DEFLATED, zlib.crc32(data), len(data), 0o100000 | mode)

    def add_dir(self, name: str) -> None:
        self._add(name.rstrip("/") + "/", b"", _STORED, 0, 0, 0o040755)

    def close(self) -> None:
        start = self._offset
        directory = b"".join(self._central)
        self._out.write(directory)
        count = len(self._central)
        self._out.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0))
