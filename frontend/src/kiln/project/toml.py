"""Reading TOML files with errors that name the file and the key.

Each file is parsed once per process: :func:`load_toml` keeps the parsed table of every file
it read, keyed by the file's path and its text, so a second read costs one ``read()`` and a
file changed in between is parsed again. Callers must treat the returned tables as read-only.

The ``expect_*`` helpers check the type of one value and raise a :class:`KilnError` of the
form ``<file>: `<key>` must be ...`` otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, cast

from kiln.errors import KilnError

_PARSED: dict[tuple[str, str], dict[str, Any]] = {}


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; an unreadable file, one that is not UTF-8 text of a sane size
    (:func:`~kiln.core.fileio.read_text`) or a syntax error becomes a ``KilnError``."""
    from kiln.core.fileio import read_text

    try:
        text = read_text(path, f"`{path}`")
    except OSError as exc:
        raise KilnError(f"cannot read `{path}`: {exc.strerror}") from None
    key = (str(path.absolute()), text)
    parsed = _PARSED.get(key)
    if parsed is None:
        try:
            parsed = _parse(text, path)
        except RecursionError:
            raise KilnError(f"`{path}` is not valid TOML: its values are nested too deeply") from None
        _PARSED[key] = parsed
    return parsed


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """Parse the TOML ``text`` of the file ``path`` (not cached); a syntax error becomes a
    ``KilnError`` naming the file."""
    try:
        return _parse(text, path)
    except RecursionError:
        raise KilnError(f"`{path}` is not valid TOML: its values are nested too deeply") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
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


def where(path: Path, key: str) -> str:
    """How messages name a key of a file: ``/p/pyproject.toml: `tool.kiln.sources```."""
    return f"{path}: `{key}`"


def expect_table(value: object, path: Path, key: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise KilnError(f"{where(path, key)} must be a table")
    return cast("Mapping[str, Any]", value)


def expect_bool(value: object, path: Path, key: str) -> bool:
    if not isinstance(value, bool):
        raise KilnError(f"{where(path, key)} must be `true` or `false`")
    return value


def expect_string(value: object, path: Path, key: str) -> str:
    if not isinstance(value, str):
        raise KilnError(f"{where(path, key)} must be a string")
    return value


def expect_strings(value: object, path: Path, key: str, *, what: str = "strings") -> tuple[str, ...]:
    """A list of strings (``what`` names them in the message: ``glob strings``...)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise KilnError(f"{where(path, key)} must be a list of {what}")
    return tuple(value)
