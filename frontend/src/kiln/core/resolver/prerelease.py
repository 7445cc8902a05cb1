"""Pre-release modes: when the resolver may choose a pre-release version of a package
(``--prerelease``, and per package ``--prerelease-package`` and ``prerelease-package``).

:class:`~kiln.core.resolver.candidates.Candidates` applies them; this module only names them,
so that the command line and the settings can check a value without loading the resolver.
"""

from __future__ import annotations

from typing import Literal

PrereleaseMode = Literal["if-necessary", "allow", "disallow", "explicit"]

#: Every value a mode may be written as: the modes, and uv's ``if-necessary-or-explicit``,
#: its older name of ``if-necessary``.
PRERELEASE_VALUES = ("if-necessary", "allow", "disallow", "explicit", "if-necessary-or-explicit")


def prerelease_mode(value: str) -> PrereleaseMode | None:
    """The pre-release mode ``value`` names, or None when it names none."""
    if value == "if-necessary-or-explicit":
        return "if-necessary"
    if value in PRERELEASE_VALUES:
        return value  # type: ignore[return-value]
    return None
