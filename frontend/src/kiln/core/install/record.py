"""RECORD files: hashing, parsing and writing (the wheel and installed-project format)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass

#: Algorithms accepted in a wheel's RECORD; weaker ones (md5, sha1) are refused.
ACCEPTED_ALGORITHMS = frozenset({"sha256", "sha384", "sha512", "blake2b"})


@dataclass(frozen=True)
class RecordEntry:
    path: str
    hash: str = ""  # "sha256=<urlsafe b64 without padding>", or "" when not hashed
    size: str = ""


def encode_digest(algorithm: str, digest: bytes) -> str:
    return f"{algorithm}=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_bytes(data: bytes, algorithm: str = "sha256") -> str:
    return encode_digest(algorithm, hashlib.new(algorithm, data).digest())


def entry_for(path: str, data: bytes) -> RecordEntry:
    return RecordEntry(path, hash_bytes(data), str(len(data)))


def parse_record(text: str) -> list[RecordEntry]:
    """Parse RECORD text; raises ``ValueError`` on a malformed row."""
    entries = []
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        if len(row) > 3 or not row[0]:
            raise ValueError(f"malformed row {','.join(row)!r}")
        padded = [*row, "", ""][:3]
        entries.append(RecordEntry(padded[0], padded[1], padded[2]))
    return entries


def render_rows(rows: Iterable[tuple[str, str, str]]) -> bytes:
    """RECORD text of ``(path, hash, size)`` rows, sorted by path."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n")
    writer.writerows(sorted(rows))  # paths are unique: sorted by path
    return out.getvalue().encode("utf-8")
