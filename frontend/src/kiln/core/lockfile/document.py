"""Writing and reading ``pylock.toml``.

The file is written by :func:`render` from plain tables (``dict`` in the order the keys are
to appear), in one fixed layout: the top-level keys, then each ``[[packages]]`` entry with
its files as inline tables, then ``[tool.kiln]``. The same lock is therefore always the
same bytes, and a relock that changes nothing rewrites nothing.

Reading (:func:`read_lock`) parses the TOML and validates it with :mod:`packaging.pylock`;
a file that is not valid TOML or not a valid lock is a :class:`LockfileError` naming the
file and the problem.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.pylock import Pylock

#: The ``lock-version`` kiln writes.
LOCK_VERSION = "1.0"
#: ``created-by``.
CREATED_BY = "kiln"
#: The header line of kiln's own table; everything before it is the lock's body.
TOOL_HEADER = "[tool.kiln]"


class LockfileError(KilnError):
    """A ``pylock.toml`` that cannot be read or is not a valid lock."""


class LockFile(NamedTuple):
    """A lock read from disk."""

    path: Path
    text: str
    #: The parsed TOML.
    data: Mapping[str, Any]
    #: The same, validated.
    pylock: Pylock

    @property
    def tool(self) -> Mapping[str, Any]:
        """``[tool.kiln]`` (empty when absent or not a table)."""
        tool = self.data.get("tool")
        kiln = tool.get("kiln") if isinstance(tool, dict) else None
        return kiln if isinstance(kiln, dict) else {}


def read_lock(path: Path) -> LockFile:
    """The lock at ``path``, parsed and validated; :class:`LockfileError` otherwise."""
    from kiln.core.fileio import read_text

    try:
        text = read_text(path, f"`{path}`")
    except KilnError as exc:
        raise LockfileError(exc.message, hint=exc.hint) from None
    except OSError as exc:
        raise LockfileError(f"cannot read `{path}`: {exc.strerror}") from None
    return parse_lock(path, text)


def parse_lock(path: Path, text: str) -> LockFile:
    """The lock ``text`` (of the file ``path``), parsed and validated."""
    from packaging.pylock import Pylock, PylockValidationError

    from kiln.project.toml import parse_toml

    try:
        data = parse_toml(text, path)
    except KilnError as exc:
        raise LockfileError(exc.message, hint="run `kiln lock` to write it anew") from None
    try:
        pylock = Pylock.from_dict(data)
    except PylockValidationError as exc:
        where = f" at `{exc.context}`" if exc.context else ""
        raise LockfileError(
            f"`{path}` is not a valid lockfile{where}: {exc.message}",
            hint="run `kiln lock` to write it anew",
        ) from None
    except (TypeError, ValueError) as exc:  # a version, marker or specifier that does not parse
        raise LockfileError(
            f"`{path}` is not a valid lockfile: {exc}", hint="run `kiln lock` to write it anew"
        ) from None
    return LockFile(path, text, data, pylock)


def validate(document: Mapping[str, Any]) -> None:
    """Check a lock about to be written with :mod:`packaging.pylock` (a bug otherwise)."""
    from packaging.pylock import Pylock

    Pylock.from_dict(document)


# -- writing ------------------------------------------------------------------------------------


def render(body: Mapping[str, Any]) -> str:
    """The text of a lock's body: the top-level keys, then each ``[[packages]]`` entry (its
    files inline, one per line)."""
    lines: list[str] = []
    for key, value in body.items():
        if key != "packages" and value is not None:
            lines.append(f"{_key(key)} = {_value(value)}")
    if not body.get("packages"):  # PEP 751 asks for the key even when no package is locked
        lines.append("packages = []")
    for package in body.get("packages", ()):
        lines += ["", "[[packages]]", *_table_lines(package)]
    return "\n".join(lines) + "\n"


def render_tool(tool: Mapping[str, Any], *, array_tables: Sequence[str] = ()) -> str:
    """``tool`` as ``[tool.kiln]``: plain values, then each table value as a sub-table and
    each list under a name of ``array_tables`` as an array of tables."""
    lines = [TOOL_HEADER]
    later: list[str] = []
    for key, value in tool.items():
        if value is None:
            continue
        name = f"tool.kiln.{_key(key)}"
        if isinstance(value, Mapping):
            later += ["", f"[{name}]", *_table_lines(value)]
        elif key in array_tables:
            for item in value:
                later += ["", f"[[{name}]]", *_table_lines(item)]
        else:
            lines += _table_lines({key: value})
    return "\n".join([*lines, *later]) + "\n"


def _table_lines(table: Mapping[str, Any]) -> list[str]:
    """``key = value`` lines; a list of tables is written one table per line."""
    lines: list[str] = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lines.append(f"{_key(key)} = [")
            lines += [f"    {_value(item)}," for item in value]
            lines.append("]")
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    return lines


_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _key(key: str) -> str:
    return key if key and set(key) <= _BARE else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a lock holds no infinite or NaN numbers")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime):
        from kiln.core.timestamps import format_timestamp

        return format_timestamp(value)
    if isinstance(value, Mapping):
        items = [f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} into a lock")


#: Text that a basic string holds as it is: no double quote, backslash or control character
#: (most strings of a lock: names, versions, URLs, hashes).
_VERBATIM = re.compile(r'[^"\\\x00-\x1f\x7f]*')


def _string(text: str) -> str:
    """A TOML string: literal (``'...'``) when the text has double quotes and can be one
    (markers read better so), else basic."""
    if _VERBATIM.fullmatch(text):
        return f'"{text}"'
    if '"' in text and "'" not in text and all(c >= " " and c != "\x7f" for c in text):
        return f"'{text}'"
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
