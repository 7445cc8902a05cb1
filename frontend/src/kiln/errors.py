"""The one exception type for user-facing failures in kiln's library layers."""

from __future__ import annotations


class KilnError(Exception):
    """A failure the user can act on: shown as ``error: <message>`` plus an optional hint.

    Library code raises it; only the CLI layer turns it into output and an exit code.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message
