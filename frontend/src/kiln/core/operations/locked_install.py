"""Installing what a lock selects (``kiln sync``, ``kiln pip sync pylock.toml``): no
resolver runs, and the index client is opened only when a file is neither installed nor in
the download cache, so a sync from a warm cache imports no network code."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.install.environment import Environment
from kiln.core.install.envlock import changing
from kiln.core.install.installed import installed_distributions
from kiln.core.install.plan import (
    Desired,
    Plan,
    apply_plan,
    is_installed,
    plan_changes,
    with_archive_hash,
)
from kiln.core.operations.report import Change, InstallReport
from kiln.core.types import Built, DistFile

if TYPE_CHECKING:
    from packaging.tags import Tag

    from kiln.core.lockfile.selection import LockedPackage
    from kiln.core.operations.options import Events, Settings
    from kiln.core.operations.session import Session
    from kiln.core.resolver.environment import TargetEnvironment


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
    target: TargetEnvironment | None = None,
) -> InstallReport:
    """Make ``env`` hold ``packages`` (what a lock selects), and with ``exact`` nothing
    else. No resolver runs: each file is downloaded (checked against the lock's sha256)
    or built, unless the same version from the same source is installed whole already.

    ``keep``: names neither installed nor removed (``--no-install-package``);
    ``requested``: names marked as asked for; ``dry_run``: plan only and change nothing
    (with ``narrowing``, the wheels whose requirements are needed are still fetched into
    the cache, or built); ``done``: told, still under the environment's lock, which of
    ``packages`` the environment now holds; ``target``: the markers and wheel tags the
    packages were chosen for (``--python-platform``), when not ``env``'s."""
    from kiln.core.operations.options import Events, Settings, building_in

    settings = building_in(settings or Settings(), env.python)
    events = events or Events()
    if dry_run:
        return _LockedInstall(env, settings, events, target).run(
            packages, exact, keep, requested, narrowing, dry_run=True
        )
    with changing(env):
        return _LockedInstall(env, settings, events, target).run(
            packages, exact, keep, requested, narrowing, dry_run=False, done=done
        )


class _LockedInstall:
    """One install of locked packages; the index client is opened only when something is
    to be downloaded or built."""

    def __init__(
        self,
        env: Environment,
        settings: Settings,
        events: Events,
        target: TargetEnvironment | None = None,
    ) -> None:
        self.env = env
        self.target = target
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
                markers = (
                    self.target.markers if self.target is not None
                    else self.env.interpreter.markers
                )
                packages = walk(packages, narrowing.roots, self._requires_of(narrowing), markers)
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
                            with_archive_hash(built[d.key].direct_url or d.direct_url,
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
            from kiln.core.operations.environment import target_of
            from kiln.core.operations.session import Session
            from kiln.core.requirements_file import RequirementsInput, RequirementSpec

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
                RequirementsInput(requirements=specs), self.settings,
                self.target if self.target is not None else target_of(self.env),
                self.events, hashes=checked,
            )
        return self._session

    def _cached_wheel(self, package: LockedPackage) -> Path | None:
        """The lock's wheel of ``package`` from the download cache, intact and with the
        sha256 the lock gives, found without the index client; None when it is to be
        downloaded (or read from a local path, or refreshed)."""
        client = self.settings.client
        sha256 = package.hashes.get("sha256")
        if (
            package.kind != "wheel" or not sha256 or client.no_cache or client.refresh
            or package.name in client.refresh_packages
        ):
            return None
        from kiln.core.index.cache import FileCache, default_cache_dir

        root = client.cache_dir or default_cache_dir()
        if package.url.startswith("file:"):
            return _local_wheel(package.url, sha256, root)
        if not package.url.startswith(("https:", "http:")):
            return None
        cache = FileCache(root)
        return cache.intact_copy(package.url, package.filename, sha256, package.name)[0]

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
            cached = self._cached_wheel(package)
            if cached is not None:
                found[package.name] = Built(cached)
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
            paths = self._session_for().download([file for _, file in downloads])
            for (package, _), path in zip(downloads, paths):
                found[package.name] = Built(path)
        self.prepared.update(found)
        self.prepare_seconds += time.monotonic() - started
        return found


def _local_wheel(url: str, sha256: str, cache: Path) -> Path | None:
    """The local wheel at the ``file:`` URL ``url`` when its sha256 is ``sha256`` (a digest
    remembered while the file is unchanged, :class:`~kiln.core.statmemo.StatMemo`); None
    when it is not (the index client then says why)."""
    from kiln.core.fileio import file_sha256, file_url_path
    from kiln.core.statmemo import StatMemo

    path = file_url_path(url)
    try:
        digest = StatMemo(cache).remember(path, "sha256", lambda: file_sha256(path).encode())
    except OSError:
        return None
    return path if digest == sha256.encode() else None


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
