"""The resolver's user-facing failure."""

from __future__ import annotations

from kiln.errors import KilnError


class ResolutionError(KilnError):
    """No set of versions satisfies the requirements; ``explanation`` says why."""

    def __init__(self, explanation: str, *, hint: str | None = None) -> None:
        indented = "\n".join(f"  {line}" if line else "" for line in explanation.splitlines())
        super().__init__(f"no solution found when resolving dependencies:\n{indented}", hint=hint)
        self.explanation = explanation
