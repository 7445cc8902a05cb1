"""Warnings for the project author, printed to stderr under any frontend."""

from __future__ import annotations

import sys

_seen: set[str] = set()


def warn(message: str) -> None:
    """Print ``warning: <message>`` once per process."""
    if message in _seen:
        return
    _seen.add(message)
    print(f"warning: {message}", file=sys.stderr, flush=True)
