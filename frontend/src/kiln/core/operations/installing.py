"""``install`` and ``sync``: resolve, fetch or build wheels, and change the environment;
and :func:`install_locked`, which installs what a lock selects without resolving."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.install.environment import Environment
from kiln.core.install.envlock import changing
from kiln.core.install.installed import InstalledDistribution, installed_distributions
from kiln.core.install.plan import Desired, Plan, apply_plan, is_installed, plan_changes
from kiln.core.operations.auditing import Change, InstallReport, nothing_to_do
from kiln.core.operations.environment import target_of
from kiln.core.operations.hashes import (
    allowed_hashes,
    check_all_hashed,
    hash_checking,
    verify_file,
)
from kiln.core.operations.options import Events, Settings
from kiln.core.operations.session import Session
from kiln.core.requirements_file import RequirementsInput, RequirementSpec
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import Resolution, ResolvedPackage
from kiln.core.types import Built, DistFile

if TYPE_CHECKING:
    from packaging.tags import Tag

    from kiln.core.lockfile.selection import LockedPackage


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
    checking = hash_checking(specs, settings.require_hashes)
    installed = installed_distributions(env)
    by_name = {dist.name: dist for dist in installed}
    report = InstallReport()
    if audit and nothing_to_do(specs, settings, by_name, target.markers):
        report.audited = len(specs)
        return report
    started = time.monotonic()
    settings = _building_in(env, settings)
    allowed = allowed_hashes(specs)
    checked = allowed if checking else None
    with Session(inputs, settings, target, events, hashes=checked) as session:
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
                    _with_archive_hash(d.direct_url, wheels[d.key]),
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


def _building_in(env: Environment, settings: Settings) -> Settings:
    """``settings`` whose builds without isolation run in ``env`` (the environment being
    changed, as in uv), unless an interpreter was chosen for them."""
    build = settings.build
    if build is None or build.python is not None:
        return settings
    if not (build.no_isolation or build.no_isolation_packages):
        return settings
    return replace(settings, build=replace(build, python=env.python))


def _with_archive_hash(
    direct_url: Mapping[str, object] | None, wheel: Path
) -> Mapping[str, object] | None:
    """Fill in the sha256 of a wheel URL's ``archive_info`` once the wheel is here."""
    if direct_url is None or direct_url.get("archive_info") != {}:
        return direct_url
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return {**direct_url, "archive_info": {"hashes": {"sha256": digest}}}


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
    paths = _download(session, [p.file for p in downloads], events)
    for package, path in zip(downloads, paths):
        if package.name in allowed:
            verify_file(path, str(package.name), allowed[package.name])
        wheels[package.name] = path
    return wheels


# -- installing what a lock selects -------------------------------------------------------------


class Narrowing(NamedTuple):
    """Install only what ``roots`` reach of a selection (one workspace member, or groups
    alone). ``requires`` gives the requirements of a package the caller knows (a workspace
    member, from its ``pyproject.toml``), else None: the installed copy's ``Requires-Dist``
    is read, or the wheel's once it is downloaded or built."""

    roots: Sequence[Requirement]
    requires: Callable[[LockedPackage], Sequence[Requirement] | None]


def install_locked(
    env: Environment,
    packages: Sequence[LockedPackage],
    settings: Settings | None = None,
    events: Events | None = None,
    *,
    exact: bool = True,
    keep: Collection[str] = (),
    requested: Collection[str] = (),
    narrowing: Narrowing | None = None,
    dry_run: bool = False,
    done: Callable[[Sequence[LockedPackage]], None] | None = None,
) -> InstallReport:
    """Make ``env`` hold ``packages`` (what a lock selects), and with ``exact`` nothing
    else. No resolver runs: each file is downloaded (checked against the lock's sha256)
    or built, unless the same version from the same source is installed whole already.

    ``keep``: names neither installed nor removed (``--no-install-package``);
    ``requested``: names marked as asked for; ``dry_run``: plan only and change nothing
    (with ``narrowing``, the wheels whose requirements are needed are still fetched into
    the cache, or built); ``done``: told, still under the environment's lock, which of
    ``packages`` the environment now holds."""
    settings = settings or Settings()
    events = events or Events()
    if dry_run:
        return _LockedInstall(env, settings, events).run(
            packages, exact, keep, requested, narrowing, dry_run=True
        )
    with changing(env):
        return _LockedInstall(env, settings, events).run(
            packages, exact, keep, requested, narrowing, dry_run=False, done=done
        )


class _LockedInstall:
    """One install of locked packages; the index client is opened only when something is
    to be downloaded or built."""

    def __init__(self, env: Environment, settings: Settings, events: Events) -> None:
        self.env = env
        self.settings = settings
        self.events = events
        self.installed = {dist.name: dist for dist in installed_distributions(env)}
        self.prepared: dict[NormalizedName, Built] = {}
        self._session: Session | None = None
        self._packages: Sequence[LockedPackage] = ()
        self.prepare_seconds = 0.0

    def run(
        self,
        packages: Sequence[LockedPackage],
        exact: bool,
        keep: Collection[str],
        requested: Collection[str],
        narrowing: Narrowing | None,
        *,
        dry_run: bool,
        done: Callable[[Sequence[LockedPackage]], None] | None = None,
    ) -> InstallReport:
        from kiln.core.lockfile.selection import walk

        report = InstallReport()
        started = time.monotonic()
        self._packages = packages
        try:
            if narrowing is not None:  # a dry run may fetch wheels into the cache to read them
                packages = walk(
                    packages, narrowing.roots, self._requires_of(narrowing),
                    self.env.interpreter.markers,
                )
            kept = {canonicalize_name(name) for name in keep}
            asked = {canonicalize_name(name) for name in requested}
            wanted = [p for p in packages if p.name not in kept]
            plan = plan_changes(
                [self._desired(p, p.name in asked) for p in wanted], self.installed.values(),
                reinstall=self._reinstall(wanted), remove_extraneous=exact,
            )
            if kept:
                plan.keep.extend(d for d in plan.uninstall if d.name in kept)
                plan.uninstall[:] = [d for d in plan.uninstall if d.name not in kept]
            report.resolved = len(wanted)
            report.resolve_seconds = time.monotonic() - started
            if dry_run:
                report.installed = [
                    Change(d.name, str(d.version) if d.version != _UNKNOWN else "")
                    for d in plan.install
                ]
            else:
                by_name = {p.name: p for p in wanted}
                built = self._prepare([by_name[d.key] for d in plan.install])
                report.prepared = len(built)
                final = Plan(
                    install=[
                        Desired(
                            d.name, _wheel_version(built[d.key].wheel), built[d.key].wheel,
                            d.requested,
                            _with_archive_hash(built[d.key].direct_url or d.direct_url,
                                               built[d.key].wheel),
                        )
                        for d in plan.install
                    ],
                    uninstall=plan.uninstall, keep=plan.keep, replaced=plan.replaced,
                )
                installing = time.monotonic()
                if not final.is_empty:
                    apply_plan(
                        self.env, final, compile_bytecode=self.settings.compile_bytecode,
                        link_mode=self.settings.link_mode,
                    )
                report.install_seconds = time.monotonic() - installing
                report.installed = [Change(d.name, str(d.version)) for d in final.install]
                if done is not None:
                    done(wanted)
            report.prepare_seconds = self.prepare_seconds
            report.uninstalled = [
                Change(dist.display_name, dist.version)
                for dist in [*plan.uninstall, *plan.replaced]
            ]
            return report
        finally:
            if self._session is not None:
                self._session.close()

    # -- what is wanted ---------------------------------------------------------------------

    def _desired(self, package: LockedPackage, requested: bool) -> Desired:
        direct_url = package.direct_url()
        version = package.version
        if version is None:  # a directory: its installed copy's version, if it is that tree
            dist = self.installed.get(package.name)
            version = _UNKNOWN
            if dist is not None:
                with contextlib.suppress(InvalidVersion):
                    version = Version(dist.version)
        return Desired(package.name, version, Path(), requested, direct_url)

    def _reinstall(self, packages: Sequence[LockedPackage]) -> bool | frozenset[str]:
        """``--reinstall``, ``--reinstall-package``, and the directories whose
        ``pyproject.toml`` (or ``setup.py``, ``setup.cfg``) changed since they were
        installed."""
        if self.settings.reinstall:
            return True
        stale = {p.name for p in packages if self._changed_since_install(p)}
        return frozenset(self.settings.reinstall_packages | stale)

    def _changed_since_install(self, package: LockedPackage) -> bool:
        tree = package.source_path
        dist = self.installed.get(package.name)
        if tree is None or dist is None:
            return False
        from kiln.core.operations.syncrecord import tree_changed_since

        try:
            installed_at = (dist.dist_info / "RECORD").stat().st_mtime_ns
        except OSError:
            return False
        return tree_changed_since(tree, installed_at)

    def _requires_of(
        self, narrowing: Narrowing
    ) -> Callable[[LockedPackage], Sequence[Requirement]]:
        def requires(package: LockedPackage) -> Sequence[Requirement]:
            known = narrowing.requires(package)
            if known is not None:
                return known
            dist = self.installed.get(package.name)
            if dist is not None and package.version is not None and is_installed(
                dist, self._desired(package, False)
            ):
                return [Requirement(text) for text in dist.requires]
            wheel = self._prepare([package])[package.name].wheel
            return _wheel_requires(wheel)

        return requires

    # -- getting wheels ---------------------------------------------------------------------

    def _session_for(self) -> Session:
        if self._session is None:
            from kiln.core.requirements_file import RequirementSpec

            specs = [
                RequirementSpec(Requirement(f"{p.name} @ {p.url}"), editable=p.editable)
                for p in self._packages if p.is_direct
            ]
            checked = {
                p.name: {"sha256": frozenset([p.hashes["sha256"]])}
                for p in self._packages
                if p.kind in ("sdist", "archive") and "sha256" in p.hashes
            }
            self._session = Session(
                RequirementsInput(requirements=specs), self.settings, target_of(self.env),
                self.events, hashes=checked,
            )
        return self._session

    def _prepare(self, packages: Sequence[LockedPackage]) -> dict[NormalizedName, Built]:
        """A wheel for each of ``packages``: downloaded and checked against the lock's
        sha256, or built (sdists and archives checked the same way first)."""
        started = time.monotonic()
        found: dict[NormalizedName, Built] = {}
        downloads: list[tuple[LockedPackage, DistFile]] = []
        for package in packages:
            known = self.prepared.get(package.name)
            if known is not None:
                found[package.name] = known
                continue
            session = self._session_for()
            if package.is_direct:
                session.builder.direct_reference(package.name, package.url)
                found[package.name] = session.builder.built[package.url]
                continue
            assert package.version is not None
            file = DistFile(
                package.name, package.version, package.filename, package.url,
                hashes=dict(package.hashes), size=package.size,
                tags=_wheel_tags(package.filename) if package.kind == "wheel" else None,
            )
            if package.kind == "sdist":
                found[package.name] = session.builder.wheel_for_sdist(file)
            else:
                downloads.append((package, file))
        if downloads:
            paths = _download(self._session_for(), [file for _, file in downloads], self.events)
            for (package, _), path in zip(downloads, paths):
                found[package.name] = Built(path)
        self.prepared.update(found)
        self.prepare_seconds += time.monotonic() - started
        return found


def _download(session: Session, files: Sequence[DistFile], events: Events) -> list[Path]:
    """Download ``files`` (each checked against its hashes) at once, telling ``events``."""
    if files and events.downloading is not None:
        events.downloading(len(files))
    return session.source.download_many(files, progress=events.downloaded)


#: The version of a directory entry not installed yet (what its build gives is not known).
_UNKNOWN = Version("0.0.0.dev0")


def _wheel_version(wheel: Path) -> Version:
    from packaging.utils import parse_wheel_filename

    return parse_wheel_filename(wheel.name)[1]


def _wheel_tags(filename: str) -> frozenset[Tag]:
    from packaging.utils import parse_wheel_filename

    return parse_wheel_filename(filename)[3]


def _wheel_requires(wheel: Path) -> list[Requirement]:
    """The ``Requires-Dist`` of a wheel's METADATA."""
    from kiln.core.headers import parse_headers
    from kiln.core.index.metadata import read_wheel_metadata

    headers = parse_headers(read_wheel_metadata(wheel, wheel.name))
    return [Requirement(str(text)) for text in headers.get_all("Requires-Dist") or ()]


def install_lockfile(
    env: Environment,
    path: Path,
    settings: Settings | None = None,
    events: Events | None = None,
    *,
    exact: bool,
    extras: Collection[str] | None = (),
    groups: Collection[str] | None = None,
    dry_run: bool = False,
) -> InstallReport:
    """Install what the PEP 751 lock at ``path`` selects for ``env`` (``kiln pip sync
    pylock.toml`` with ``exact``, ``kiln pip install -r pylock.toml`` without), for
    ``extras`` (None: all of the lock's) and ``groups`` (None: its ``default-groups``);
    ``dry_run``: plan only."""
    from kiln.core.lockfile.document import read_lock
    from kiln.core.lockfile.selection import select

    lock = read_lock(path.absolute())
    packages = select(
        lock, markers=env.interpreter.markers, tags=env.interpreter.tags,
        extras=lock.pylock.extras or () if extras is None else extras, groups=groups, choices=settings.choices if settings is not None else None,
    )
    return install_locked(env, packages, settings, events, exact=exact,
                          requested=[p.name for p in packages], dry_run=dry_run)
