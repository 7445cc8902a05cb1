"""The single exception type for user errors in a build."""

from __future__ import annotations


class BuildBackendError(Exception):
    """A problem with the project being built, explained for its author.

    The message names the file and the key at fault; ``hint`` says how to fix it.
    ``str()`` gives both, so any PEP 517 frontend shows the hint too.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message
