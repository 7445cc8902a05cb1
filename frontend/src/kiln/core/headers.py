"""The header section of email-style metadata files (METADATA, PKG-INFO, WHEEL).

Only the lines before the first empty one are headers: the body is the long description,
often far bigger than the headers, and nothing kiln reads.
"""

from __future__ import annotations


def header_section(raw: bytes) -> bytes:
    """Everything before the first empty line (``\n`` or ``\r\n`` line ends)."""
    ends = [end for end in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if end >= 0]
    return raw[: min(ends) + 1] if ends else raw


class Headers:
    """Header fields looked up by name in any case; a field given more than once keeps
    every value, in order."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        for key, value in self._fields:
            if key.lower() == wanted:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self._fields if key.lower() == wanted]

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)


def parse_headers(raw: bytes) -> Headers:
    """The header fields of ``raw``, read as email does: a line that starts with white
    space continues the field before it."""
    fields: list[tuple[str, str]] = []
    for text in header_section(raw).decode("utf-8", "surrogateescape").split("\n"):
        line = text.rstrip("\r")
        if not line:
            break
        if line[0] in " \t":
            if fields:
                key, value = fields[-1]
                fields[-1] = (key, f"{value}\n{line}")
            continue
        key, colon, value = line.partition(":")
        if colon:
            fields.append((key.strip(), value.lstrip()))
    return Headers(fields)
