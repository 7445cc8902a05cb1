"""`kiln venv`: create a virtual environment."""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cli.ui import UI

if TYPE_CHECKING:
    from kiln.core.install.environment import Environment
    from kiln.core.venv import Seeder

NAME = "venv"
HELP = "create a virtual environment"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default=".venv", metavar="PATH",
        help="where to create the environment (default: `.venv`)",
    )
    parser.add_argument(
        "-p", "--python", metavar="PYTHON",
        help="interpreter to use: a version (`3.12`), a name on PATH, or a path",
    )
    parser.add_argument(
        "--seed", action="store_true",
        help="install pip (and setuptools and wheel before Python 3.12) into the environment, "
        "from the indexes",
    )
    parser.add_argument(
        "--prompt", metavar="PROMPT",
        help="prompt shown while the environment is active (`.` for the current directory name)",
    )
    parser.add_argument(
        "-c", "--clear", action="store_true",
        help="replace an existing virtual environment at PATH",
    )
    parser.add_argument(
        "--allow-existing", action="store_true",
        help="write the environment into an existing directory, keeping its other files "
        "(wins over `--clear`)",
    )
    parser.add_argument(
        "--relocatable", action="store_true",
        help="let activation scripts and launchers find the environment from their own "
        "location, so that it can be moved",
    )
    parser.add_argument(
        "--system-site-packages", action="store_true",
        help="give the environment access to the base interpreter's site-packages",
    )
    parser.add_argument(
        "--link-mode", choices=("hardlink", "copy"), default=None,
        help="how seed packages are placed from the cache "
        "(default: `KILN_LINK_MODE`, else `hardlink`)",
    )
    from kiln.cli.options import exclude_newer
    from kiln.cli.options import index_options as _index_options
    from kiln.cli.options import package_options as _package_options

    parser.add_argument(
        "--exclude-newer", type=exclude_newer, default=None, metavar="DATE",
        help="with `--seed`: leave out seed packages uploaded after DATE (`2024-05-01` or "
        "`2024-05-01T12:00:00Z`)",
    )

    _index_options(parser, resolving=False)
    _package_options(parser, universal=False, sources=False)


def run(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.interpreter import find_interpreter
    from kiln.core.venv import create_venv

    interpreter = find_interpreter(args.python)
    ui.info(
        f"Using {interpreter.implementation_display} {interpreter.version_string} "
        f"interpreter at: {interpreter.base_executable}"
    )
    shown = _display(Path(args.path))
    what = "virtual environment with seed packages" if args.seed else "virtual environment"
    ui.info(f"Creating {what} at: {shown}")
    result = create_venv(
        args.path,
        interpreter,
        prompt=args.prompt,
        seed=_seeder(args, ui) if args.seed else None,
        clear=args.clear,
        allow_existing=args.allow_existing,
        system_site_packages=args.system_site_packages,
        relocatable=args.relocatable,
    )
    for item in result.seeded:
        ui.info(f" + {item}")
    scripts = _display(result.env.scheme.scripts)
    ui.info(f"Activate with: {_activate_command(scripts)}")
    return 0


def _seeder(args: argparse.Namespace, ui: UI) -> Seeder:
    """Installs the seed packages with the index options of the command line."""
    from kiln.cli.commands.pip import _Progress, _settings, _warm_up

    _warm_up(args)

    def seed(env: Environment) -> Sequence[str]:
        from kiln.core.operations.seeding import seed

        report = seed(env, _settings(args), _Progress(ui).events())
        return [f"{c.name}=={c.version}" for c in sorted(report.installed, key=lambda c: c.name)]

    return seed


def _display(path: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _activate_command(scripts: str) -> str:
    if os.name == "nt":
        return str(Path(scripts) / "python.exe")
    shell = Path(os.environ.get("SHELL", "")).name
    suffix = {"fish": ".fish", "csh": ".csh", "tcsh": ".csh"}.get(shell, "")
    return "source " + shlex.quote(f"{scripts}/activate{suffix}")
