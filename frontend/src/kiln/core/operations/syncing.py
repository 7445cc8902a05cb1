"""``sync``: make the project environment hold exactly what the workspace's lock selects.

1. The lock: used as it is with ``frozen`` (it must exist); otherwise checked with the
   stamps (:func:`kiln.core.operations.locking.quick_check`) and, when they do not
   decide, locked (:func:`~kiln.core.operations.locking.lock`; with ``--locked`` a lock
   that would change is an error).
2. The environment (:func:`~kiln.core.operations.projectenv.project_environment`), made
   when missing.
3. What it installs: the lock's entries selected for its interpreter, the chosen extras
   and groups (:mod:`kiln.core.lockfile.selection`); narrowed to what one member (or the
   groups alone) reaches when the whole workspace is not wanted.
4. Installing that (:func:`~kiln.core.operations.locked_install.install_locked`): nothing is
   resolved, and what is installed already is neither downloaded nor installed again.

A sync with nothing to do is recognised by :func:`quick_sync` before the project model,
the resolver or the installer is imported: the lock's stamps hold, and the record the last
sync left in the environment (:mod:`kiln.core.operations.syncrecord`) says that the same
lock, options and interpreter gave what is installed now. A sync into a new environment
takes a shorter path too when an earlier sync of the same lock, with the same options, for
an interpreter with the same markers and wheel tags, left its plan in the cache: the plan's
wheels are installed without reading the project or the lock again. When such a sync made
an environment at the same place before, the snapshot it left in the cache
(:mod:`kiln.core.install.snapshot`) makes it again by linking, without the installer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kiln.core.lockfile.selection import GroupChoice
from kiln.core.operations.locking import LockRequest, LockResult
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.tags import Tag
    from packaging.utils import NormalizedName

    from kiln.core.install.environment import Environment
    from kiln.core.install.linking import LinkMode
    from kiln.core.lockfile.document import LockFile
    from kiln.core.lockfile.selection import LockedPackage
    from kiln.core.operations.locked_install import Narrowing
    from kiln.core.operations.options import Events, Settings
    from kiln.core.operations.projectenv import ProjectEnvironment
    from kiln.core.operations.report import InstallReport
    from kiln.core.operations.syncrecord import RememberedPlan
    from kiln.project.workspace import Member, Project


class SyncRequest(NamedTuple):
    """What ``kiln sync`` was asked to do (plain values)."""

    #: How to bring the lock up to date (its ``mode``: ``write``, ``check`` for
    #: ``--locked``, ``dry-run``).
    lock: LockRequest = LockRequest()
    #: ``--frozen``: use the lock as it is.
    frozen: bool = False
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    no_extras: tuple[str, ...] = ()
    groups: GroupChoice = GroupChoice()
    #: ``--package``: sync for this member only.
    package: str | None = None
    all_packages: bool = False
    no_install_project: bool = False
    no_install_workspace: bool = False
    no_install_packages: tuple[str, ...] = ()
    #: ``--no-install-local``: leave out every package from a local directory or file.
    no_install_local: bool = False
    editable: bool = True
    #: ``--no-editable-package``: install these editable packages as regular wheels.
    no_editable_packages: tuple[str, ...] = ()
    #: ``--python-platform``: choose the lock's entries (markers, wheels) for this
    #: platform instead of the interpreter's.
    python_platform: str | None = None
    #: Remove what the lock does not select (``--exact``, the default).
    exact: bool = True
    dry_run: bool = False
    python: str | None = None
    active: bool = False


class FreshInstall(NamedTuple):
    """How a sync into a new environment installs a remembered plan (see
    :func:`quick_sync`): the command line's link mode and byte-code choice. A command line
    that changes what is chosen or where it comes from (``--no-binary``, ``--refresh``,
    ``--no-cache`` and the like) has none."""

    link_mode: LinkMode = "hardlink"
    compile_bytecode: bool = False

    @property
    def snapshots(self) -> bool:
        """Whether the environment may be restored from, and kept as, a snapshot."""
        return _snapshots(self.link_mode, self.compile_bytecode)


def _snapshots(link_mode: LinkMode, compile_bytecode: bool) -> bool:
    """Whether an environment installed so has a snapshot: its files are links to the cache,
    with no byte code (see :mod:`kiln.core.install.snapshot`)."""
    return link_mode == "hardlink" and not compile_bytecode


class SyncResult(NamedTuple):
    #: None with ``--frozen``.
    lock: LockResult | None
    environment: ProjectEnvironment
    #: What the install did; None when nothing was to be done (:func:`quick_sync`).
    report: InstallReport | None
    seconds: float
    #: How many distributions were found as they should be, when nothing was to be done.
    audited: int | None = None
    #: The new environment was filled from the plan the cache remembers (see
    #: :func:`quick_sync`).
    remembered: bool = False
    #: The new environment was restored from the snapshot the cache keeps (see
    #: :func:`quick_sync`).
    restored: bool = False


def sync(
    start: Path,
    request: SyncRequest,
    settings: Settings,
    events: Events | None = None,
    *,
    current: LockResult | None = None,
    remember: bool = False,
) -> SyncResult:
    """Sync the project environment of the workspace at or above ``start``; ``current``:
    what :func:`~kiln.core.operations.locking.quick_check` found for ``request.lock``, when
    the caller has asked it; ``remember``: keep the plan in the cache for a later sync into a
    new environment (see :func:`quick_sync`), when the command line allows that one."""
    from kiln.core.lockfile.document import parse_lock, read_lock
    from kiln.core.operations.locking import lock, quick_check, target_project

    started = time.monotonic()
    project = target_project(start, request.lock)
    workspace = project.workspace
    script = workspace.script
    locked: LockResult | None = None
    lock_request = request.lock
    if script is not None and not workspace.lockfile.is_file():
        # A script is locked only by `kiln lock --script`: without its lock, it is resolved
        # for this sync alone.
        if request.frozen or lock_request.mode == "check":
            option = "--frozen" if request.frozen else "--locked"
            raise KilnError(
                f"`{option}` needs the lock of the script, `{workspace.lockfile}`, which does "
                "not exist",
                hint=f"run `kiln lock --script {script.path.name}` to lock the script",
            )
        lock_request = lock_request._replace(mode="dry-run")
    if request.frozen:
        if not workspace.lockfile.is_file():
            raise KilnError(
                f"`--frozen` was given, but `{workspace.lockfile}` does not exist",
                hint="run `kiln lock` to create it, or sync without `--frozen`",
            )
        lockfile = read_lock(workspace.lockfile)
    else:
        if current is None or lock_request is not request.lock:
            current = quick_check(start, lock_request)
        locked = current or lock(start, lock_request, settings, events)
        if lock_request is not request.lock:
            locked = locked._replace(changes=())  # the script's lock is not written
        if locked.text is not None:
            lockfile = parse_lock(locked.path, locked.text)
        else:
            lockfile = read_lock(locked.path)
    from kiln.core.operations.projectenv import project_environment

    environment = project_environment(
        workspace.root, workspace.requires_python, python=request.python,
        active=request.active, dry_run=request.dry_run,
        report=events.note if events else None, warn=events.warning if events else None,
        script=script.path if script is not None else None,
    )
    report = _install(
        project, lockfile, environment, request, settings, events, start, remember=remember
    )
    return SyncResult(locked, environment, report, time.monotonic() - started)


def quick_sync(
    start: Path,
    request: SyncRequest,
    *,
    reinstall: bool = False,
    warn: Callable[[str], None] | None = None,
    note: Callable[[str], None] | None = None,
    current: LockResult | None = None,
    fresh: FreshInstall | None = None,
) -> SyncResult | None:
    """The result of a sync that has nothing to do, known from the lock's stamps and the
    environment's record of the last sync; with ``fresh``, also of a sync into a new
    environment whose plan the cache remembers (:func:`_remembered`). None when those do not
    decide (then :func:`sync` runs)."""
    from kiln.core.operations import syncrecord
    from kiln.core.operations.locking import locked_root, quick_check

    if request.dry_run or reinstall:
        return None
    started = time.monotonic()
    found = locked_root(start, request.lock)
    if found is None:
        return None
    path, nearest = found
    root = path.parent
    locked: LockResult | None = None
    if request.frozen:
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    else:
        locked = current or quick_check(start, request.lock)
        if locked is None or locked.text is None:
            return None
        text = locked.text
    from kiln.core.operations.projectenv import project_environment

    # Warnings are told only when this answer stands (else `sync` tells them).
    warnings: list[str] = []
    # No `requires-python` to check: the record's key names the lock (whose
    # `requires-python` the last sync checked) and the interpreter it was made for.
    script = request.lock.script
    environment = project_environment(
        root, None, python=request.python, active=request.active, dry_run=True,
        warn=warnings.append, script=script.absolute() if script is not None else None,
    )
    if environment.created:
        if fresh is None or environment.replaced or request.python_platform is not None:
            return None
        return _remembered(
            root, text, request, nearest, environment, fresh, locked, started,
            warn=warn, note=note,
        )
    env = environment.env
    folders = syncrecord.site_folders(env.scheme.purelib, env.scheme.platlib)
    count = syncrecord.nothing_to_do(env.prefix, _key(text, request, nearest, env), folders)
    if count is None:
        return None
    if warn is not None:
        for warning in warnings:
            warn(warning)
    return SyncResult(locked, environment, None, time.monotonic() - started, audited=count)


def _remembered(
    root: Path,
    text: str,
    request: SyncRequest,
    nearest: str,
    would_be: ProjectEnvironment,
    fresh: FreshInstall,
    locked: LockResult | None,
    started: float,
    *,
    warn: Callable[[str], None] | None,
    note: Callable[[str], None] | None,
) -> SyncResult | None:
    """A sync into the new environment ``would_be`` from the plan the cache remembers for
    it, when there is one and every wheel of it is intact in the download cache; None
    otherwise (nothing is made then). The environment is restored from the snapshot of the
    one an earlier sync made at the same place when the cache keeps one that can be
    restored; else it is made and the plan's wheels are installed."""
    from kiln.core.cachedir import cache_root
    from kiln.core.index.cache import FileCache
    from kiln.core.operations import syncrecord
    from kiln.core.operations.projectenv import project_environment

    cache = cache_root()
    key = _plan_key(text, request, nearest, would_be.env)
    plan = syncrecord.recall_plan(cache, key)
    if plan is None:
        return None
    files = FileCache(cache)
    wheels = []
    for wheel in plan.wheels:
        path = files.intact_copy(wheel.url, wheel.filename, wheel.sha256, wheel.name)[0]
        if path is None:
            return None
        wheels.append((wheel, path))
    snapshot_key = _snapshot_key(key, would_be.env) if fresh.snapshots else None
    snapshot = syncrecord.recall_snapshot(cache, snapshot_key) if snapshot_key else None
    names = [wheel.name for wheel in plan.wheels]

    def restore_here(path: Path, env: Environment) -> bool:
        from kiln.core.install.snapshot import restore

        def record(aside: Path) -> None:
            # Written before the environment is moved into place, so that what it records
            # is what the environment holds when it appears.
            folders = syncrecord.site_folders(env.scheme.purelib, env.scheme.platlib)
            syncrecord.write_record(
                aside, _key(text, request, nearest, env),
                [aside / folder.relative_to(env.prefix) for folder in folders],
                names, exact=request.exact, kept=plan.kept, trees={},
            )

        assert snapshot is not None
        return restore(snapshot, path, cache, finish=record)

    installing = time.monotonic()
    script = request.lock.script
    environment = project_environment(
        root, None, python=request.python, active=request.active, report=note, warn=warn,
        script=script.absolute() if script is not None else None,
        restore=restore_here if snapshot is not None else None,
    )
    if environment.restored:
        return SyncResult(locked, environment, _report(plan, time.monotonic() - installing),
                          time.monotonic() - started, remembered=True, restored=True)
    env = environment.env
    from packaging.version import Version

    from kiln.core.install.envlock import changing
    from kiln.core.install.plan import Desired, Plan, apply_plan

    installing = time.monotonic()
    install = [Desired(w.name, Version(w.version), path, w.requested) for w, path in wheels]
    with changing(env):
        apply_plan(env, Plan(install=install), compile_bytecode=fresh.compile_bytecode,
                   link_mode=fresh.link_mode)
        syncrecord.write_record(
            env.prefix, _key(text, request, nearest, env),
            syncrecord.site_folders(env.scheme.purelib, env.scheme.platlib),
            names, exact=request.exact, kept=plan.kept, trees={},
        )
        if snapshot_key is not None:
            _keep_snapshot(cache, snapshot_key, env, [path for _, path in wheels])
    return SyncResult(locked, environment, _report(plan, time.monotonic() - installing),
                      time.monotonic() - started, remembered=True)


def _report(plan: RememberedPlan, seconds: float) -> InstallReport:
    """What installing ``plan`` into a new environment did."""
    from kiln.core.operations.report import Change, InstallReport

    return InstallReport(
        resolved=len(plan.wheels), prepared=len(plan.wheels),
        installed=[Change(wheel.name, wheel.version) for wheel in plan.wheels],
        install_seconds=seconds,
    )


def _snapshot_key(plan: str, env: Environment) -> str | None:
    """The cache's key of the snapshot of a new environment like ``env`` filled by the plan
    with the key ``plan`` (see :func:`kiln.core.operations.syncrecord.snapshot_key`): what
    making the environment reads of its interpreter."""
    from kiln.core.operations.syncrecord import snapshot_key

    interpreter = env.interpreter
    return snapshot_key(plan, env.prefix, {
        "base_executable": interpreter.base_executable,
        "base_prefix": interpreter.base_prefix,
        "version": interpreter.version_string,
        "implementation": interpreter.implementation,
        "implementation_display": interpreter.implementation_display,
        "scheme": dict(interpreter.venv_scheme),
        "relocatable": env.relocatable,
    })


def _keep_snapshot(cache: Path, key: str, env: Environment, wheels: Sequence[Path]) -> None:
    """Keep the snapshot of the new environment ``env``, just filled from the ``wheels`` of
    the download cache, under ``key``. Nothing is kept when it cannot be taken."""
    from kiln.core.install.envlock import LOCK_NAME
    from kiln.core.install.snapshot import take
    from kiln.core.install.wheel import unpacked_already
    from kiln.core.operations import syncrecord

    trees = []
    for wheel in wheels:
        unpacked = unpacked_already(wheel, cache)
        if unpacked is None:
            return
        trees.append(unpacked.root)
    snapshot = take(env.prefix, cache, trees, leave_out=(syncrecord.RECORD_NAME, LOCK_NAME))
    if snapshot is not None:
        syncrecord.remember_snapshot(cache, key, snapshot)


def _options(request: SyncRequest) -> dict[str, object]:
    """The options of ``request`` that choose what a sync installs."""
    return {
        name: getattr(request, name)
        for name in (
            "extras", "all_extras", "no_extras", "groups", "package", "all_packages",
            "no_install_project", "no_install_workspace", "no_install_packages", "editable",
            "exact", "no_install_local", "no_editable_packages", "python_platform",
        )
    }


def _key(text: str, request: SyncRequest, project: str, env: Environment) -> str:
    """The record's key of a sync of the lock ``text`` (see
    :func:`kiln.core.operations.syncrecord.sync_key`)."""
    from kiln.core.operations.syncrecord import sync_key

    python = f"{env.python}\0{env.interpreter.version_string}"
    return sync_key(text, _options(request), project, python)


def _plan_key(text: str, request: SyncRequest, project: str, env: Environment) -> str:
    """The cache's key of the plan of a sync of the lock ``text`` into a new environment
    like ``env`` (see :func:`kiln.core.operations.syncrecord.plan_key`)."""
    from kiln.core.operations.syncrecord import plan_key, sync_key

    interpreter = env.interpreter
    return plan_key(
        sync_key(text, _options(request), project, ""), interpreter.markers,
        repr(interpreter.tag_facts),
    )


def _install(
    project: Project,
    lockfile: LockFile,
    environment: ProjectEnvironment,
    request: SyncRequest,
    settings: Settings,
    events: Events | None,
    start: Path,
    *,
    remember: bool = False,
) -> InstallReport:
    from kiln.core.lockfile.selection import choose_extras, choose_groups, select
    from kiln.core.operations import syncrecord
    from kiln.core.operations.locked_install import install_locked
    from kiln.core.operations.locking import locked_root, with_build_settings
    from kiln.core.types import BuildChoices

    # A plan is remembered only for the selection a plain command line makes (see
    # `FreshInstall`); the project's own build choices are part of the lock's stamps.
    remember = remember and settings.choices == BuildChoices() and request.python_platform is None
    settings = with_build_settings(settings, project.workspace)
    where = f"`{lockfile.path}`"
    pylock = lockfile.pylock
    extras = choose_extras(
        pylock.extras or (), request.extras, all_extras=request.all_extras,
        no_extras=request.no_extras, where=where,
    )
    groups = choose_groups(
        pylock.dependency_groups or (), pylock.default_groups or (), request.groups, where
    )
    env = environment.env
    target = None
    markers: Mapping[str, str] = env.interpreter.markers
    tags: Sequence[Tag] = env.interpreter.tags
    if request.python_platform is not None:
        from kiln.core.operations.environment import for_python

        target = for_python(env, None, request.python_platform)[1]
        markers, tags = target.markers, target.tags
    packages = select(
        lockfile, markers=markers, tags=tags,
        extras=extras, groups=groups, editable=request.editable, choices=settings.choices,
    )
    packages = _not_editable(packages, request.no_editable_packages)
    targets = _targets(project, request)
    members = project.workspace.members
    narrowing = None
    if len(targets) < len(members) or request.groups.only:
        narrowing = _narrowing(project, targets, extras, groups, only=request.groups.only)
    kept = _kept(project, targets, request)
    if request.no_install_local:
        kept |= {package.name for package in packages if package.is_local}
    found = locked_root(start, request.lock)
    nearest = found[1] if found else ""
    key = _key(lockfile.text, request, nearest, env)
    requested = [member.normalized_name for member in members]

    def done(installed: Sequence[LockedPackage]) -> None:
        syncrecord.write_record(
            env.prefix, key, syncrecord.site_folders(env.scheme.purelib, env.scheme.platlib),
            [p.name for p in installed], exact=request.exact, kept=kept,
            trees={p.name: path for p in installed if (path := p.source_path) is not None},
        )
        if remember and found is not None:
            new = env if environment.created else None
            _remember(settings, _plan_key(lockfile.text, request, nearest, env), installed,
                      kept, requested, new=new)

    return install_locked(
        env, packages, settings, events,
        exact=request.exact,
        keep=kept,
        requested=requested,
        narrowing=narrowing,
        dry_run=request.dry_run,
        done=done,
        target=target,
    )


def _remember(
    settings: Settings,
    key: str,
    installed: Sequence[LockedPackage],
    kept: Collection[str],
    requested: Collection[str],
    *,
    new: Environment | None = None,
) -> None:
    """Keep the plan of a sync that installed only index wheels (with their sha256) in the
    cache under ``key``, for a later sync into a new environment; and when the sync made
    the environment ``new``, its snapshot, for a later sync into a new environment at the
    same place."""
    from kiln.core.cachedir import cache_root
    from kiln.core.operations.syncrecord import PlannedWheel, RememberedPlan, remember_plan

    wheels = []
    for package in installed:
        sha256 = package.hashes.get("sha256")
        if (
            package.kind != "wheel" or package.is_direct or package.editable or not sha256
            or package.version is None or not package.url.startswith(("https:", "http:"))
        ):
            return
        wheels.append(PlannedWheel(
            package.name, str(package.version), package.url, package.filename, sha256,
            package.name in requested,
        ))
    cache = settings.client.cache_dir or cache_root()
    remember_plan(cache, key, RememberedPlan(wheels, sorted(kept)))
    if new is None or not _snapshots(settings.link_mode, settings.compile_bytecode):
        return
    snapshot_key = _snapshot_key(key, new)
    if snapshot_key is None:
        return
    from kiln.core.index.cache import FileCache

    files = FileCache(cache)
    paths = []
    for wheel in wheels:
        path = files.intact_copy(wheel.url, wheel.filename, wheel.sha256, wheel.name)[0]
        if path is None:
            return
        paths.append(path)
    _keep_snapshot(cache, snapshot_key, new, paths)


def _not_editable(
    packages: list[LockedPackage], names: Sequence[str]
) -> list[LockedPackage]:
    """``packages`` with those named (``--no-editable-package``) installed as regular
    wheels."""
    if not names:
        return packages
    from packaging.utils import canonicalize_name

    wanted = {canonicalize_name(name) for name in names}
    return [p._replace(editable=False) if p.name in wanted else p for p in packages]


def _targets(project: Project, request: SyncRequest) -> tuple[Member, ...]:
    """The members whose dependencies are installed: ``--package``, every member
    (``--all-packages``, or at a virtual workspace root), else the current project."""
    workspace = project.workspace
    if request.package is not None:
        return (workspace.find(request.package),)
    if request.all_packages or project.member is None:
        return workspace.members
    return (project.member,)


def _kept(
    project: Project, targets: Sequence[Member], request: SyncRequest
) -> set[str]:
    """What ``--no-install-project``, ``--no-install-workspace`` and
    ``--no-install-package`` leave alone (normalised names)."""
    from packaging.utils import canonicalize_name

    kept: set[str] = {canonicalize_name(name) for name in request.no_install_packages}
    if request.no_install_workspace:
        kept |= {member.normalized_name for member in project.workspace.members}
    if request.no_install_project:
        current = [project.member] if request.package is None and project.member else targets
        kept |= {member.normalized_name for member in current if member is not None}
    return kept


def _narrowing(
    project: Project,
    targets: Sequence[Member],
    extras: frozenset[str],
    groups: frozenset[str],
    *,
    only: bool,
) -> Narrowing:
    """Start from ``targets`` (with the chosen extras they define) and the chosen groups
    they define; or, with ``only``, from the groups alone. A workspace member's own
    requirements are read from its ``pyproject.toml``."""
    from packaging.requirements import Requirement

    from kiln.core.operations.locked_install import Narrowing

    workspace = project.workspace
    members = {member.normalized_name: member for member in workspace.members}
    roots: list[Requirement] = []
    projects = [member.pyproject for member in targets]
    if project.member is None and len(targets) == len(workspace.members):
        projects.append(workspace.pyproject)  # a virtual root's own groups
    for member in targets if not only else ():
        table = member.pyproject.project
        assert table is not None
        own = sorted(extras & set(table.optional_dependencies))
        if member.buildable:
            roots.append(Requirement(member.name + (f"[{','.join(own)}]" if own else "")))
        else:  # virtual: not in the lock, its requirements are
            roots += _requirements(member, own, marked=False)
    for pyproject in projects:
        for name, group in pyproject.dependency_groups.items():
            if name in groups:
                roots += group.requirements
    virtual = {name: member for name, member in members.items() if not member.buildable}

    def requires(package: LockedPackage) -> Sequence[Requirement] | None:
        member = members.get(package.name)
        if member is None or package.kind != "directory":
            return None
        table = member.pyproject.project
        assert table is not None
        return _through_virtual(
            _requirements(member, sorted(table.optional_dependencies)), virtual
        )

    return Narrowing(_through_virtual(roots, virtual), requires)


def _through_virtual(
    requirements: Sequence[Requirement],
    virtual: Mapping[NormalizedName, Member],
    seen: frozenset[NormalizedName] = frozenset(),
) -> list[Requirement]:
    """``requirements`` with each one on a virtual member (not in the lock, never
    installed) replaced by that member's own requirements and those of the extras asked
    of it, under the requirement's marker."""
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: list[Requirement] = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        member = virtual.get(name)
        if member is None or name in seen:
            found.append(requirement)
            continue
        table = member.pyproject.project
        assert table is not None
        asked = {canonicalize_name(extra) for extra in requirement.extras}
        own = sorted(e for e in table.optional_dependencies if canonicalize_name(e) in asked)
        inner = _requirements(member, own, marked=False)
        if requirement.marker is not None:
            outer = requirement.marker
            marked = []
            for each in inner:
                copy = Requirement(str(each))
                copy.marker = Marker(f"({copy.marker}) and ({outer})" if copy.marker else str(outer))
                marked.append(copy)
            inner = marked
        found += _through_virtual(inner, virtual, seen | {name})
    return found


def _requirements(
    member: Member, extras: Sequence[str], *, marked: bool = True
) -> list[Requirement]:
    """A member's dependencies and those of its ``extras`` (with ``marked``, each under
    ``extra == "..."``, for a walk that asks for them)."""
    from packaging.markers import Marker
    from packaging.requirements import Requirement

    table = member.pyproject.project
    assert table is not None
    found = list(table.dependencies)
    for extra in extras:
        for requirement in table.optional_dependencies.get(extra, ()):  # type: ignore[call-overload]
            if not marked:
                found.append(requirement)
                continue
            copy = Requirement(str(requirement))
            condition = f'extra == "{extra}"'
            copy.marker = Marker(f"({copy.marker}) and {condition}" if copy.marker else condition)
            found.append(copy)
    return found
