"""The global options: defined here once, accepted before and after the command name.

uv takes `-q`, `--offline`, `--config-file`, ... anywhere on its command line, and so does
kiln: the top-level parser and every (sub)command's parser get the same options from
:func:`add_global_options`. argparse parses a subcommand into a namespace of its own and
copies that over the top level's, so a subcommand's copy of an option stores under a name of
its own (``verbose@kiln pip install``), and :func:`merge_global_options` folds the values
into one: counts (`-v`, `-q`) add up, repeated options (`--allow-insecure-host`) collect, and
for the others the value nearest the end of the command line wins.

What the options do to the whole process (the cache directory, the trusted certificates,
the working directory) is applied in :mod:`kiln.cli.main`; the commands read the others
(`--offline`, `--config-file`, `--no-config`, `--project`) from ``args``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

#: The title of the group; the docs test finds global options by it.
GROUP_TITLE = "global options"
#: Global options that take a value (the command's name is the first word after them).
VALUE_OPTIONS = frozenset(
    {"--directory", "--project", "--cache-dir", "--config-file", "--color",
     "--allow-insecure-host"}
)
_COUNTS = frozenset({"quiet", "verbose"})
_LISTS = frozenset({"allow_insecure_host"})


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """The global options, on the top-level parser or (``suppress``) on a command's."""
    level = f"@{parser.prog}" if suppress else ""
    group = parser.add_argument_group(GROUP_TITLE)

    def add(*flags: str, dest: str, default: Any, **kwargs: Any) -> None:
        group.add_argument(
            *flags, dest=dest + level, default=argparse.SUPPRESS if suppress else default,
            **kwargs,
        )

    add("-q", "--quiet", dest="quiet", action="count", default=0,
        help="print less (diagnostics are still shown for errors)")
    add("-v", "--verbose", dest="verbose", action="count", default=0,
        help="print more, e.g. the output of build backends")
    add("--directory", dest="directory", metavar="DIR", default=None,
        help="change to DIR before doing anything")
    add("--project", dest="project", metavar="DIR", default=None,
        help="find the project from DIR instead of the working directory (relative paths "
        "of other options still start at the working directory)")
    add("--color", dest="color", choices=("auto", "always", "never"), default="auto",
        help="when to colour output (default: `auto`: on a terminal, unless `NO_COLOR` is set)")
    add("--no-color", dest="color", action="store_const", const="never",
        default=argparse.SUPPRESS,
        help="do not colour output (as `--color never` and NO_COLOR=1 do)")
    add("--no-progress", dest="no_progress", action="store_true", default=False,
        help="draw no progress bars (they are drawn only on a terminal anyway)")
    add("--cache-dir", dest="cache_dir", metavar="DIR", default=None,
        help="the cache directory to use (as `KILN_CACHE_DIR` sets it)")
    add("-n", "--no-cache", dest="no_cache", action="store_true", default=False,
        help="use a temporary cache for this run only, removed at the end")
    add("--offline", dest="offline", action="store_true", default=False,
        help="use only cached data, never the network")
    add("--config-file", dest="config_file", metavar="PATH", type=Path, default=None,
        help="read settings from this `kiln.toml`/`uv.toml` only (default: discover them)")
    add("--no-config", dest="no_config", action="store_true", default=False,
        help="read no `kiln.toml`/`uv.toml` configuration file")
    add("--allow-insecure-host", dest="allow_insecure_host", action="append", default=[],
        metavar="HOST",
        help="do not verify the TLS certificate of HOST (`name`, `name:port` or a URL; "
        "repeatable; `KILN_INSECURE_HOST`)")
    add("--system-certs", "--native-tls", dest="system_certs", action="store_true",
        default=False,
        help="trust the operating system's certificates instead of certifi's bundle "
        "(`KILN_SYSTEM_CERTS`)")


def merge_global_options(args: argparse.Namespace) -> None:
    """Fold the values given after a command name into the top-level ones, outer commands
    first (see the module's docstring)."""
    given = [key for key in vars(args) if "@" in key]
    given.sort(key=lambda key: len(key.split("@", 1)[1].split()))
    for key in given:
        name = key.split("@", 1)[0]
        value = getattr(args, key)
        delattr(args, key)
        if name in _COUNTS:
            setattr(args, name, getattr(args, name) + value)
        elif name in _LISTS:
            setattr(args, name, [*getattr(args, name), *value])
        else:
            setattr(args, name, value)


def project_dir(args: argparse.Namespace) -> Path:
    """Where the project is looked for: `--project`, else the working directory."""
    project: str | None = getattr(args, "project", None)
    return Path(os.path.abspath(project)) if project else Path.cwd()
