"""`kiln completion SHELL`: print a shell completion script for kiln."""

from __future__ import annotations

import argparse

from kiln.cli.ui import UI

NAME = "completion"
HELP = "print a shell completion script (bash, zsh or fish)"

_SHELLS = ("bash", "zsh", "fish")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "shell", choices=_SHELLS, metavar="SHELL",
        help="the shell to complete for: `bash`, `zsh` or `fish`",
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    from kiln.cli.completion_scripts import render
    from kiln.cli.main import build_parser

    ui.data(render(args.shell, build_parser()).rstrip("\n"))
    return 0
