"""Terminal output: data on stdout, diagnostics on stderr, honouring -q, -v and NO_COLOR."""

from __future__ import annotations

import os
import sys
from typing import TextIO


def _colour_enabled(stream: TextIO, choice: str) -> bool:
    """``--color``: ``always``/``never`` as given; ``auto`` follows ``NO_COLOR``, then
    ``FORCE_COLOR``, then whether ``stream`` is a terminal."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"


class UI:
    """Everything the CLI prints goes through one of these methods."""

    def __init__(
        self,
        verbosity: int = 0,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        colour: str = "auto",
        progress: bool = True,
    ):
        self.verbosity = verbosity
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.colour = _colour_enabled(self.err, colour)
        #: Whether progress may be drawn: a self-rewriting line on a terminal.
        self.progress = progress and verbosity >= 0 and self.err.isatty()

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def data(self, line: str) -> None:
        """A result line (a path, a listing): stdout, even under -q."""
        print(line, file=self.out)

    def info(self, line: str) -> None:
        if self.verbosity >= 0:
            print(line, file=self.err)

    def debug(self, line: str) -> None:
        if self.verbosity > 0:
            print(self._style(line, "2"), file=self.err)

    def warning(self, message: str) -> None:
        if self.verbosity >= 0:
            print(f"{self._style('warning', '1;33')}: {message}", file=self.err)

    def error(self, message: str, hint: str | None = None) -> None:
        print(f"{self._style('error', '1;31')}: {message}", file=self.err)
        if hint:
            print(f"{self._style('hint', '1;36')}: {hint}", file=self.err)


def elapsed(seconds: float) -> str:
    """uv-style durations: ``12ms``, ``1.52s``."""
    if seconds < 1:
        return f"{max(seconds * 1000, 0):.0f}ms"
    return f"{seconds:.2f}s"


def packages(count: int) -> str:
    """``1 package``, ``3 packages``."""
    return f"{count} package" if count == 1 else f"{count} packages"
