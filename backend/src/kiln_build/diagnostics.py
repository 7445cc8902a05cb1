"""Warnings for the project author, printed to stderr under any frontend."""

from __future__ import annotations

import sys

#: Every distinct warning of this process, in order (the metadata cache replays them).
emitted: list[str] = []


def warn(message: str) -> None:
    """Print ``warning: <message>`` once per process."""
    if message in emitted:
        return
    emitted.append(message)
    print(f"warning: {message}", file=sys.stderr, flush=True)
