"""What an install or a sync did: :class:`InstallReport`, which the command line prints. It
imports nothing heavy, so that a quick path can report what it did."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from kiln.core.resolver.resolution import Resolution


class Change(NamedTuple):
    name: str
    version: str


class InstallReport:
    """What an install or sync did, with timings in seconds. The steps fill it in as they
    go."""

    __slots__ = (
        "audited", "dry_run", "install_seconds", "installed", "prepare_seconds", "prepared",
        "resolution", "resolve_seconds", "resolved", "uninstalled",
    )

    def __init__(
        self,
        *,
        audited: int | None = None,
        resolved: int = 0,
        resolve_seconds: float = 0.0,
        prepared: int = 0,
        prepare_seconds: float = 0.0,
        installed: list[Change] | None = None,
        uninstalled: list[Change] | None = None,
        install_seconds: float = 0.0,
        resolution: Resolution | None = None,
        dry_run: bool = False,
    ) -> None:
        #: Nothing needed resolving: every requirement was already satisfied.
        self.audited = audited
        self.resolved = resolved
        self.resolve_seconds = resolve_seconds
        self.prepared = prepared
        self.prepare_seconds = prepare_seconds
        self.installed: list[Change] = [] if installed is None else installed
        self.uninstalled: list[Change] = [] if uninstalled is None else uninstalled
        self.install_seconds = install_seconds
        self.resolution = resolution
        #: Nothing was changed: ``installed`` and ``uninstalled`` are what would have been.
        self.dry_run = dry_run

    @property
    def changes(self) -> list[tuple[str, Change]]:
        """``("installed" | "uninstalled", change)`` by name, a removal before the
        install that replaces it."""
        found = [("uninstalled", c) for c in self.uninstalled]
        found += [("installed", c) for c in self.installed]
        return sorted(found, key=lambda item: (item[1].name.lower(), item[0] == "installed"))
