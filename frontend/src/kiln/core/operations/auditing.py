"""Whether an install has anything to do, answered without loading the resolver, the index
client or the installer: ``kiln pip install`` of requirements that are all met already is a
look at the environment and nothing more."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.install.environment import Environment
from kiln.core.install.envlock import changing, leftovers
from kiln.core.install.installed import (
    InstalledDistribution,
    installed_distributions,
    is_complete,
)
from kiln.core.operations.environment import target_of
from kiln.core.operations.options import Settings
from kiln.core.operations.report import InstallReport
from kiln.core.requirements_file import RequirementsInput, RequirementSpec

if TYPE_CHECKING:
    from kiln.core.resolver.environment import TargetEnvironment


def audit(
    env: Environment,
    inputs: RequirementsInput,
    settings: Settings | None = None,
    *,
    dry_run: bool = False,
    target: TargetEnvironment | None = None,
) -> InstallReport | None:
    """``Audited N packages`` when installing ``inputs`` into ``env`` has nothing to do: no
    upgrade or reinstall is asked for and every requirement is met by an installed
    distribution (its top level: dependencies are not looked at) that has all its files.
    None when :func:`kiln.core.operations.installing.install` would resolve.

    Staging directories that a dead kiln process left in site-packages are removed on the
    way (under the environment's lock, which is only taken when there are some), unless
    ``dry_run``."""
    if not dry_run:
        _remove_leftovers(env)
    if inputs.overrides or inputs.excludes:  # they change what the requirements mean
        return None
    installed = {dist.name: dist for dist in installed_distributions(env)}
    specs = inputs.requirements
    markers = (target or target_of(env)).markers
    if not nothing_to_do(specs, settings or Settings(), installed, markers):
        return None
    return InstallReport(audited=len(specs))


def _remove_leftovers(env: Environment) -> None:
    if leftovers(env):
        with changing(env):  # removes them, now that no live process can own them
            pass


def nothing_to_do(
    specs: Sequence[RequirementSpec],
    settings: Settings,
    installed: Mapping[NormalizedName, InstalledDistribution],
    markers: Mapping[str, str],
) -> bool:
    """Whether installing ``specs`` would change nothing: no upgrade or reinstall is asked
    for and every requirement is met by what is installed, which has all its files."""
    return not _forced(settings) and _all_satisfied(specs, installed, markers)


def _forced(settings: Settings) -> bool:
    """Whether the settings ask for upgrades or reinstalls."""
    return (
        settings.upgrade
        or settings.reinstall
        or bool(settings.upgrade_packages)
        or bool(settings.reinstall_packages)
    )


def _all_satisfied(
    specs: Sequence[RequirementSpec],
    installed: Mapping[NormalizedName, InstalledDistribution],
    markers: Mapping[str, str],
) -> bool:
    """True when every requirement is met by what is installed (only its top level) and
    each distribution that meets one has all its files."""
    if not specs:
        return True
    meeting: list[InstalledDistribution] = []
    for spec in specs:
        requirement = spec.requirement
        if requirement.marker is not None and not requirement.marker.evaluate(
            {**markers, "extra": ""}
        ):
            continue
        if requirement.url is not None or requirement.extras:
            return False
        dist = installed.get(canonicalize_name(requirement.name))
        if dist is None:
            return False
        if not requirement.specifier.contains(dist.version, prereleases=True):
            return False
        meeting.append(dist)
    # Last, being the costliest question: a directory listing per folder of each.
    return all(is_complete(dist) for dist in {d.name: d for d in meeting}.values())
