"""``uninstall``: remove distributions by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from kiln.core.install.environment import Environment
from kiln.core.install.envlock import changing
from kiln.core.install.installed import InstalledDistribution, find_installed
from kiln.core.install.removal import Removal, uninstall


@dataclass
class UninstallReport:
    removed: list[Removal] = field(default_factory=list)
    #: Names that were not installed.
    missing: list[str] = field(default_factory=list)
    #: A dry run's finding: what would have been removed (``removed`` stays empty).
    would_remove: list[InstalledDistribution] = field(default_factory=list)


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
