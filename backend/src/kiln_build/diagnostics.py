"""Warnings for the project author, printed to stderr under any frontend.

Every hook call prints its own warnings: a build that finds a problem says so, whatever
an earlier build in the same process printed (a frontend such as kiln builds many
projects in one process). Within one hook call a warning is printed once.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar

#: The warnings printed by the hook call in progress (None outside a hook call).
_printed: ContextVar[set[str] | None] = ContextVar("kiln_build_printed", default=None)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, TypeVar

    T = TypeVar("T")


def warn(message: str) -> None:
    """Print ``warning: <message>``, once per hook call."""
    printed = _printed.get()
    if printed is not None:
        if message in printed:
            return
        printed.add(message)
    print(f"warning: {message}", file=sys.stderr, flush=True)


def in_hook_call(function: Callable[[], T]) -> T:
    """Run one hook call: its warnings are printed afresh."""
    token = _printed.set(set())
    try:
        return function()
    finally:
        _printed.reset(token)
