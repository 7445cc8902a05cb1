"""A read-only, seekable file over HTTP range requests, so ``zipfile`` can read a remote wheel.

Only the central directory and the METADATA member are fetched, in blocks.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln.core.index.http import HttpSession

BLOCK = 16 * 1024


class RangeUnsupported(Exception):
    """The server cannot serve byte ranges for this URL."""


class HttpRangeFile(io.RawIOBase):
    def __init__(self, session: HttpSession, url: str) -> None:
        super().__init__()
        self._session = session
        self._url = url
        self._pos = 0
        self._blocks: dict[int, bytes] = {}
        head = session.request("HEAD", url, {"Accept-Encoding": "identity"})
        length = head.headers.get("content-length")
        if head.status_code != 200 or length is None:
            raise RangeUnsupported(f"HEAD answered {head.status_code}")
        if head.headers.get("accept-ranges", "").lower() != "bytes":
            raise RangeUnsupported("no `Accept-Ranges: bytes`")
        self.size = int(length)
        self.requests = 0

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
