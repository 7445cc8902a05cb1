"""Script launchers: entry points, shebang lines, and ``#!python`` rewriting."""

from __future__ import annotations

import configparser
import re
import shlex
from typing import NamedTuple

from kiln.errors import KilnError

_MAX_SHEBANG = 127  # bytes, including "#!" and the newline (the kernel's limit)
_PLACEHOLDER = re.compile(rb"^#!pythonw?(?:[ \t][^\r\n]*)?\r?\n?$")
_REFERENCE = re.compile(r"^(?P<module>[\w.]+)\s*:\s*(?P<attr>[\w.]+)\s*(?:\[[^\]]*\])?\s*$")


class EntryPoint(NamedTuple):
    name: str
    module: str
    attr: str
    gui: bool


def parse_entry_points(text: str, source: str) -> list[EntryPoint]:
    """Console and GUI scripts from ``entry_points.txt`` text (``source`` names it in errors)."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    try:
        parser.read_string(text, source)
    except configparser.Error as exc:
        raise KilnError(f"cannot parse `{source}`: {exc.message}") from None
    points = []
    for section, gui in (("console_scripts", False), ("gui_scripts", True)):
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            match = _REFERENCE.match(value)
            if match is None or "/" in name or "\\" in name or name in ("", ".", ".."):
                raise KilnError(
                    f"invalid entry point `{name} = {value}` in `{source}` [{section}]",
                    hint="expected `name = module:function`",
                )
            points.append(EntryPoint(name, match["module"], match["attr"], gui))
    return points


def shebang(python: str, *, relocatable: bool = False) -> bytes:
    """A shebang that runs ``python``: direct when short and space-free, else via /bin/sh.

    ``relocatable``: the interpreter of that name beside the script (where the script
    itself lives, links followed), so that the environment can be moved."""
    if relocatable:
        name = shlex.quote(python.replace("\\", "/").rpartition("/")[2])
        here = '"$(dirname -- "$(realpath -- "$0")")"'
        return ("#!/bin/sh\n" f"'''exec' {here}/{name} \"$0\" \"$@\"\n" "' '''\n").encode()
    line = f"#!{python}\n".encode()
    if len(line) <= _MAX_SHEBANG and " " not in python:
        return line
    # The second line is a shell `exec` to sh, and the start of a string literal to Python.
    return ("#!/bin/sh\n" f"'''exec' {shlex.quote(python)} \"$0\" \"$@\"\n" "' '''\n").encode()


def launcher(python: str, point: EntryPoint, *, relocatable: bool = False) -> bytes:
    """The text of a launcher script for ``point``."""
    head, _, _rest = point.attr.partition(".")
    body = (
        "# -*- coding: utf-8 -*-\n"
        "import sys\n"
        f"from {point.module} import {head}\n"
        'if __name__ == "__main__":\n'
        '    if sys.argv[0].endswith(".exe"):\n'
        "        sys.argv[0] = sys.argv[0][:-4]\n"
        f"    sys.exit({point.attr}())\n"
    )
    return shebang(python, relocatable=relocatable) + body.encode()


def rewrite_placeholder(
    content: bytes, python: str, *, relocatable: bool = False
) -> bytes | None:
    """``content`` with a ``#!python`` first line replaced, or None when it has none."""
    first, newline, rest = content.partition(b"\n")
    if not _PLACEHOLDER.match(first + newline):
        return None
    return shebang(python, relocatable=relocatable) + rest
