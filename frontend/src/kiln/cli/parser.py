"""The argument parser of every kiln command: argparse, with kiln's usage-error conventions.

- No abbreviated options: `--extra` is never taken for `--extra-index-url`.
- A usage error names what was typed, offers the closest command or option as a `hint:`, and
  shows the usage of the (sub)command being typed, not the top level's.
- Usage errors exit with status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

# argparse's own text for a value outside `choices`, e.g. an unknown subcommand. The value is
# repr()'d; the choices are repr()'d up to Python 3.12.7 and bare since.
_INVALID_CHOICE = re.compile(
    r"argument (?P<argument>.+?): invalid choice: (?P<value>'[^']*'|\S+) \(choose from (?P<choices>.*)\)"
)


class Parser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` whose subcommand parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        # The deepest parser that took part in a parse leaves itself in the namespace, so that
        # arguments nobody recognised are reported with that (sub)command's usage.
        self.set_defaults(_parser=self)

    def parse(self, words: Sequence[str]) -> argparse.Namespace:
        """Parse ``words``; a usage error exits with status 2 (``SystemExit``)."""
        args, extras = self.parse_known_args(words)
        if extras:
            leaf: Parser = getattr(args, "_parser", self)
            leaf.reject(extras)
        return args

    def reject(self, extras: Sequence[str]) -> NoReturn:
        """Report the first argument no parser recognised."""
        word = extras[0]
        if word.startswith("-") and len(word) > 1:
            name = word.split("=", 1)[0]
            self.fail(f"unexpected option `{name}`", _similar("option", name, self._option_names()))
        self.fail(f"unexpected argument `{word}`")

    def error(self, message: str) -> NoReturn:  # argparse's hook for its own usage errors
        hint = None
        match = _INVALID_CHOICE.search(message)
        if match:
            value = match["value"].strip("'")
            choices = [c.strip().strip("'") for c in match["choices"].split(",")]
            if self._is_command_choice(choices):
                message = f"unknown command `{value}`"
                hint = _similar("command", value, choices)
            else:
                message = f"invalid value `{value}` for `{match['argument']}`"
                listed = ", ".join(f"`{c}`" for c in choices)
                hint = _similar("value", value, choices) or f"choose one of: {listed}"
        self.fail(message, hint)

    def fail(self, message: str, hint: str | None = None) -> NoReturn:
        from kiln.cli.ui import UI

        ui = UI()
        ui.error(message, hint)
        ui.info(f"\n{self.short_usage()}\n\nFor more information, try `{self.prog} --help`.")
        sys.exit(2)

    def short_usage(self) -> str:
        """``usage: PROG [OPTIONS] POSITIONALS``: the options are listed by ``--help``."""
        formatter = self._get_formatter()
        positionals = [a for a in self._actions if not a.option_strings]
        formatter.add_usage(None, positionals, [], prefix="")
        words = formatter.format_help().strip()[len(self.prog) :].strip()
        return f"usage: {self.prog} [OPTIONS] {words}".rstrip()

    def _option_names(self) -> list[str]:
        return [s for action in self._actions for s in action.option_strings if s.startswith("--")]

    def _is_command_choice(self, choices: Iterable[str]) -> bool:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return set(choices) <= set(action.choices)
        return False


def _similar(what: str, typed: str, known: Iterable[str]) -> str | None:
    """The hint naming the one known word that ``typed`` abbreviates, else the closest one."""
    import difflib  # only for a usage error

    known = list(known)
    longer = [word for word in known if word.startswith(typed)]
    if len(longer) == 1:
        return f"a similar {what} exists: `{longer[0]}`"
    bare = {word.lstrip("-"): word for word in known}
    close = difflib.get_close_matches(typed.lstrip("-"), list(bare), n=1, cutoff=0.75)
    return f"a similar {what} exists: `{bare[close[0]]}`" if close else None
