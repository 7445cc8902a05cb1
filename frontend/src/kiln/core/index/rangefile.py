"""A read-only, seekable file over HTTP range requests, so ``zipfile`` can read a remote wheel.

Only the central directory and the METADATA member are fetched, in blocks.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln.core.index.http import HttpSession

BLOCK = 16 * 1024
#: Bytes asked for first, from the end of the file.
TAIL = 4 * BLOCK


class RangeUnsupported(Exception):
    """The server cannot serve byte ranges for this URL."""


class HttpRangeFile(io.RawIOBase):
    def __init__(self, session: HttpSession, url: str) -> None:
        super().__init__()
        self._session = session
        self._url = url
        self._pos = 0
        self._blocks: dict[int, bytes] = {}
        # One suffix request learns the size and fetches the end of the archive, where the
        # central directory and (in most wheels) the ``.dist-info`` files are.
        tail = session.request(
            "GET", url, {"Range": f"bytes=-{TAIL}", "Accept-Encoding": "identity"}
        )
        self.requests = 1
        total = _total_size(tail.headers.get("content-range", ""))
        if tail.status_code != 206 or total is None:
            raise RangeUnsupported(f"suffix range request answered {tail.status_code}")
        data = tail.content
        start = total - len(data)
        if start < 0:
            raise RangeUnsupported("the range answer is longer than the file")
        self.size = total
        first = -(-start // BLOCK)  # the first block that starts inside the answer
        for number in range(first, -(-total // BLOCK)):
            offset = number * BLOCK - start
            self._blocks[number] = data[offset: offset + BLOCK]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self.size + offset
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), max(0, self.size - self._pos))
        if wanted == 0:
            return 0
        data = self._read_range(self._pos, self._pos + wanted)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _read_range(self, start: int, end: int) -> bytes:
        first, last = start // BLOCK, (end - 1) // BLOCK
        missing = [b for b in range(first, last + 1) if b not in self._blocks]
        if missing:
            self._fetch(missing[0], missing[-1])
        joined = b"".join(self._blocks[b] for b in range(first, last + 1))
        offset = start - first * BLOCK
        return joined[offset: offset + (end - start)]

    def _fetch(self, first: int, last: int) -> None:
        start = first * BLOCK
        end = min(self.size, (last + 1) * BLOCK) - 1
        response = self._session.request(
            "GET", self._url, {"Range": f"bytes={start}-{end}", "Accept-Encoding": "identity"}
        )
        self.requests += 1
        if response.status_code != 206 or len(response.content) != end - start + 1:
            raise RangeUnsupported(f"range request answered {response.status_code}")
        data = response.content
        for number in range(first, last + 1):
            offset = (number - first) * BLOCK
            self._blocks[number] = data[offset: offset + BLOCK]


def _total_size(content_range: str) -> int | None:
    """The complete length from ``Content-Range: bytes START-END/TOTAL``."""
    unit, _, rest = content_range.strip().partition(" ")
    _span, _, total = rest.partition("/")
    if unit.lower() != "bytes" or not total.strip().isdigit():
        return None
    return int(total)
