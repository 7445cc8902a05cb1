"""What an install or a sync did: :class:`InstallReport`, which the command line prints. It
imports nothing heavy, so that a quick path can report what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln.core.resolver.resolution import Resolution


@dataclass(frozen=True)
class Change:
    name: str
    version: str


@dataclass
class InstallReport:
    """What an install or sync did, with timings in seconds."""

    #: Nothing needed resolving: every requirement was already satisfied.
    audited: int | None = None
    resolved: int = 0
    resolve_seconds: float = 0.0
    prepared: int = 0
    prepare_seconds: float = 0.0
    installed: list[Change] = field(default_factory=list)
    uninstalled: list[Change] = field(default_factory=list)
    install_seconds: float = 0.0
    resolution: Resolution | None = None
    #: Nothing was changed: ``installed`` and ``uninstalled`` are what would have been.
    dry_run: bool = False

    @property
    def changes(self) -> list[tuple[str, Change]]:
        """``("installed" | "uninstalled", change)`` by name, a removal before the
        install that replaces it."""
        found = [("uninstalled", c) for c in self.uninstalled]
        found += [("installed", c) for c in self.installed]
        return sorted(found, key=lambda item: (item[1].name.lower(), item[0] == "installed"))
