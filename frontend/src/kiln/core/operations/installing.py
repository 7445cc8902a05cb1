"""``install`` and ``sync``: resolve, fetch or build wheels, and change the environment.
Installing what a lock selects, without resolving, is :mod:`kiln.core.operations.locked_install`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.install.environment import Environment
from kiln.core.install.envlock import changing
from kiln.core.install.installed import InstalledDistribution, installed_distributions
from kiln.core.install.plan import (
    Desired,
    Plan,
    apply_plan,
    plan_changes,
    with_archive_hash,
)
from kiln.core.operations.auditing import nothing_to_do
from kiln.core.operations.environment import target_of
from kiln.core.operations.hashes import (
    allowed_hashes,
    check_all_hashed,
    hash_checking,
    verify_file,
)
from kiln.core.operations.options import Events, Settings, building_in
from kiln.core.operations.report import Change, InstallReport
from kiln.core.operations.session import Session
from kiln.core.requirements_file import RequirementsInput, RequirementSpec
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import Resolution, ResolvedPackage
from kiln.core.types import Built

if TYPE_CHECKING:

    pass


def install(
    env: Environment,
    inputs: RequirementsInput,
    settings: Settings | None = None,
    events: Events | None = None,
    *,
    audited: bool = False,
    exact: bool = False,
    dry_run: bool = False,
    target: TargetEnvironment | None = None,
) -> InstallReport:
    """Install ``inputs`` (and, unless ``no_deps``, their dependencies) into ``env``.

    ``audited``: the caller has asked :func:`audit` already and it found work to do, so
    the environment is not looked at twice for that. ``exact``: also uninstall every
    package the resolution does not have. ``dry_run``: work out the changes and report
    them (:attr:`InstallReport.dry_run`), changing nothing. ``target``: resolve for it
    rather than for ``env``'s interpreter (``--python-version``/``--python-platform``)."""
    settings = settings or Settings()
    return _run(
        env, inputs, settings, events or Events(), sync=False, exact=exact,
        audit=not audited and not exact, dry_run=dry_run, target=target,
    )


def sync(
    env: Environment,
    inputs: RequirementsInput,
    settings: Settings | None = None,
    events: Events | None = None,
    *,
    dry_run: bool = False,
    target: TargetEnvironment | None = None,
) -> InstallReport:
    """Make ``env`` contain exactly ``inputs`` (no dependencies added, extras removed);
    ``dry_run``: report the changes without making them; ``target``: as for
    :func:`install`."""
    settings = settings or Settings()
    return _run(
        env, inputs, settings, events or Events(), sync=True, exact=True, audit=False,
        dry_run=dry_run, target=target,
    )


def _run(
    env: Environment,
    inputs: RequirementsInput,
    settings: Settings,
    events: Events,
    *,
    sync: bool,
    exact: bool,
    audit: bool,
    dry_run: bool,
    target: TargetEnvironment | None,
) -> InstallReport:
    target = target or target_of(env)
    if dry_run:  # nothing changes, so nothing to lock (the lock file itself is a change)
        return _run_locked(env, inputs, settings, events, sync=sync, exact=exact,
                           audit=audit, dry_run=True, target=target)
    # One change at a time: what is installed is read under the lock, so it is still true
    # when the plan made from it is carried out.
    with changing(env):
        return _run_locked(env, inputs, settings, events, sync=sync, exact=exact,
                           audit=audit, dry_run=False, target=target)


def _run_locked(
    env: Environment,
    inputs: RequirementsInput,
    settings: Settings,
    events: Events,
    *,
    sync: bool,
    exact: bool,
    audit: bool,
    dry_run: bool,
    target: TargetEnvironment,
) -> InstallReport:
    specs = inputs.requirements
    checking = hash_checking(specs, settings.require_hashes, inputs.hashed_constraints)
    installed = installed_distributions(env)
    by_name = {dist.name: dist for dist in installed}
    report = InstallReport()
    if audit and nothing_to_do(specs, settings, by_name, target.markers):
        report.audited = len(specs)
        return report
    started = time.monotonic()
    settings = building_in(settings, env.python)
    allowed = allowed_hashes([*specs, *inputs.hashed_constraints])
    checked = allowed if checking or allowed else None
    with Session(
        inputs, settings, target, events, hashes=checked, require_hashes=checking
    ) as session:
        preferences = [] if sync else _preferences(installed, specs, settings)
        resolution = session.resolve(no_deps=sync or settings.no_deps, preferences=preferences)
        report.resolution = resolution
        report.resolved = len(resolution.packages)
        report.resolve_seconds = time.monotonic() - started
        if checking:
            check_all_hashed(resolution.packages, allowed)
        requested = {canonicalize_name(s.requirement.name) for s in specs}
        placeholders = [
            _desired(package, Path(), requested, session) for package in _ordered(resolution)
        ]
        plan = plan_changes(
            placeholders, installed, reinstall=_reinstall(settings), remove_extraneous=exact
        )
        if dry_run:
            report.dry_run = True
            report.installed = [Change(d.name, str(d.version)) for d in plan.install]
            report.uninstalled = [
                Change(dist.display_name, dist.version) for dist in [*plan.uninstall, *plan.replaced]
            ]
            return report
        started = time.monotonic()
        wheels = _prepare(session, resolution, [d.key for d in plan.install], allowed, events)
        report.prepared = len(wheels)
        report.prepare_seconds = time.monotonic() - started
        final = Plan(
            install=[
                Desired(
                    d.name, d.version, wheels[d.key], d.requested,
                    with_archive_hash(d.direct_url, wheels[d.key]),
                )
                for d in plan.install
            ],
            uninstall=plan.uninstall,
            keep=plan.keep,
            replaced=plan.replaced,
        )
        started = time.monotonic()
        if not final.is_empty:
            apply_plan(
                env, final, compile_bytecode=settings.compile_bytecode,
                link_mode=settings.link_mode,
            )
        report.install_seconds = time.monotonic() - started
    report.installed = [Change(d.name, str(d.version)) for d in final.install]
    report.uninstalled = [
        Change(dist.display_name, dist.version) for dist in [*final.uninstall, *final.replaced]
    ]
    return report


def _reinstall(settings: Settings) -> bool | frozenset[str]:
    return True if settings.reinstall else settings.reinstall_packages


def _preferences(
    installed: Sequence[InstalledDistribution],
    specs: Sequence[RequirementSpec],
    settings: Settings,
) -> list[Requirement]:
    """``name==version`` for installed packages that may stay as they are."""
    if settings.upgrade:
        return []
    upgrading = {canonicalize_name(n) for n in settings.upgrade_packages}
    wanted = {canonicalize_name(s.requirement.name): s.requirement for s in specs}
    preferences = []
    for dist in installed:
        if dist.name in upgrading or dist.direct_url is not None:
            continue
        requirement = wanted.get(dist.name)
        if requirement is not None and (
            requirement.url is not None
            or not requirement.specifier.contains(dist.version, prereleases=True)
        ):
            continue
        try:
            Version(dist.version)
        except InvalidVersion:
            continue
        preferences.append(Requirement(f"{dist.name}=={dist.version}"))
    return preferences


def _ordered(resolution: Resolution) -> list[ResolvedPackage]:
    return [resolution.packages[name] for name in sorted(resolution.packages)]


def _desired(
    package: ResolvedPackage, wheel: Path, requested: set[NormalizedName], session: Session
) -> Desired:
    direct_url: Mapping[str, object] | None = None
    if package.direct_url is not None:
        built = session.builder.built.get(package.direct_url)
        if built is not None:
            direct_url = built.direct_url
        else:  # a wheel URL, read by the resolver itself
            direct_url = {"url": package.direct_url.split("#", 1)[0], "archive_info": {}}
    return Desired(
        str(package.name), package.version, wheel, package.name in requested, direct_url
    )


def _prepare(
    session: Session,
    resolution: Resolution,
    names: Sequence[NormalizedName],
    allowed: Mapping[NormalizedName, Mapping[str, frozenset[str]]],
    events: Events,
) -> dict[NormalizedName, Path]:
    """A verified wheel for each of ``names``: downloaded, built, or already built (the
    builder checked what it read or built against ``allowed`` as it did so)."""
    wheels: dict[NormalizedName, Path] = {}
    downloads: list[ResolvedPackage] = []
    for name in names:
        package = resolution.packages[name]
        built: Built | None = None
        if package.direct_url is not None:
            built = session.builder.built.get(package.direct_url)
        if built is not None:
            wheels[name] = built.wheel
        elif package.file.is_wheel:
            downloads.append(package)
        else:  # the builder checks the sdist against `allowed` before building it
            wheels[name] = session.builder.wheel_for_sdist(package.file).wheel
    paths = session.download([p.file for p in downloads])
    for package, path in zip(downloads, paths):
        if package.name in allowed:
            verify_file(path, str(package.name), allowed[package.name])
        wheels[package.name] = path
    return wheels


# -- installing what a lock selects -------------------------------------------------------------
