"""`kiln venv`: create a virtual environment."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from kiln.cli.ui import UI

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
        help="install pip into the environment",
    )
    parser.add_argument(
        "--prompt", metavar="PROMPT",
        help="prompt shown while the environment is active (`.` for the current directory name)",
    )
    parser.add_argument(
        "--clear", action="store_true",
        help="replace an existing virtual environment at PATH",
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


def run(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.install.linking import choose_link_mode
    from kiln.core.interpreter import find_interpreter
    from kiln.core.venv import create_venv

    link_mode = choose_link_mode(args.link_mode, os.environ)
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
        seed=args.seed,
        clear=args.clear,
        system_site_packages=args.system_site_packages,
        link_mode=link_mode,
    )
    for item in result.seeded:
        ui.info(f" + {item}")
    scripts = _display(result.env.scheme.scripts)
    ui.info(f"Activate with: {_activate_command(scripts)}")
    return 0


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
