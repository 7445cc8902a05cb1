"""`kiln build`: build sdists and wheels of a project, a workspace member, or an sdist."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cli.ui import UI

if TYPE_CHECKING:
    from kiln.core.builder.service import Builder, Source
    from kiln.core.operations.options import Settings
    from kiln.errors import KilnError

NAME = "build"
HELP = "build source distributions and wheels"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "src",
        nargs="?",
        metavar="SRC",
        help="project directory (default: the working directory) or a source distribution (`.tar.gz`)",
    )
    parser.add_argument("--sdist", action="store_true", help="build a source distribution")
    parser.add_argument(
        "--wheel",
        action="store_true",
        help="build a wheel (with `--sdist`: both from the source tree)",
    )
    parser.add_argument(
        "-o",
        "--out-dir",
        metavar="DIR",
        help="where to write the built files (default: `<project>/dist`)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--package", metavar="NAME", help="build one workspace member")
    which.add_argument(
        "--all-packages",
        "--all",
        action="store_true",
        help="build every buildable workspace member",
    )
    parser.add_argument(
        "-C",
        "--config-setting",
        "--config-settings",
        dest="config_setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="pass a setting to the build backend (repeatable; repeated keys make a list)",
    )
    parser.add_argument(
        "-b",
        "--build-constraint",
        "--build-constraints",
        dest="build_constraint",
        metavar="FILE",
        help="constraints file for the build requirements (added to `build-constraint-dependencies`)",
    )
    parser.add_argument(
        "--no-sources",
        action="store_true",
        help="ignore `[tool.kiln.sources]` for build requirements: take each as written",
    )
    parser.add_argument(
        "--no-sources-package",
        dest="no_sources_package",
        action="append",
        default=[],
        metavar="NAME",
        help="ignore the sources of package NAME for build requirements (repeatable)",
    )
    parser.add_argument(
        "--no-build-isolation",
        action="store_true",
        help="run the backend in the active environment, installing nothing",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print the files the sdist and the wheel would contain, writing nothing",
    )
    parser.add_argument("--clear", action="store_true", help="empty the output directory first")
    parser.add_argument(
        "--refresh", action="store_true", help="recreate the cached build environments used"
    )
    _environment_options(parser)


def _environment_options(parser: argparse.ArgumentParser) -> None:
    """How build environments are made: the interpreter, the indexes, the resolution."""
    from kiln.cli.options import (
        binary_options,
        index_options,
        package_options,
        prerelease_options,
        resolution_options,
    )

    parser.add_argument(
        "-p", "--python", metavar="PYTHON",
        help="build with this interpreter (a version such as `3.9`, a name on `PATH` or a "
        "path): build environments are made for it and the backend runs on it",
    )
    parser.add_argument(
        "--no-build-logs", action="store_true",
        help="never show the build backend's output, not even with `-v` (a failure still does)",
    )
    parser.add_argument(
        "--no-create-gitignore", action="store_true",
        help="do not write a `.gitignore` (`*`) into an output directory that has none",
    )
    index_options(parser, resolving=False, refresh=False)
    group = parser.add_argument_group("build environment options")
    prerelease_options(group, "build requirements")
    resolution_options(group)
    group.add_argument(
        "-U", "--upgrade", action="store_true",
        help="make the cached build environments used again, with the newest versions allowed",
    )
    group.add_argument(
        "-P", "--upgrade-package", action="append", default=[], metavar="PACKAGE",
        help="make the cached build environments holding PACKAGE again (repeatable)",
    )
    group.add_argument(
        "--link-mode", choices=("hardlink", "copy"), default=None,
        help="how files are placed into build environments from the cache "
        "(default: `KILN_LINK_MODE`, else `hardlink`)",
    )
    group.add_argument(
        "--require-hashes", action="store_true",
        help="require a matching `--hash` from the `--build-constraint` file for every build "
        "requirement",
    )
    binary_options(parser, pip=False, backend=False)
    package_options(parser, sources=False)


class _Reporter:
    def __init__(self, ui: UI, prefix: str = "", *, logs: bool = True) -> None:
        self.ui = ui
        self.prefix = prefix
        self.logs = logs

    def progress(self, message: str) -> None:
        self.ui.info(self.prefix + message)

    def debug(self, message: str) -> None:
        self.ui.debug(self.prefix + message)

    def backend_line(self, line: str) -> None:
        if self.logs and self.ui.verbosity > 0:
            print(self.prefix + line, file=self.ui.err)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _report_error(ui: UI, error: KilnError, prefix: str = "") -> None:
    from kiln.core.builder.errors import BackendError

    if isinstance(error, BackendError) and ui.verbosity <= 0:
        for line in error.output:
            print(prefix + line, file=ui.err)
    ui.error(error.message, error.hint)


def _show_output_on_failure(ui: UI, action: Callable[[], None]) -> None:
    """Run ``action``; a backend failure first shows the captured backend output."""
    from kiln.core.builder.errors import BackendError

    try:
        action()
    except BackendError as exc:
        if ui.verbosity <= 0:
            for line in exc.output:
                print(line, file=ui.err)
        raise


def _build_one(
    builder: Builder, source: Source, out_dir: Path, args: argparse.Namespace, ui: UI
) -> None:
    from kiln.core.builder.service import prepare_out_dir

    if args.list:
        for label, members in builder.list_files(source):
            ui.data(f"{label}:")
            for member in members:
                ui.data(f"  {member}")
        return
    prepare_out_dir(out_dir, clear=args.clear, protect=source.path)
    for path in builder.build(source, out_dir):
        ui.data(_shown(path))


def _interpreter(python: str | None) -> str | None:
    """The executable of ``--python``."""
    if python is None:
        return None
    from kiln.core.interpreter import find_interpreter

    return str(find_interpreter(python).executable)


def _settings(args: argparse.Namespace) -> Settings:
    """The index and resolution settings of the build environments."""
    from kiln.cli.commands.pip import _settings as pip_settings

    return pip_settings(args).replace(upgrade=False, upgrade_packages=frozenset())


def run(args: argparse.Namespace, ui: UI) -> int:
    from kiln.cli.globalopts import project_dir
    from kiln.core.builder.configsettings import parse_config_settings
    from kiln.core.builder.service import BuildOptions, default_out_dir, resolve_source
    from kiln.core.operations.buildenvs import open_builder
    from kiln.errors import KilnError

    constraints = None
    if args.build_constraint:
        constraints = Path(args.build_constraint).absolute()
        if not constraints.is_file():
            raise KilnError(f"build constraints file `{args.build_constraint}` does not exist")
    options = BuildOptions(
        sdist=args.sdist,
        wheel=args.wheel,
        config_settings=parse_config_settings(args.config_setting),
        constraints=constraints,
        isolation=not args.no_build_isolation,
        use_cache=not args.no_cache,
        refresh=args.refresh or args.upgrade,
        no_sources=args.no_sources,
        no_sources_packages=tuple(args.no_sources_package),
        python=_interpreter(args.python),
        offline=args.offline,
        upgrade_packages=frozenset(args.upgrade_package),
        create_gitignore=not args.no_create_gitignore,
        require_hashes=args.require_build_hashes,
    )
    settings = _settings(args)
    logs = not args.no_build_logs
    source = resolve_source(Path(args.src) if args.src else project_dir(args))
    out_dir = Path(args.out_dir).absolute() if args.out_dir else None
    if not (args.package or args.all_packages):
        with open_builder(options, _Reporter(ui, logs=logs), settings) as builder:
            _show_output_on_failure(
                ui,
                lambda: _build_one(builder, source, out_dir or default_out_dir(source), args, ui),
            )
        return 0

    from kiln.project.workspace import select_members

    if source.is_sdist:
        flag = "--package" if args.package else "--all-packages"
        raise KilnError(f"cannot use `{flag}` when building from a file")
    selection = select_members(source.path, args.package)
    out_dir = out_dir or selection.workspace.root / "dist"
    if args.package:
        (member,) = selection.members
        with open_builder(options, _Reporter(ui, logs=logs), settings) as builder:
            _show_output_on_failure(
                ui, lambda: _build_one(builder, resolve_source(member.path), out_dir, args, ui)
            )
        return 0

    from kiln.core.builder.service import prepare_out_dir

    if args.clear and not args.list:
        prepare_out_dir(out_dir, clear=True, protect=selection.workspace.root)
    member_args = argparse.Namespace(**{**vars(args), "clear": False})
    failures: list[tuple[str, KilnError]] = []
    reporter = _Reporter(ui, logs=logs)
    with open_builder(options, reporter, settings) as builder:
        for member in selection.members:
            reporter.prefix = f"[{member.name}] "
            try:
                _build_one(builder, resolve_source(member.path), out_dir, member_args, ui)
            except KilnError as exc:
                failures.append((reporter.prefix, exc))
    for prefix, error in failures:
        _report_error(ui, error, prefix)
    return 1 if failures else 0
