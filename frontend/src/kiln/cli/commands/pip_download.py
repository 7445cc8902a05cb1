"""`kiln pip download` and `kiln pip wheel`: the files of requirements, saved into a directory.

Registered by :mod:`kiln.cli.commands.pip` (``configure``, ``HANDLERS``); the work is
:mod:`kiln.core.operations.downloading`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from kiln.cli.ui import UI, elapsed
from kiln.cli.ui import packages as _packages


def configure(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Add `download` and `wheel` with ``command(name, help)``, which makes a subparser."""
    from kiln.cli.options import index_options, resolution_options

    download = command(
        "download", "resolve requirements and save their files (wheels or sdists) to a directory"
    )
    download.add_argument(
        "-d", "--dest", "--destination-dir", dest="dest", metavar="DIR", default=".",
        help="where to save the files (default: the working directory)",
    )
    wheel = command("wheel", "build or download wheels of requirements into a directory")
    wheel.add_argument(
        "-w", "--wheel-dir", dest="dest", metavar="DIR", default=".",
        help="where to save the wheels (default: the working directory)",
    )
    for parser in (download, wheel):
        parser.add_argument("packages", nargs="*", metavar="PACKAGE",
                            help="requirements: `name`, `name>=1`, `name @ url`, a path or a URL")
        parser.add_argument("-r", "--requirements", "--requirement", dest="requirements",
                            action="append", default=[], metavar="FILE",
                            help="the requirements of FILE (repeatable)")
        parser.add_argument("-c", "--constraints", "--constraint", dest="constraints",
                            action="append", default=[], metavar="FILE",
                            help="constrain versions with the requirements of FILE (repeatable)")
        parser.add_argument("--no-deps", action="store_true",
                            help="save the requirements only, not their dependencies")
        parser.add_argument("--require-hashes", action="store_true",
                            help="require a matching `--hash` for every package (implied when "
                            "any is given)")
        target = parser.add_argument_group("target")
        target.add_argument("-p", "--python", metavar="PYTHON",
                            help="resolve for this interpreter (a path, a virtual environment "
                            "or a version such as `3.9`; default: kiln's own)")
        target.add_argument("--python-version", metavar="VERSION",
                            help="resolve for this Python version (e.g. `3.12`)")
        target.add_argument("--python-platform", metavar="PLATFORM",
                            help="resolve for this platform (e.g. `linux`, `macos`, "
                            "`windows`)")
        resolution_options(target)
        index_options(parser, torch=True)


def run(args: argparse.Namespace, ui: UI) -> int:
    """`kiln pip download` or `kiln pip wheel`, by ``args.pip_command``."""
    from kiln.cli.commands.pip import (
        _imports_done,
        _inputs,
        _Progress,
        _settings,
        _warm_up,
    )

    if args.python is not None and (args.python_version or args.python_platform):
        ui.error("`--python` cannot be combined with `--python-version` or `--python-platform`",
                 "`--python` resolves for that interpreter's own version and platform")
        return 2
    inputs = _inputs(args.packages, args.requirements, (), args.constraints,
                     no_sources=args.no_sources)
    if not inputs.requirements:
        ui.error("no requirements given", "name packages, or pass `-r requirements.txt`")
        return 2
    _warm_up(args)

    from kiln.core.operations.downloading import build_wheels, download
    from kiln.core.resolver.environment import TargetEnvironment
    _imports_done()

    if args.python is not None:
        from kiln.core.interpreter import find_interpreter
        from kiln.core.operations.environment import interpreter_target

        target = interpreter_target(find_interpreter(args.python))
    else:
        target = TargetEnvironment.for_target(args.python_version, args.python_platform)
    settings = _settings(args)
    save = build_wheels if args.pip_command == "wheel" else download
    report = save(inputs, settings, target, Path(args.dest).absolute(), _Progress(ui).events())
    resolution = report.resolution
    if resolution is not None:
        for warning in resolution.warnings:
            ui.warning(warning)
        ui.info(f"Resolved {_packages(len(resolution.packages))} in "
                f"{elapsed(report.resolve_seconds)}")
    what = "Saved" if args.pip_command == "download" else "Saved wheels of"
    ui.info(f"{what} {_packages(len(report.saved))} in {elapsed(report.save_seconds)}")
    for path in report.saved:
        ui.data(_shown(path))
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
