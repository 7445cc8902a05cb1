"""kiln's command line against uv's, option for option.

For each command both tools have, every long option of the installed uv's `--help` is either
accepted by kiln's own parser or listed, with the reason, in the one table of exceptions in
`docs/src/migration/from-uv.md`. The table cannot rot: an option kiln gains must leave it, an
option uv gains must enter it, an option uv drops must leave it. Every option kiln accepts is
documented on the page of its command.
"""

from __future__ import annotations

import argparse
import functools
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiln.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent
TABLE_PAGE = ROOT / "docs" / "src" / "migration" / "from-uv.md"
COMMAND_DOCS = ROOT / "docs" / "src" / "commands"
#: The uv of the test environment (`tests/requirements.txt` pins it).
UV = Path(sys.executable).parent / "uv"

#: The commands uv and kiln share, as typed after the program name.
COMMANDS = (
    "pip install",
    "pip compile",
    "pip sync",
    "pip list",
    "pip freeze",
    "pip show",
    "pip tree",
    "pip check",
    "pip uninstall",
    "build",
    "venv",
    "publish",
    "init",
    "cache clean",
    "cache dir",
    "cache prune",
    "lock",
    "sync",
)

#: The header of the exceptions table; the test reads the table under it.
TABLE_HEADER = "| command | option | why kiln does not accept it |"
#: A row that names no command holds for every command whose uv help lists the option.
EVERY_COMMAND = "*"

#: An option line of clap's help: two spaces, then `-x, --long` or four spaces and `--long`.
_UV_OPTION = re.compile(r"^  (?:-[A-Za-z0-9], |    )(--[a-z0-9][a-z0-9-]*)")
_ROW = re.compile(r"^\| (?P<command>[^|]+?) \| `(?P<option>--[a-z0-9-]+)` \| (?P<why>.+?) \|$")
_PLANNED = re.compile(r"^planned \(#\d+\)")


@functools.cache
def uv_options(command: str) -> frozenset[str]:
    result = subprocess.run(
        [str(UV), *command.split(), "--help"], capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "100"},
    )
    assert result.returncode == 0, result.stderr
    found = frozenset(m[1] for line in result.stdout.splitlines() if (m := _UV_OPTION.match(line)))
    assert "--help" in found, f"no options read from `uv {command} --help`"
    return found


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


@functools.cache
def _kiln_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command and subcommand of kiln, by the words that name it."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(prefix: str, parser: argparse.ArgumentParser) -> None:
        for name, child in _subparsers(parser).items():
            words = f"{prefix} {name}".strip()
            found[words] = child
            walk(words, child)

    walk("", build_parser())
    return found


def kiln_options(command: str) -> dict[str, argparse.Action]:
    parser = _kiln_parsers()[command]
    return {
        option: action
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
    }


@dataclass(frozen=True)
class Exception_:
    command: str
    option: str
    why: str
    line: int


@functools.cache
def exceptions() -> tuple[Exception_, ...]:
    lines = TABLE_PAGE.read_text("utf-8").splitlines()
    assert TABLE_HEADER in lines, f"{TABLE_PAGE.name} has no table headed `{TABLE_HEADER}`"
    start = lines.index(TABLE_HEADER) + 2
    rows = []
    for number, line in enumerate(lines[start:], start + 1):
        if not line.startswith("|"):
            break
        match = _ROW.match(line)
        assert match, f"{TABLE_PAGE.name}:{number}: not a `| command | `--option` | why |` row"
        command = match["command"].strip("`")
        rows.append(Exception_(command, match["option"], match["why"], number))
    return tuple(rows)


def _documented(command: str) -> dict[str, Exception_]:
    """The exceptions that apply to ``command``: its own rows and the every-command rows."""
    uv = uv_options(command)
    rows = {r.option: r for r in exceptions() if r.command == EVERY_COMMAND and r.option in uv}
    rows.update({r.option: r for r in exceptions() if r.command == command})
    return rows


@pytest.mark.parametrize("command", COMMANDS)
def test_every_uv_option_is_accepted_or_listed_as_an_exception(command: str) -> None:
    uv = uv_options(command)
    kiln = kiln_options(command)
    documented = _documented(command)
    unexplained = sorted(uv - set(kiln) - set(documented))
    assert not unexplained, (
        f"`uv {command}` accepts {', '.join(unexplained)}: accept them in `kiln {command}` "
        f"with uv's meaning, or add rows saying why not to the table in {TABLE_PAGE.name}"
    )
    accepted = sorted(
        f"{r.option} ({TABLE_PAGE.name}:{r.line})" for r in documented.values() if r.option in kiln
    )
    assert not accepted, (
        f"`kiln {command}` accepts {', '.join(accepted)} now: remove these rows from the table "
        f"(an every-command row becomes one row per command that still lacks the option)"
    )
    gone = sorted(
        f"{r.option} ({TABLE_PAGE.name}:{r.line})"
        for r in exceptions() if r.command == command and r.option not in uv
    )
    assert not gone, f"`uv {command} --help` no longer lists {', '.join(gone)}: remove the rows"


def test_the_exceptions_table_is_well_formed() -> None:
    rows = exceptions()
    assert rows, "the exceptions table is empty"
    keys = [(r.command, r.option) for r in rows]
    duplicates = sorted({f"{c} {o}" for c, o in keys if keys.count((c, o)) > 1})
    assert not duplicates, f"rows listed twice: {duplicates}"
    unknown = sorted({r.command for r in rows} - {*COMMANDS, EVERY_COMMAND})
    assert not unknown, f"rows for commands this test does not check: {unknown}"
    every = {r.option for r in rows if r.command == EVERY_COMMAND}
    shadowed = sorted(f"{r.command} {r.option}" for r in rows if r.command != EVERY_COMMAND and r.option in every)
    assert not shadowed, f"rows already covered by a `*` row: {shadowed}"
    for row in rows:
        commands = [c for c in COMMANDS if row.option in uv_options(c)]
        if row.command == EVERY_COMMAND:
            assert commands, f"{TABLE_PAGE.name}:{row.line}: no uv command lists {row.option}"
        assert _PLANNED.match(row.why) or len(row.why.split()) >= 5, (
            f"{TABLE_PAGE.name}:{row.line}: say why in a sentence, or `planned (#N)`"
        )


def test_the_table_is_in_command_order() -> None:
    """Rows are grouped: every-command rows first, then the commands in the order above."""
    order = [EVERY_COMMAND, *COMMANDS]
    positions = [order.index(r.command) for r in exceptions()]
    assert positions == sorted(positions), "keep the rows grouped by command, in COMMANDS order"


def _page_of(command: str, action: argparse.Action) -> Path:
    if any(group._group_actions and action in group._group_actions
           for group in _kiln_parsers()[command]._action_groups
           if group.title == "global options") or action.dest == "help":
        return COMMAND_DOCS / "index.md"
    own = COMMAND_DOCS / f"{command.replace(' ', '-')}.md"  # `pip download`: a page of its own
    if own.is_file():
        return own
    if command in ("pip wheel",):
        return COMMAND_DOCS / "pip-download.md"
    return COMMAND_DOCS / f"{command.split(maxsplit=1)[0]}.md"


@pytest.mark.parametrize("command", sorted(_kiln_parsers()))
def test_every_kiln_option_is_documented_on_its_command_page(command: str) -> None:
    missing = []
    for option, action in kiln_options(command).items():
        page = _page_of(command, action)
        if not re.search(rf"`{re.escape(option)}(?=[` =,\[])", page.read_text("utf-8")):
            missing.append(f"{option} ({page.relative_to(ROOT)})")
    assert not missing, f"`kiln {command}` options not documented: {', '.join(missing)}"
