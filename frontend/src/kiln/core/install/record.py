"""RECORD files: hashing, parsing and writing (the wheel and installed-project format)."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from typing import NamedTuple

#: Algorithms accepted in a wheel's RECORD; weaker ones (md5, sha1) are refused.
ACCEPTED_ALGORITHMS = frozenset({"sha256", "sha384", "sha512", "blake2b"})


class RecordEntry(NamedTuple):
    path: str
    hash: str = ""  # "sha256=<urlsafe b64 without padding>", or "" when not hashed
    size: str = ""


def encode_digest(algorithm: str, digest: bytes) -> str:
    import base64  # not for reading RECORD: checking what is installed does that

    return f"{algorithm}=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_bytes(data: bytes, algorithm: str = "sha256") -> str:
    return encode_digest(algorithm, hashlib.new(algorithm, data).digest())


def entry_for(path: str, data: bytes) -> RecordEntry:
    return RecordEntry(path, hash_bytes(data), str(len(data)))


def parse_rows(text: str) -> list[tuple[str, str, str]]:
    """RECORD text as ``(path, hash, size)`` rows; raises ``ValueError`` on a malformed row.
    Text without quotes has no quoted field (a field with a comma would be quoted), so
    its rows are split directly; the rest goes through the CSV reader."""
    if '"' in text or "\r" in text:
        return [(e.path, e.hash, e.size) for e in parse_record(text)]
    rows = []
    for line in text.split("\n"):
        if not line:
            continue
        fields = line.split(",")
        if len(fields) > 3 or not fields[0]:
            raise ValueError(f"malformed row {line!r}")
        if len(fields) == 3:
            rows.append((fields[0], fields[1], fields[2]))
        else:
            padded = [*fields, "", ""]
            rows.append((padded[0], padded[1], padded[2]))
    return rows


def parse_record(text: str) -> list[RecordEntry]:
    """Parse RECORD text; raises ``ValueError`` on a malformed row."""
    import csv

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
    """RECORD text of ``(path, hash, size)`` rows, sorted by path (paths are unique)."""
    ordered = sorted(rows)
    if not any(_NEEDS_QUOTES.search(path) for path, _hash, _size in ordered):
        return "".join(f"{path},{digest},{size}\n" for path, digest, size in ordered).encode()
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n")
    writer.writerows(ordered)
    return out.getvalue().encode("utf-8")


#: A path with one of these must be quoted in RECORD (hashes and sizes never have them).
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')
