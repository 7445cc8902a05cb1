"""`kiln cache`: show where the cache is, clean it, or prune leftovers."""

from __future__ import annotations

import argparse

from kiln.cli.ui import UI

NAME = "cache"
HELP = "manage kiln's cache"


def configure(parser: argparse.ArgumentParser) -> None:
    from kiln.cli.globalopts import add_global_options

    sub = parser.add_subparsers(dest="cache_command", metavar="COMMAND")
    for name, text in (
        ("dir", "print the cache directory"),
        ("clean", "remove the whole cache, or the entries of the named packages"),
        ("prune", "remove temporary leftovers and unfinished build environments"),
    ):
        child = sub.add_parser(name, help=text, description=text)
        add_global_options(child, suppress=True)
        if name == "clean":
            child.add_argument("packages", nargs="*", metavar="PACKAGE",
                               help="only remove the cache entries of these packages")
        if name == "prune":
            child.add_argument("--ci", action="store_true",
                               help="also remove downloaded and unpacked wheels, which a CI "
                               "cache need not keep (sdists, build environments and git "
                               "mirrors stay)")


def run(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.cachedir import cache_root
    from kiln.core.operations.cache import clean_all, clean_packages, human_size, prune

    root = cache_root()
    command = args.cache_command
    if command == "dir":
        ui.data(str(root))
        return 0
    if command == "clean":
        if args.packages:
            report = clean_packages(root, args.packages)
        else:
            ui.info(f"Clearing cache at: {root}")
            report = clean_all(root)
    elif command == "prune":
        ui.info(f"Pruning cache at: {root}")
        report = prune(root, ci=args.ci)
    else:
        ui.error("missing `kiln cache` command", "choose one of: `dir`, `clean`, `prune`")
        return 2
    if report.files:
        noun = "file" if report.files == 1 else "files"
        ui.info(f"Removed {report.files} {noun} ({human_size(report.bytes)})")
    else:
        ui.info("No cache entries found")
    return 0
