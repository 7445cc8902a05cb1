"""Option groups shared by the commands that find and resolve packages (`kiln pip`,
`kiln lock`, `kiln sync`, `kiln venv`). Kept light: parsing a command line imports no core module."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from packaging.utils import NormalizedName

    from kiln.core.install.linking import LinkMode
    from kiln.core.operations.options import Settings
    from kiln.core.timestamps import Cutoff
    from kiln.core.types import BuildChoices, PrereleaseMode

#: The values of `--prerelease` and of the modes of `--prerelease-package`
#: (``kiln.core.types.PRERELEASE_VALUES``, kept here as text so that building
#: the parser imports no core module).
PRERELEASE_MODES = ("if-necessary", "allow", "disallow", "explicit", "if-necessary-or-explicit")
STRATEGIES = ("first-index", "unsafe-first-match", "unsafe-best-match")
#: The values of `--resolution` (``kiln.core.types.RESOLUTION_MODES``; kept
#: here as text so that parsing the command line imports no core module).
RESOLUTION_MODES = ("highest", "lowest", "lowest-direct")
#: The values of `--keyring-provider` (``kiln.core.index.keyring.KEYRING_PROVIDERS``).
KEYRING_PROVIDERS = ("disabled", "subprocess", "auto")


def resolution_options(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """`--resolution` and `--exclude-newer`."""
    group.add_argument(
        "--resolution", choices=RESOLUTION_MODES, default=None,
        help="which versions to prefer: the `highest` (default), the `lowest`, or the "
        "lowest of direct dependencies and the highest of the others (`lowest-direct`)",
    )
    exclude_newer_option(group)


def exclude_newer_option(
    group: argparse._ArgumentGroup | argparse.ArgumentParser,
    help: str = "leave out files uploaded after DATE (`2024-05-01`, the start of that day in "
    "UTC, `2024-05-01T12:00:00Z`, or a span before now: `7 days`, `P7D`)",
) -> None:
    """`--exclude-newer DATE`; ``help`` says what it leaves out."""
    group.add_argument(
        "--exclude-newer", type=exclude_newer, default=None, metavar="DATE", help=help,
    )


def exclude_newer_package_option(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """`--exclude-newer-package PACKAGE=DATE` (repeatable)."""
    group.add_argument(
        "--exclude-newer-package", action="append", default=[], type=exclude_newer_package,
        metavar="PACKAGE=DATE",
        help="like `--exclude-newer`, for PACKAGE only (repeatable; wins over "
        "`--exclude-newer`)",
    )


def lock_options(parser: argparse.ArgumentParser) -> None:
    """The options of the commands that lock (`kiln lock`, `kiln sync`): upgrading, the
    resolution, the indexes, binary and build choices, and per-package settings."""
    upgrade = parser.add_argument_group("upgrading")
    upgrade.add_argument(
        "-U", "--upgrade", action="store_true",
        help="ignore the locked versions: pick the newest allowed of every package",
    )
    upgrade.add_argument(
        "-P", "--upgrade-package", action="append", default=[], metavar="PACKAGE[==VERSION]",
        help="ignore the locked version of this package (with `==VERSION`: lock that "
        "version); repeatable",
    )
    upgrade.add_argument(
        "--upgrade-group", action="append", default=[], metavar="GROUP",
        help="ignore the locked versions of the packages the dependency group GROUP "
        "requires directly; repeatable",
    )
    resolution_options(upgrade)
    index_options(parser)
    binary_options(parser, pip=False)
    package_options(parser)


def exclude_newer(text: str) -> Cutoff:
    """``--exclude-newer``: an RFC 3339 date-time, a date (its start, in UTC), or a span
    before now (``7 days``, ``P7D``)."""
    from kiln.core.timestamps import CUTOFF_FORMS, parse_cutoff

    try:
        return parse_cutoff(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}: {CUTOFF_FORMS}") from None


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
    group.add_argument(
        "--keyring-provider", choices=KEYRING_PROVIDERS, default=None,
        help="where a missing index password is asked: `subprocess` runs the `keyring` "
        "command, `disabled` asks no keyring, `auto` the `keyring` package if kiln's "
        "environment has it (default: `KILN_KEYRING_PROVIDER`, else `UV_KEYRING_PROVIDER`, "
        "else `auto`)",
    )
    if torch:
        group.add_argument(
            "--torch-backend", type=torch_backend, default=None, metavar="BACKEND",
            help="take the PyTorch packages (`torch`, `torchvision`, ...) from the PyTorch "
            "index of BACKEND only: `cpu`, `cu126`, `rocm6.4`, `xpu`, ..., or `auto` to "
            "choose from the machine's GPU driver (default: `KILN_TORCH_BACKEND`, else none)",
        )
    if resolving:
        prerelease_options(group, "versions")
    if refresh:
        group.add_argument(
            "--refresh", action="store_true",
            help="revalidate every cached index page and file",
        )


def prerelease_options(group: argparse._ArgumentGroup, what: str) -> None:
    """`--prerelease` and `--prerelease-package`, for choosing ``what``."""
    group.add_argument(
        "--prerelease", choices=PRERELEASE_MODES, default=None,
        help=f"when pre-release {what} may be chosen (default: `if-necessary`)",
    )
    group.add_argument(
        "--prerelease-package", action="append", default=[], type=prerelease_package,
        metavar="PACKAGE=MODE",
        help="like `--prerelease`, for PACKAGE only: MODE is any value of `--prerelease` "
        "(repeatable; wins over `--prerelease`)",
    )


def prerelease_mode(value: str) -> PrereleaseMode:
    """The mode a value of `--prerelease` names: `if-necessary-or-explicit` is
    `if-necessary`."""
    from kiln.core.types import prerelease_mode as mode_of

    mode = mode_of(value)
    if mode is None:
        raise argparse.ArgumentTypeError(
            f"unknown pre-release mode `{value}`; use one of: "
            + ", ".join(f"`{m}`" for m in PRERELEASE_MODES)
        )
    return mode


def prerelease_package(text: str) -> tuple[NormalizedName, PrereleaseMode]:
    """``--prerelease-package``: ``PACKAGE=MODE``, the name normalized and uv's old
    `if-necessary-or-explicit` read as `if-necessary`."""
    from packaging.utils import InvalidName, canonicalize_name

    name, sep, mode = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected `PACKAGE=MODE`, got `{text}`")
    try:
        canonical = canonicalize_name(name.strip(), validate=True)
    except InvalidName:
        raise argparse.ArgumentTypeError(f"`{name.strip()}` is not a valid package name") from None
    return canonical, prerelease_mode(mode.strip())


def torch_backend(text: str) -> str:
    """``--torch-backend``: one of the PyTorch index names kiln knows."""
    from kiln.core.index.torch import MODES

    if text not in MODES:
        raise argparse.ArgumentTypeError(
            f"unknown PyTorch backend `{text}`; use one of: " + ", ".join(MODES)
        )
    return text


# -- build choices and build settings (`--no-binary`, `-C`, ...) ----------------------------

#: The values of `--fork-strategy` (``kiln.core.resolver.universal.FORK_STRATEGIES``).
FORK_STRATEGIES = ("requires-python", "fewest")


def binary_options(
    parser: argparse.ArgumentParser,
    *,
    pip: bool,
    isolation_package: bool = True,
    backend: bool = True,
) -> None:
    """Which files packages may use, and how sdists are built. ``pip``: pip's forms
    (`--no-binary`/`--only-binary` taking `:all:`, `:none:` or names, `--no-build`, and
    `-b`); else uv's project forms (`--no-build`, `--no-build-package`, `--no-binary`,
    `--no-binary-package`). ``isolation_package`` adds `--no-build-isolation-package`;
    without ``backend``, `-C` and `--no-build-isolation` are left to the command (`kiln
    build` defines them for the project it builds)."""
    group = parser.add_argument_group("build options")
    if pip:
        group.add_argument(
            "--no-binary", action="append", default=[], metavar="PACKAGE",
            help="use no wheels of PACKAGE: build it from its source distribution (`:all:` "
            "for every package, `:none:` clears the list; repeatable, comma-separated)",
        )
        group.add_argument(
            "--only-binary", action="append", default=[], metavar="PACKAGE",
            help="use only wheels of PACKAGE, never building it (`:all:` for every "
            "package, `:none:` clears the list; repeatable, comma-separated)",
        )
        group.add_argument(
            "--no-build", action="store_true",
            help="build nothing from source: use wheels only (`--only-binary :all:`)",
        )
        group.add_argument(
            "-b", "--build-constraints", "--build-constraint", dest="build_constraints",
            action="append", default=[], metavar="FILE",
            help="constrain the versions of build requirements with the requirements of "
            "FILE (repeatable)",
        )
    else:
        group.add_argument(
            "--no-build", action="store_true",
            help="build nothing from source: use wheels only",
        )
        group.add_argument(
            "--no-build-package", action="append", default=[], metavar="PACKAGE",
            help="never build PACKAGE from source (repeatable)",
        )
        group.add_argument(
            "--no-binary", action="store_true",
            help="use no wheels: build every package from its source distribution",
        )
        group.add_argument(
            "--no-binary-package", action="append", default=[], metavar="PACKAGE",
            help="use no wheels of PACKAGE (repeatable)",
        )
    build_hash_options(group, negative=not pip)
    if backend:
        group.add_argument(
            "-C", "--config-setting", "--config-settings", dest="config_setting",
            action="append", default=[], metavar="KEY=VALUE",
            help="pass a setting to every build backend (repeatable; repeated keys make a "
            "list)",
        )
    group.add_argument(
        "--config-settings-package", action="append", default=[], type=package_config_setting,
        metavar="PACKAGE:KEY=VALUE",
        help="pass a setting to the build backend of PACKAGE only (repeatable)",
    )
    if backend:
        group.add_argument(
            "--no-build-isolation", action="store_true",
            help="build in the target environment, which must have the build requirements "
            "already, instead of an isolated one",
        )
    if isolation_package:
        group.add_argument(
            "--no-build-isolation-package", action="append", default=[], metavar="PACKAGE",
            help="like `--no-build-isolation`, for PACKAGE only (repeatable)",
        )


def build_hash_options(
    group: argparse._ArgumentGroup | argparse.ArgumentParser, *, negative: bool
) -> None:
    """`--require-build-hashes`, and with ``negative`` `--no-require-build-hashes` (the
    last one given wins)."""
    group.add_argument(
        "--require-build-hashes", dest="require_build_hashes", action="store_true",
        default=False,
        help="require that every package installed into a build environment is pinned "
        "with `==` and has a matching `--hash` in the build constraints",
    )
    if negative:
        group.add_argument(
            "--no-require-build-hashes", dest="require_build_hashes", action="store_false",
            help="do not require hashes of build requirements (the default)",
        )


def package_config_setting(text: str) -> str:
    """``--config-settings-package``: ``PACKAGE:KEY=VALUE`` (read by
    ``kiln.core.builder.packagesettings.parse_package_config_settings``)."""
    name, sep, setting = text.partition(":")
    if not sep or not name.strip() or "=" not in setting:
        raise argparse.ArgumentTypeError(f"expected `PACKAGE:KEY=VALUE`, got `{text}`")
    return text


def package_options(
    parser: argparse.ArgumentParser, *, universal: bool = True, sources: bool = True
) -> None:
    """Per-package resolution options: `--exclude-newer-package`, `--refresh-package`,
    with ``sources`` `--no-sources-package`, with ``universal`` `--fork-strategy`."""
    group = parser.add_argument_group("per-package options")
    exclude_newer_package_option(group)
    if sources:
        group.add_argument(
            "--no-sources-package", action="append", default=[], metavar="PACKAGE",
            help="ignore the `[tool.kiln.sources]` entry of PACKAGE (repeatable)",
        )
    group.add_argument(
        "--refresh-package", action="append", default=[], metavar="PACKAGE",
        help="revalidate the cached index pages and files of PACKAGE (repeatable)",
    )
    if universal:
        group.add_argument(
            "--fork-strategy", choices=FORK_STRATEGIES, default=None,
            help="for a universal resolution: the newest version for each range of Python "
            "versions (`requires-python`, default), or as few versions as possible "
            "(`fewest`)",
        )


def exclude_newer_package(text: str) -> tuple[str, datetime | None]:
    """``--exclude-newer-package``: ``NAME=DATE``, or ``NAME=false`` (no cutoff)."""
    name, sep, date = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected `PACKAGE=DATE`, got `{text}`")
    if date.strip() == "false":
        return name.strip(), None
    from kiln.core.timestamps import parse_cutoff

    try:
        return name.strip(), parse_cutoff(date, span=False).moment
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"`{text}`: {exc}") from None


def with_package_options(settings: Settings, args: argparse.Namespace) -> Settings:
    """``settings`` with what the groups above parsed into ``args`` (those present)."""
    from packaging.utils import canonicalize_name

    from kiln.core.builder.configsettings import parse_config_settings
    from kiln.core.builder.packagesettings import (
        PackageBuildSettings,
        parse_package_config_settings,
    )

    changes: dict[str, object] = {}
    if hasattr(args, "no_build"):
        changes["choices"] = build_choices(args)
        constraints = getattr(args, "build_constraints", [])
        changes["build"] = PackageBuildSettings(
            config_settings=parse_config_settings(args.config_setting),
            package_config_settings=parse_package_config_settings(
                args.config_settings_package
            ),
            no_isolation=args.no_build_isolation,
            no_isolation_packages=frozenset(
                canonicalize_name(n) for n in getattr(args, "no_build_isolation_package", ())
            ),
            constraints=merged_constraints(constraints),
            require_hashes=args.require_build_hashes,
        )
    if hasattr(args, "exclude_newer_package"):
        changes["exclude_newer_packages"] = {
            canonicalize_name(name): date for name, date in args.exclude_newer_package
        }
    if hasattr(args, "refresh_package"):
        changes["client"] = settings.client._replace(
            refresh_packages=frozenset(canonicalize_name(n) for n in args.refresh_package),
        )
    if hasattr(args, "prerelease_package"):
        changes["prerelease_packages"] = dict(args.prerelease_package)
    if getattr(args, "fork_strategy", None):
        changes["fork_strategy"] = args.fork_strategy
    return settings.replace(**changes)


def build_choices(args: argparse.Namespace) -> BuildChoices:
    """`--no-binary`, `--only-binary`, `--no-build` and the `-package` forms, as uv reads
    them: `:all:` and names accumulate, `:none:` clears what came before it."""
    from packaging.utils import canonicalize_name

    from kiln.core.types import BuildChoices

    def names(values: list[str]) -> tuple[bool, frozenset[NormalizedName]]:
        every = False
        found: set[NormalizedName] = set()
        for value in values:
            for item in (part.strip() for part in value.split(",")):
                if item == ":all:":
                    every = True
                elif item == ":none:":
                    every = False
                    found = set()
                elif item:
                    found.add(canonicalize_name(item))
        return every, frozenset(found)

    if isinstance(args.no_binary, bool):  # uv's project form: flags and `-package` lists
        return BuildChoices(
            no_binary_all=args.no_binary,
            no_binary=frozenset(canonicalize_name(n) for n in args.no_binary_package),
            no_build_all=args.no_build,
            no_build=frozenset(canonicalize_name(n) for n in args.no_build_package),
        )
    no_binary_all, no_binary = names(args.no_binary)
    no_build_all, no_build = names(args.only_binary)
    return BuildChoices(
        no_binary_all=no_binary_all, no_binary=no_binary,
        no_build_all=no_build_all or args.no_build, no_build=no_build,
    )


def merged_constraints(files: list[str]) -> Path | None:
    """The one constraints file of `-b FILE...`: the file itself, or a temporary one that
    includes each (`-c` lines), which lives as long as the process."""
    from kiln.errors import KilnError

    paths = [Path(file).absolute() for file in files]
    for path in paths:
        if not path.is_file():
            raise KilnError(f"build constraints file `{path}` does not exist")
    if len(paths) <= 1:
        return paths[0] if paths else None
    import atexit
    import tempfile

    with tempfile.NamedTemporaryFile(
        "w", prefix="kiln-build-constraints-", suffix=".txt", delete=False, encoding="utf-8"
    ) as handle:
        handle.write("".join(f"-c {path}\n" for path in paths))
    atexit.register(Path(handle.name).unlink, missing_ok=True)
    return Path(handle.name)


def link_mode(args: argparse.Namespace) -> LinkMode:
    """The link mode of a command that installs: its ``--link-mode``, else ``KILN_LINK_MODE``
    (see :func:`kiln.core.install.linking.choose_link_mode`)."""
    import os

    from kiln.core.install.linking import choose_link_mode

    if not hasattr(args, "link_mode"):  # a command that installs nothing
        return "hardlink"
    return choose_link_mode(args.link_mode, os.environ)
