"""``uninstall``: remove distributions by name."""

from __future__ import annotations

from collections.abc import Iterable

from packaging.utils import canonicalize_name

from kiln.core.install.environment import Environment
from kiln.core.install.envlock import changing
from kiln.core.install.installed import InstalledDistribution, find_installed
from kiln.core.install.removal import Removal, uninstall


class UninstallReport:
    """What an uninstall did (filled in name by name)."""

    __slots__ = ("missing", "removed", "would_remove")

    def __init__(self) -> None:
        self.removed: list[Removal] = []
        #: Names that were not installed.
        self.missing: list[str] = []
        #: A dry run's finding: what would have been removed (``removed`` stays empty).
        self.would_remove: list[InstalledDistribution] = []


def uninstall_packages(
    env: Environment, names: Iterable[str], *, dry_run: bool = False
) -> UninstallReport:
    """Uninstall each of ``names`` (each all or nothing); unknown names are reported.
    ``dry_run``: find them only, changing nothing (not even taking the lock)."""
    report = UninstallReport()
    wanted = dict.fromkeys(canonicalize_name(n) for n in names)
    if dry_run:
        for name in wanted:
            found = find_installed(env, name)
            if found is None:
                report.missing.append(name)
            else:
                report.would_remove.append(found)
        return report
    with changing(env):
        for name in wanted:
            if find_installed(env, name) is None:
                report.missing.append(name)
                continue
            report.removed.append(uninstall(env, name))
    return report
