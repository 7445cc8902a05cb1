"""Option groups shared by the commands that find and resolve packages (`kiln pip`,
`kiln lock`, `kiln venv`). Kept light: parsing a command line imports no core module."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

PRERELEASE_MODES = ("if-necessary", "allow", "disallow", "explicit")
STRATEGIES = ("first-index", "unsafe-first-match", "unsafe-best-match")
#: The values of `--resolution` (``kiln.core.operations.options.RESOLUTION_MODES``; kept
#: here as text so that parsing the command line imports no core module).
RESOLUTION_MODES = ("highest", "lowest", "lowest-direct")


def resolution_options(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """`--resolution` and `--exclude-newer`."""
    group.add_argument(
        "--resolution", choices=RESOLUTION_MODES, default="highest",
        help="which versions to prefer: the `highest` (default), the `lowest`, or the "
        "lowest of direct dependencies and the highest of the others (`lowest-direct`)",
    )
    group.add_argument(
        "--exclude-newer", type=exclude_newer, default=None, metavar="DATE",
        help="leave out files uploaded after DATE (`2024-05-01`, the start of that day in "
        "UTC, or `2024-05-01T12:00:00Z`)",
    )


def exclude_newer(text: str) -> datetime:
    """``--exclude-newer``: an RFC 3339 date-time, or a date (its start, in UTC)."""
    from kiln.core.timestamps import parse_timestamp

    value = text.strip()
    try:
        return parse_timestamp(value + ("T00:00:00Z" if len(value) == 10 else ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"`{text}` is not a date (`2024-05-01`) or a date-time (`2024-05-01T12:00:00Z`)"
        ) from None


def index_options(
    parser: argparse.ArgumentParser,
    *,
    resolving: bool = True,
    refresh: bool = True,
    torch: bool = False,
) -> None:
    """The index options of `install`, `compile`, `sync` and `kiln lock`; without
    ``resolving`` (for `list`, `tree` and `kiln venv`) `--no-sources` and `--prerelease` are
    left out, without ``refresh``, `--refresh`; ``torch`` adds `--torch-backend` (`kiln pip`
    only, as in uv)."""
    group = parser.add_argument_group("index options")
    if resolving:
        group.add_argument(
            "--no-sources", action="store_true",
            help="ignore `[tool.kiln.sources]` when reading a `pyproject.toml`: take every "
            "dependency from the indexes as written",
        )
    group.add_argument(
        "--index", action="append", default=[], metavar="[NAME=]URL",
        help="an index to search before the default index (repeatable; earlier wins)",
    )
    group.add_argument(
        "--default-index", metavar="URL", help="the default index, instead of PyPI",
    )
    group.add_argument(
        "-i", "--index-url", metavar="URL",
        help="the default index (legacy name of `--default-index`)",
    )
    group.add_argument(
        "--extra-index-url", action="append", default=[], metavar="URL",
        help="an extra index searched before the default index (repeatable)",
    )
    group.add_argument(
        "-f", "--find-links", action="append", default=[], metavar="LOCATION",
        help="a directory or HTML page of distribution files (repeatable)",
    )
    group.add_argument(
        "--no-index", action="store_true",
        help="use no package index: only `--find-links` and direct references",
    )
    group.add_argument(
        "--index-strategy", choices=STRATEGIES, default=None,
        help="how to pick versions across indexes (default: `first-index`)",
    )
    if torch:
        group.add_argument(
            "--torch-backend", type=torch_backend, default=None, metavar="BACKEND",
            help="take the PyTorch packages (`torch`, `torchvision`, ...) from the PyTorch "
            "index of BACKEND only: `cpu`, `cu126`, `rocm6.4`, `xpu`, ..., or `auto` to "
            "choose from the machine's GPU driver (default: `KILN_TORCH_BACKEND`, else none)",
        )
    if resolving:
        group.add_argument(
            "--prerelease", choices=PRERELEASE_MODES, default="if-necessary",
            help="when pre-release versions may be chosen (default: `if-necessary`)",
        )
    if refresh:
        group.add_argument(
            "--refresh", action="store_true",
            help="revalidate every cached index page and file",
        )


def torch_backend(text: str) -> str:
    """``--torch-backend``: one of the PyTorch index names kiln knows."""
    from kiln.core.index.torch import MODES

    if text not in MODES:
        raise argparse.ArgumentTypeError(
            f"unknown PyTorch backend `{text}`; use one of: " + ", ".join(MODES)
        )
    return text
