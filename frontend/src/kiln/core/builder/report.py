"""How the build library tells its caller what it is doing, without printing."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def progress(self, message: str) -> None:
        """A step the user normally sees (``Building wheel...``)."""

    def debug(self, message: str) -> None:
        """A detail shown only in verbose mode (cache hits, commands)."""

    def backend_line(self, line: str) -> None:
        """One line of build backend output (shown only in verbose mode)."""


class SilentReporter:
    """A reporter that drops everything; the default for library callers."""

    def progress(self, message: str) -> None:
        pass

    def debug(self, message: str) -> None:
        pass

    def backend_line(self, line: str) -> None:
        pass
