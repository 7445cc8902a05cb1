"""A streamed ``multipart/form-data`` body with a known length, for progress and retries."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

_CHUNK = 1 << 16

#: ``progress(bytes_sent_of_the_file, file_size)``.
Progress = Callable[[int, int], None]


class MultipartBody:
    """Text fields followed by one file part; iterate ``chunks()`` once per attempt."""

    def __init__(self, fields: Sequence[tuple[str, str]], file_field: str, path: Path) -> None:
        self.boundary = secrets.token_hex(16)
        self.path = path
        self.size = path.stat().st_size
        head = b"".join(self._part(name, value.encode("utf-8")) for name, value in fields)
        head += self._disposition(file_field, path.name) + b"Content-Type: application/octet-stream\r\n\r\n"
        self._head = head
        self._tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        return len(self._head) + self.size + len(self._tail)

    def chunks(self, progress: Progress | None = None) -> Iterator[bytes]:
        yield self._head
        sent = 0
        with self.path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                sent += len(chunk)
                yield chunk
                if progress is not None:
                    progress(sent, self.size)
        yield self._tail

    def _part(self, name: str, value: bytes) -> bytes:
        return self._disposition(name, None) + b"\r\n" + value + b"\r\n"

    def _disposition(self, name: str, filename: str | None) -> bytes:
        line = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
        if filename is not None:
            line += f'; filename="{_quote(filename)}"'
        return (line + "\r\n").encode("utf-8")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
