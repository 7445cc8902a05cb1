"""File digests, computed in one pass over the file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

_CHUNK = 1 << 16


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


def file_digests(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    """Hex digests of ``path`` for each algorithm (``blake2_256`` is BLAKE2b with 32 bytes)."""
    hashers = {name: _new(name) for name in algorithms}
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def _new(name: str) -> _Hasher:
    if name == "blake2_256":
        return hashlib.blake2b(digest_size=32)
    if name == "md5":
        return hashlib.md5(usedforsecurity=False)
    return hashlib.new(name)
