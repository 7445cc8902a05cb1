"""Reading TOML files (pyproject.toml, workspace roots) with errors that name the file and key."""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from kiln.errors import KilnError


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; an unreadable file or a syntax error becomes a ``KilnError``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KilnError(f"cannot read `{path}`: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KilnError(
            f"`{path}` is not valid UTF-8: byte 0x{raw[exc.start]:02x} on line {line}",
            hint="TOML files are UTF-8; save the file in that encoding",
        ) from None
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise KilnError(f"`{path}` is not valid TOML: {exc}") from None
    import tomlkit  # Python 3.10 has no tomllib; tomlkit is a dependency anyway
    from tomlkit.exceptions import ParseError

    try:
        data: dict[str, Any] = tomlkit.parse(text).unwrap()
    except ParseError as exc:
        raise KilnError(f"`{path}` is not valid TOML: {exc}") from None
    return data


def reject_unknown_keys(
    table: Mapping[str, Any], where: str, allowed: Collection[str], *, prefix: str = ""
) -> None:
    """A ``KilnError`` naming the first key of ``table`` (at ``where``) not in ``allowed``;
    ``prefix`` is put before the key in the message (``pip.`` for a nested table)."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise KilnError(
            f"{where}: unknown key `{prefix}{unknown[0]}`",
            hint="known keys: " + ", ".join(f"`{k}`" for k in sorted(allowed)),
        )
