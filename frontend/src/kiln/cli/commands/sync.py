"""`kiln sync`: make the project environment match the workspace's `pylock.toml`.

The lock is brought up to date first (as `kiln lock` does, unless `--frozen`), then the
environment gets exactly what the lock selects for it. A sync with nothing to do is
recognised before the resolver or the installer is imported.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cli.ui import UI

if TYPE_CHECKING:
    from kiln.core.operations.projectenv import ProjectEnvironment
    from kiln.core.operations.syncing import FreshInstall, SyncRequest, SyncResult

NAME = "sync"
HELP = "make the project environment match the lock, locking first if needed"


def configure(parser: argparse.ArgumentParser) -> None:
    from kiln.cli.options import lock_options

    selection = parser.add_argument_group("what to install")
    selection.add_argument(
        "--extra", action="append", default=[], metavar="EXTRA",
        help="install the optional dependencies of EXTRA (repeatable)",
    )
    selection.add_argument(
        "--all-extras", action="store_true", help="install every extra's dependencies",
    )
    selection.add_argument(
        "--no-extra", action="append", default=[], metavar="EXTRA",
        help="with `--all-extras`, leave out EXTRA (repeatable)",
    )
    dev = selection.add_mutually_exclusive_group()
    dev.add_argument(
        "--dev", action="store_const", const=True, dest="dev", default=None,
        help="install the `dev` group (the default when it exists)",
    )
    dev.add_argument(
        "--no-dev", action="store_const", const=False, dest="dev",
        help="leave out the `dev` group",
    )
    dev.add_argument(
        "--only-dev", action="store_true",
        help="install the `dev` group only: not the project nor its dependencies",
    )
    selection.add_argument(
        "--group", action="append", default=[], metavar="GROUP",
        help="install the dependency group GROUP too (repeatable)",
    )
    selection.add_argument(
        "--no-group", action="append", default=[], metavar="GROUP",
        help="leave out the dependency group GROUP, even if it is a default (repeatable)",
    )
    selection.add_argument(
        "--only-group", action="append", default=[], metavar="GROUP",
        help="install only the dependency group GROUP: not the project nor its "
        "dependencies (repeatable)",
    )
    selection.add_argument(
        "--all-groups", action="store_true", help="install every dependency group",
    )
    selection.add_argument(
        "--no-default-groups", action="store_true",
        help="leave out the default groups (`default-groups` of the lock)",
    )
    packages = selection.add_mutually_exclusive_group()
    packages.add_argument(
        "--package", metavar="PACKAGE",
        help="sync for the workspace member PACKAGE: it and what it needs",
    )
    packages.add_argument(
        "--all-packages", action="store_true",
        help="sync for every workspace member (the default at a virtual workspace root)",
    )
    install = parser.add_argument_group("installation options")
    install.add_argument(
        "--no-install-project", action="store_true",
        help="do not install the current project (its dependencies are installed)",
    )
    install.add_argument(
        "--no-install-workspace", action="store_true",
        help="do not install any workspace member, the root project included",
    )
    install.add_argument(
        "--no-install-package", action="append", default=[], metavar="PACKAGE",
        help="do not install PACKAGE (repeatable)",
    )
    install.add_argument(
        "--no-install-local", action="store_true",
        help="do not install any package from a local directory or file: the project, the "
        "workspace members and path dependencies",
    )
    install.add_argument(
        "--no-editable", action="store_true",
        help="install the project, the workspace members and editable path dependencies "
        "as regular wheels",
    )
    install.add_argument(
        "--no-editable-package", action="append", default=[], metavar="PACKAGE",
        help="install the editable package PACKAGE as a regular wheel (repeatable)",
    )
    exact = install.add_mutually_exclusive_group()
    exact.add_argument(
        "--inexact", action="store_false", dest="exact", default=True,
        help="keep packages the lock does not select",
    )
    exact.add_argument(
        "--exact", action="store_true", dest="exact",
        help="remove packages the lock does not select (the default)",
    )
    install.add_argument(
        "--reinstall", action="store_true",
        help="reinstall every package, even when it is installed already",
    )
    install.add_argument(
        "--reinstall-package", action="append", default=[], metavar="PACKAGE",
        help="reinstall PACKAGE (repeatable)",
    )
    install.add_argument(
        "--compile-bytecode", action="store_true",
        help="compile installed Python files to bytecode",
    )
    install.add_argument(
        "--link-mode", choices=("hardlink", "copy"), default=None,
        help="how files are placed from the cache (default: `KILN_LINK_MODE`, else "
        "`hardlink`)",
    )
    check = parser.add_argument_group("checking the lock")
    how = check.add_mutually_exclusive_group()
    how.add_argument(
        "--locked", action="store_true",
        help="fail (exit 1) if `pylock.toml` is missing or would change, saying how",
    )
    how.add_argument(
        "--frozen", action="store_true",
        help="use `pylock.toml` as it is, without checking it against `pyproject.toml`",
    )
    parser.add_argument(
        "--dry-run", action="store_true",
        help="say what would change, without writing the lock or changing the environment",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="change nothing; fail (exit 1) if the environment is not in sync with the lock "
        "(or the lock with the project), saying what would change",
    )
    parser.add_argument(
        "--output-format", choices=("text", "json"), default="text",
        help="`json`: print a report of the sync as JSON on standard output",
    )
    target = parser.add_argument_group("environment")
    target.add_argument(
        "-p", "--python", metavar="PYTHON",
        help="the interpreter to make the project environment with (a path or a version)",
    )
    target.add_argument(
        "--python-platform", metavar="PLATFORM",
        help="install what the lock selects for this platform (e.g. `linux`, `macos`, "
        "`windows`): its markers and wheels, instead of the interpreter's",
    )
    target.add_argument(
        "--active", action="store_true",
        help="sync the active virtual environment (`VIRTUAL_ENV`) instead of the project's",
    )
    target.add_argument(
        "--script", type=Path, metavar="SCRIPT",
        help="sync the environment of the PEP 723 script SCRIPT (kept in the cache) instead "
        "of the project's, from its lock `pylock.<stem>.toml` when it has one",
    )
    lock_options(parser)


#: Options that choose among a project's members, extras and groups (a script has none).
_PROJECT_ONLY = (
    ("--package", "package"), ("--all-packages", "all_packages"), ("--extra", "extra"),
    ("--all-extras", "all_extras"), ("--no-extra", "no_extra"), ("--group", "group"),
    ("--no-group", "no_group"), ("--only-group", "only_group"), ("--all-groups", "all_groups"),
    ("--no-default-groups", "no_default_groups"), ("--only-dev", "only_dev"),
    ("--no-install-project", "no_install_project"),
    ("--no-install-workspace", "no_install_workspace"),
)


def run(args: argparse.Namespace, ui: UI) -> int:
    from kiln.cli.globalopts import project_dir
    from kiln.core.operations.locking import quick_check
    from kiln.core.operations.syncing import quick_sync

    project = project_dir(args)
    if args.script is not None:
        given = [flag for flag, name in _PROJECT_ONLY if getattr(args, name)]
        if args.dev is not None:
            given.insert(0, "--dev" if args.dev else "--no-dev")
        if given:
            ui.error(f"`--script` cannot be combined with `{given[0]}`",
                     hint="a script has no workspace members, extras or dependency groups")
            return 2
    if args.python_platform is not None:
        from kiln.core.resolver.environment import PLATFORM_NAMES

        if args.python_platform not in PLATFORM_NAMES:
            ui.error(f"unknown Python platform `{args.python_platform}`",
                     hint="choose one of: " + ", ".join(f"`{n}`" for n in PLATFORM_NAMES))
            return 2
    request = _request(args)
    reinstall = args.reinstall or bool(args.reinstall_package)
    current = None if args.frozen else quick_check(project, request.lock)
    # A check finds an environment in sync as a plain sync with nothing to do would.
    quick = request._replace(dry_run=False) if args.check else request
    fresh = None if args.check else _fresh_install(args)  # a check changes nothing
    result = quick_sync(
        project, quick, reinstall=reinstall, warn=ui.warning, note=ui.info, current=current,
        fresh=fresh,
    )
    if result is None:
        from kiln.cli.commands.lock import lock_settings
        from kiln.cli.commands.pip import _imports_done, _Progress, _relax_garbage_collector

        _relax_garbage_collector()
        # A current lock asks no index; files missing from the cache open a connection
        # when they are needed.
        settings = lock_settings(args, warm_up=current is None and not args.frozen)
        from kiln.core.operations.syncing import sync

        _imports_done()
        result = sync(project, request, settings, _Progress(ui).events(), current=current,
                      remember=fresh is not None)
    _report(ui, result, request)
    if args.output_format == "json":
        ui.data(_json_report(result, request, project))
    if args.check:
        return _check(ui, result)
    return 0


def _fresh_install(args: argparse.Namespace) -> FreshInstall | None:
    """How a new environment may be filled from a plan the cache remembers: not when the
    command line changes which files are chosen (``--no-binary``, ``--no-build``) or asks
    for them afresh (``--refresh``, ``--no-cache``)."""
    from kiln.cli.options import link_mode
    from kiln.core.operations.syncing import FreshInstall

    if (args.no_binary or args.no_binary_package or args.no_build or args.no_build_package
            or args.refresh or args.refresh_package or args.no_cache):
        return None
    return FreshInstall(link_mode=link_mode(args), compile_bytecode=args.compile_bytecode)


def _check(ui: UI, result: SyncResult) -> int:
    """`--check`: 1, saying why, when the sync would change the lock or the environment."""
    stale = []
    locked = result.lock
    if locked is not None and locked.changes:
        state = "does not exist" if locked.created else "is not up to date"
        stale.append(f"`{locked.path.name}` {state}")
    if result.environment.created:
        stale.append("the environment does not exist")
    report = result.report
    if report is not None and (report.installed or report.uninstalled):
        stale.append("the environment is not in sync with the lock")
    if not stale:
        return 0
    ui.error("; ".join(stale), hint="run `kiln sync` to update them" if len(stale) > 1
             else "run `kiln sync` to update it")
    return 1


def _request(args: argparse.Namespace) -> SyncRequest:
    from kiln.cli.commands.lock import lock_request
    from kiln.core.lockfile.selection import GroupChoice
    from kiln.core.operations.locking import Mode
    from kiln.core.operations.syncing import SyncRequest

    dry_run = args.dry_run or args.check
    mode: Mode = "check" if args.locked else "dry-run" if dry_run else "write"
    return SyncRequest(
        lock=lock_request(args, mode),
        frozen=args.frozen,
        extras=tuple(args.extra),
        all_extras=args.all_extras,
        no_extras=tuple(args.no_extra),
        groups=GroupChoice(
            groups=tuple(args.group),
            no_groups=tuple(args.no_group),
            only_groups=tuple(args.only_group),
            all_groups=args.all_groups,
            no_default_groups=args.no_default_groups,
            dev=args.dev,
            only_dev=args.only_dev,
        ),
        package=args.package,
        all_packages=args.all_packages,
        no_install_project=args.no_install_project,
        no_install_workspace=args.no_install_workspace,
        no_install_packages=tuple(args.no_install_package),
        no_install_local=args.no_install_local,
        editable=not args.no_editable,
        no_editable_packages=tuple(args.no_editable_package),
        python_platform=args.python_platform,
        exact=args.exact,
        dry_run=dry_run,
        python=args.python,
        active=args.active,
    )


def _report(ui: UI, result: SyncResult, request: SyncRequest) -> None:
    from kiln.cli.ui import elapsed, packages

    locked = result.lock
    if locked is not None:
        for warning in locked.warnings:
            ui.warning(warning)
        ui.info(f"Resolved {packages(locked.packages)} in {elapsed(locked.seconds)}")
        if locked.changes and request.dry_run:
            ui.info(f"Would update `{locked.path.name}`:")
            for line in locked.changes:
                ui.info(f"  {line}")
    report = result.report
    if report is None:
        ui.info(f"Audited {packages(result.audited or 0)} in {elapsed(0)}")
        return
    if result.restored:
        ui.debug("The new environment is made again as an earlier sync of this lock made it "
                 "here, by links (the snapshot kept in the cache's `sync-snapshots-v1`)")
    elif result.remembered:
        ui.debug("The new environment gets the packages an earlier sync of this lock installed "
                 "(the plan kept in the cache's `sync-plans-v1`)")
    from kiln.cli.commands.pip import _print_changes, _print_report

    if not request.dry_run:
        _print_report(ui, report, resolved=False)
        return
    if report.uninstalled:
        ui.info(f"Would uninstall {packages(len(report.uninstalled))}")
    if report.installed:
        ui.info(f"Would install {packages(len(report.installed))}")
    if not report.installed and not report.uninstalled:
        ui.info(f"Would make no changes ({packages(report.resolved)} installed already)")
    _print_changes(ui, report)


def _json_report(result: SyncResult, request: SyncRequest, project: Path) -> str:
    """`--output-format json`: what the sync did (or, with `--dry-run`/`--check`, would
    do), shaped as uv's report (see docs/src/commands/sync.md)."""
    import json

    from kiln.core.operations.locking import target_project

    target = target_project(project, request.lock)
    workspace = target.workspace
    environment = result.environment
    env = environment.env
    python = env.python
    if env.prefix != environment.path:  # a dry run's stand-in for the environment to make
        try:
            python = environment.path / python.relative_to(env.prefix)
        except ValueError:
            python = environment.path / "bin" / "python"
    report = result.report
    changes = report.changes if report is not None else []
    data: dict[str, object] = {"schema": {"version": "preview"}}
    script = request.lock.script
    if script is not None:
        data["target"] = "script"
        data["script"] = {"path": str(script.absolute())}
    else:
        member = target.member
        data["target"] = "project"
        data["project"] = {
            "path": str(member.path if member is not None else workspace.root),
            "workspace": {"path": str(workspace.root)},
        }
    data["sync"] = {
        "environment": {
            "path": str(environment.path),
            "python": {
                "path": str(python),
                "version": env.interpreter.version_string,
                "implementation": env.interpreter.implementation.lower(),
            },
        },
        "action": _environment_action(environment, request.dry_run),
        "changes": [
            {"name": change.name, **({"version": change.version} if change.version else {}),
             "action": action}
            for action, change in changes
        ],
    }
    locked = result.lock
    lock: dict[str, object] | None = None
    if request.frozen:
        lock = {"path": str(workspace.lockfile), "action": "use"}
    elif locked is not None and (script is None or locked.path.is_file()):
        action = "create" if locked.created else "update" if locked.changes else "check"
        lock = {"path": str(locked.path), "action": action}
    data["lock"] = lock
    data["dry_run"] = request.dry_run
    return json.dumps(data, indent=2)


def _environment_action(environment: ProjectEnvironment, dry_run: bool) -> str:
    """uv's name for what became of the environment: `check` (used as it was), `create`,
    and for one made anew `replace` (a dry run) or `update`."""
    if not environment.created:
        return "check"
    if environment.replaced:
        return "replace" if dry_run else "update"
    return "create"
