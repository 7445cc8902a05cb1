"""The build failure that carries the backend's captured output."""

from __future__ import annotations

from collections.abc import Sequence

from kiln.errors import KilnError


class BackendError(KilnError):
    """A build backend hook failed; ``output`` is what it printed."""

    def __init__(self, message: str, *, output: Sequence[str] = (), hint: str | None = None):
        super().__init__(message, hint=hint)
        self.output = list(output)
