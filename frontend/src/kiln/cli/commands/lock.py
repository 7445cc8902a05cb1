"""`kiln lock`: write the workspace's `pylock.toml` (PEP 751).

A lock that is already current is recognised from the stamps it keeps, before anything
heavy is imported: :func:`run` imports the resolver only when the stamps do not decide.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cli.ui import UI

if TYPE_CHECKING:
    from kiln.core.operations.locking import LockRequest, LockResult, Mode
    from kiln.core.operations.options import Settings

NAME = "lock"
HELP = "resolve the project's dependencies into `pylock.toml`"


#: The options that change what a resolution gives (their values are stamped in the lock).
RESOLUTION_OPTIONS = (
    "resolution", "prerelease", "exclude_newer", "index", "default_index", "index_url",
    "extra_index_url", "find_links", "no_index", "index_strategy",
    "no_binary", "no_binary_package", "no_build", "no_build_package", "exclude_newer_package",
    "no_sources_package", "fork_strategy", "prerelease_package",
)


def configure(parser: argparse.ArgumentParser) -> None:
    from kiln.cli.options import lock_options

    check = parser.add_argument_group("checking the lock")
    how = check.add_mutually_exclusive_group()
    how.add_argument(
        "--check", "--locked", dest="check", action="store_true",
        help="change nothing; fail (exit 1) if `pylock.toml` would change, saying how",
    )
    how.add_argument(
        "--frozen", "--check-exists", dest="frozen", action="store_true",
        help="use `pylock.toml` as it is: only check that it exists (uv's `--check-exists`)",
    )
    how.add_argument(
        "--dry-run", action="store_true",
        help="say how `pylock.toml` would change, without writing it",
    )
    parser.add_argument(
        "--script", type=Path, metavar="SCRIPT",
        help="lock the PEP 723 script SCRIPT instead of the project, into "
        "`pylock.<stem>.toml` beside it",
    )
    lock_options(parser)


def run(args: argparse.Namespace, ui: UI) -> int:
    from kiln.cli.globalopts import project_dir
    from kiln.core.operations.locking import quick_check

    project = project_dir(args)
    mode: Mode = "check" if args.check else "dry-run" if args.dry_run else "write"
    request = lock_request(args, mode)
    if args.frozen:
        return _frozen(ui, project, request)
    result = quick_check(project, request)
    if result is None:
        from kiln.cli.commands.pip import _imports_done, _Progress, _relax_garbage_collector

        _relax_garbage_collector()
        settings = lock_settings(args)
        from kiln.core.operations.locking import lock

        _imports_done()
        result = lock(project, request, settings, _Progress(ui).events())
    _report(ui, result, request, result.path.name)
    return 0


def lock_settings(args: argparse.Namespace, *, warm_up: bool = True) -> Settings:
    """The index and resolution settings of the lock options (see
    :func:`kiln.cli.options.lock_options`); with ``warm_up``, starts loading TLS
    certificates."""
    from kiln.cli.commands.pip import _settings, _warm_up

    if warm_up:
        _warm_up(args)
    return _settings(args)


def _frozen(ui: UI, project: Path, request: LockRequest) -> int:
    from kiln.core.operations.locking import target_project
    from kiln.errors import KilnError

    path = target_project(project, request).workspace.lockfile
    if not path.is_file():
        again = f" --script {request.script}" if request.script is not None else ""
        raise KilnError(f"`--frozen` was given, but `{path}` does not exist",
                        hint=f"run `kiln lock{again}` to create it")
    ui.info(f"`--frozen`: `{path.name}` is used as it is; nothing to do")
    return 0


def lock_request(args: argparse.Namespace, mode: Mode) -> LockRequest:
    """The request of the lock options (:func:`kiln.cli.options.lock_options`)."""
    from kiln.core.operations.locking import LockRequest

    options = []
    for name in RESOLUTION_OPTIONS:
        value = getattr(args, name)
        if name == "exclude_newer" and value is not None:
            value = value.key  # a span stays the same from one run to the next
        options.append((name, tuple(value) if isinstance(value, list) else value))
    return LockRequest(
        mode=mode,
        no_sources=args.no_sources,
        no_sources_packages=tuple(args.no_sources_package),
        upgrade=args.upgrade,
        upgrade_packages=tuple(args.upgrade_package),
        upgrade_groups=tuple(args.upgrade_group),
        options=tuple(options),
        config_file=args.config_file,
        no_config=args.no_config,
        script=args.script,
    )


def _report(ui: UI, result: LockResult, request: LockRequest, name: str) -> None:
    from kiln.cli.ui import elapsed, packages

    for warning in result.warnings:
        ui.warning(warning)
    ui.info(f"Resolved {packages(result.packages)} in {elapsed(result.seconds)}")
    if not result.changes:
        if request.mode != "write":
            ui.info(f"`{name}` is up to date")
        return
    if request.mode == "dry-run":
        ui.info(f"Would update `{name}`:")
    else:
        ui.info(f"Updated `{name}`:")
    for line in result.changes:
        ui.info(f"  {line}")
