"""Planning changes to an environment: what to install, uninstall and keep."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.install.environment import Environment
from kiln.core.install.installed import InstalledDistribution, is_complete
from kiln.core.install.installer import InstallRequest, InstallResult, install_wheels
from kiln.core.install.linking import LinkMode
from kiln.core.install.removal import Removal, uninstall


class Desired(NamedTuple):
    """One distribution that should end up installed."""

    name: str
    version: Version
    wheel: Path
    requested: bool = False
    direct_url: Mapping[str, object] | None = None

    @property
    def key(self) -> NormalizedName:
        return canonicalize_name(self.name)


class Plan:
    """What to install, uninstall and keep (:func:`plan_changes` fills the lists in)."""

    __slots__ = ("install", "keep", "replaced", "uninstall")

    def __init__(
        self,
        install: list[Desired] | None = None,
        uninstall: list[InstalledDistribution] | None = None,
        keep: list[InstalledDistribution] | None = None,
        replaced: list[InstalledDistribution] | None = None,
    ) -> None:
        self.install: list[Desired] = [] if install is None else install
        #: Installed distributions that are not wanted at all.
        self.uninstall: list[InstalledDistribution] = [] if uninstall is None else uninstall
        self.keep: list[InstalledDistribution] = [] if keep is None else keep
        #: Installed distributions that the installs will replace (another version or
        #: source).
        self.replaced: list[InstalledDistribution] = [] if replaced is None else replaced

    @property
    def is_empty(self) -> bool:
        return not self.install and not self.uninstall


def plan_changes(
    desired: Iterable[Desired],
    installed: Iterable[InstalledDistribution],
    *,
    reinstall: bool | Collection[str] = False,
    remove_extraneous: bool = False,
) -> Plan:
    """Compare what should be installed with what is.

    A distribution is kept when the same version from the same source (its PEP 610
    ``direct_url``) is installed with all the files its ``RECORD`` lists, unless it is named
    in ``reinstall`` (or ``reinstall`` is True). With ``remove_extraneous`` (``pip sync``),
    everything else is uninstalled.
    """
    current = {dist.name: dist for dist in installed}
    forced = {canonicalize_name(n) for n in reinstall} if not isinstance(reinstall, bool) else set()
    plan = Plan()
    wanted: set[NormalizedName] = set()
    for item in desired:
        wanted.add(item.key)
        dist = current.get(item.key)
        if dist is None:
            plan.install.append(item)
        elif reinstall is True or item.key in forced or not is_installed(dist, item):
            plan.install.append(item)
            plan.replaced.append(dist)
        else:
            plan.keep.append(dist)
    for name, dist in sorted(current.items()):
        if name in wanted:
            continue
        (plan.uninstall if remove_extraneous else plan.keep).append(dist)
    return plan


def is_installed(dist: InstalledDistribution, item: Desired) -> bool:
    """Whether ``dist`` is ``item``: the same version from the same source, with all the
    files its ``RECORD`` lists."""
    return _satisfies(dist, item) and is_complete(dist)


def _satisfies(dist: InstalledDistribution, item: Desired) -> bool:
    try:
        same_version = Version(dist.version) == item.version
    except InvalidVersion:
        return False
    installed_url = dist.direct_url
    wanted_url = dict(item.direct_url) if item.direct_url is not None else None
    return same_version and _source_of(installed_url) == _source_of(wanted_url)


def _source_of(direct_url: Mapping[str, object] | None) -> tuple[object, ...] | None:
    """What identifies a PEP 610 source: its URL, whether it is an editable directory and
    the commit of a repository. Keys that name the same code in other words (a
    repository's ``requested_revision``, the order of the keys) do not count."""
    if direct_url is None:
        return None
    dir_info = direct_url.get("dir_info")
    editable = dir_info.get("editable") is True if isinstance(dir_info, dict) else None
    vcs_info = direct_url.get("vcs_info")
    commit = (vcs_info.get("vcs"), vcs_info.get("commit_id")) if isinstance(vcs_info, dict) else None
    return (direct_url.get("url"), editable, commit)


def apply_plan(
    env: Environment,
    plan: Plan,
    *,
    compile_bytecode: bool = False,
    link_mode: LinkMode = "hardlink",
) -> tuple[list[Removal], list[InstallResult]]:
    """Uninstall the extraneous distributions, then install the planned wheels."""
    removals = [uninstall(env, dist.name) for dist in plan.uninstall]
    requests: Sequence[InstallRequest] = [
        InstallRequest(item.wheel, item.requested, item.direct_url) for item in plan.install
    ]
    results = install_wheels(env, requests, compile_bytecode=compile_bytecode, link_mode=link_mode)
    return removals, results


def with_archive_hash(
    direct_url: Mapping[str, object] | None, wheel: Path
) -> Mapping[str, object] | None:
    """Fill in the sha256 of a wheel URL's ``archive_info`` once the wheel is here."""
    if direct_url is None or direct_url.get("archive_info") != {}:
        return direct_url
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return {**direct_url, "archive_info": {"hashes": {"sha256": digest}}}
