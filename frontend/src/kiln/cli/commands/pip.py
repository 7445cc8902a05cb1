"""`kiln pip`: a pip-compatible interface (install, uninstall, compile, sync, list, ...)."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cli.options import binary_options as _binary_options
from kiln.cli.options import index_options as _index_options
from kiln.cli.options import link_mode
from kiln.cli.options import package_options as _package_options
from kiln.cli.options import resolution_options as _resolution_options
from kiln.cli.ui import UI, elapsed
from kiln.cli.ui import packages as _packages

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from kiln.core.install.environment import Environment
    from kiln.core.install.installed import InstalledDistribution
    from kiln.core.operations.listing import Latest
    from kiln.core.operations.options import Events, Settings
    from kiln.core.operations.report import InstallReport
    from kiln.core.requirements_file import RequirementsInput
    from kiln.core.timestamps import Cutoff
    from kiln.core.types import DistFile

NAME = "pip"
HELP = "manage packages in an environment with a pip-compatible interface"

ANNOTATION_STYLES = ("split", "line")
OUTPUT_FORMATS = ("requirements.txt", "pylock.toml")


# -- parser ---------------------------------------------------------------------------------


def _target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target environment")
    group.add_argument(
        "-p", "--python", metavar="PYTHON",
        help="the environment to use: a virtual environment directory, an interpreter path "
        "or a version (default: `VIRTUAL_ENV`, else `.venv` here or in a parent directory)",
    )
    group.add_argument(
        "--system", action="store_true",
        help="allow an interpreter outside a virtual environment",
    )


def _directory_options(parser: argparse.ArgumentParser, *, changes: bool = False) -> None:
    """`--target`/`--prefix` (a directory instead of an environment); with ``changes``,
    `--break-system-packages` too."""
    group = parser.add_argument_group("target directory")
    where = group.add_mutually_exclusive_group()
    where.add_argument("-t", "--target", type=Path, metavar="DIR",
                       help="use the packages at the top level of DIR (scripts in `DIR/bin`) "
                       "instead of an environment's")
    where.add_argument("--prefix", type=Path, metavar="DIR",
                       help="use DIR laid out as a virtual environment (`lib/pythonX.Y/"
                       "site-packages`, `bin`) instead of an environment")
    if changes:
        group.add_argument("--break-system-packages", action=argparse.BooleanOptionalAction,
                           default=False,
                           help="allow changing an `EXTERNALLY-MANAGED` Python installation")


def _python_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--python-version", metavar="VERSION",
                        help="resolve for this Python version (e.g. `3.12`) instead of the "
                        "environment's")
    parser.add_argument("--python-platform", metavar="PLATFORM",
                        help="resolve for this platform (e.g. `linux`, `macos`, `windows`) "
                        "instead of the environment's")


def _install_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("installation options")
    group.add_argument(
        "--reinstall", action="store_true",
        help="reinstall every package, even when the same version is installed",
    )
    group.add_argument(
        "--reinstall-package", action="append", default=[], metavar="PACKAGE",
        help="reinstall this package (repeatable)",
    )
    group.add_argument(
        "--require-hashes", action="store_true",
        help="require a matching `--hash` for every package (implied when any is given)",
    )
    group.add_argument(
        "--link-mode", choices=("hardlink", "copy"), default=None,
        help="how files are placed from the cache: `hardlink` shares them with the cache, "
        "`copy` makes independent files (default: `KILN_LINK_MODE`, else `hardlink`)",
    )
    group.add_argument(
        "--compile-bytecode", action="store_true",
        help="compile installed Python files to bytecode",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    from kiln.cli.globalopts import add_global_options

    _cert_option(parser)
    sub = parser.add_subparsers(dest="pip_command", metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=text, description=text)
        add_global_options(child, suppress=True)
        _cert_option(child)
        return child

    install = command("install", "install packages into an environment")
    install.add_argument("packages", nargs="*", metavar="PACKAGE",
                         help="requirements: `name`, `name>=1`, `name @ url`, a path or a URL")
    install.add_argument("-r", "--requirements", action="append", default=[], metavar="FILE",
                         help="install the requirements of FILE (`requirements.txt` style, "
                         "or a `pyproject.toml`; repeatable)")
    install.add_argument("-e", "--editable", action="append", default=[], metavar="PATH",
                         help="install the local project at PATH in editable mode (repeatable)")
    install.add_argument("-c", "--constraints", action="append", default=[], metavar="FILE",
                         help="constrain versions with the requirements of FILE (repeatable)")
    install.add_argument("--no-editable", action="store_true",
                         help="install editable requirements (`-e`) as ordinary builds")
    install.add_argument("--no-editable-package", action="append", default=[],
                         metavar="PACKAGE", help="like `--no-editable`, for this package only "
                         "(repeatable)")
    install.add_argument("-U", "--upgrade", action="store_true",
                         help="ignore installed versions and pick the newest allowed")
    install.add_argument("-P", "--upgrade-package", action="append", default=[],
                         metavar="PACKAGE", help="like `--upgrade`, for this package only")
    install.add_argument("--no-deps", action="store_true",
                         help="install the requirements only, not their dependencies")
    _project_inputs(install, overrides=True)
    _resolution_options(install)
    _install_options(install)
    _change_options(install, install=True)
    _python_target_options(install)
    _index_options(install, torch=True)
    _binary_options(install, pip=True)
    _package_options(install)
    _target_options(install)
    _directory_options(install, changes=True)

    uninstall = command("uninstall", "uninstall packages from an environment")
    uninstall.add_argument("packages", nargs="*", metavar="PACKAGE",
                           help="the names of the packages to uninstall")
    uninstall.add_argument("-r", "--requirements", action="append", default=[], metavar="FILE",
                           help="uninstall the packages named in FILE")
    uninstall.add_argument("--dry-run", action="store_true",
                           help="say what would be uninstalled, changing nothing")
    _target_options(uninstall)
    _directory_options(uninstall, changes=True)

    compile_ = command("compile", "resolve requirements into a pinned requirements file")
    compile_.add_argument("src_files", nargs="+", metavar="SRC_FILE",
                          help="`requirements.in`-style files or `pyproject.toml`")
    compile_.add_argument("-o", "--output-file", metavar="FILE",
                          help="write the result to FILE instead of standard output")
    compile_.add_argument("-c", "--constraints", action="append", default=[], metavar="FILE",
                          help="constrain versions with the requirements of FILE")
    compile_.add_argument("-p", "--python", metavar="PYTHON",
                          help="resolve for this interpreter (a path, a virtual environment or "
                          "a version such as `3.9`): its Python version, markers and wheel tags")
    compile_.add_argument("--python-version", metavar="VERSION",
                          help="resolve for this Python version (e.g. `3.12`); with "
                          "`--universal`, the oldest Python to support")
    target = compile_.add_mutually_exclusive_group()
    target.add_argument("--python-platform", metavar="PLATFORM",
                        help="resolve for this platform (e.g. `linux`, `macos`, `windows`)")
    target.add_argument("--universal", action="store_true",
                        help="resolve for every platform and Python version at once, "
                        "pins carrying environment markers")
    compile_.add_argument("--no-deps", action="store_true",
                          help="pin the requirements only, not their dependencies")
    _upgrade_options(compile_, "ignore the pins of an existing output file")
    _project_inputs(compile_, overrides=True)
    _resolution_options(compile_)
    compile_.add_argument("--system", action="store_true",
                          help="resolve for the first `python3` on `PATH` (when neither "
                          "`--python` nor `--python-version`/`--python-platform` is given)")
    compile_.add_argument("--link-mode", choices=("hardlink", "copy"), default=None,
                          help="accepted as uv does; compiling installs nothing")
    _compile_output_options(compile_)
    _index_options(compile_, torch=True)
    _binary_options(compile_, pip=True)
    _package_options(compile_)

    sync = command("sync", "make an environment contain exactly the given requirements")
    sync.add_argument("src_files", nargs="+", metavar="SRC_FILE",
                      help="pinned requirement files (e.g. from `kiln pip compile`)")
    sync.add_argument("-c", "--constraints", action="append", default=[], metavar="FILE")
    _project_inputs(sync, overrides=False)
    _resolution_options(sync)
    _install_options(sync)
    _change_options(sync, install=False)
    _python_target_options(sync)
    _index_options(sync, torch=True)
    _binary_options(sync, pip=True, isolation_package=False)
    _package_options(sync, universal=False)
    _target_options(sync)
    _directory_options(sync, changes=True)

    listing = command("list", "list installed packages")
    listing.add_argument("-e", "--editable", action="store_true",
                         help="list editable installs only")
    listing.add_argument("--exclude-editable", action="store_true",
                         help="leave out editable installs")
    _exclude_option(listing)
    listing.add_argument("--format", choices=("columns", "freeze", "json"), default="columns",
                         help="output format (default: `columns`)")
    listing.add_argument("--outdated", action="store_true",
                         help="list only the packages of which the indexes have a newer "
                         "release, with that release")
    _strict_option(listing)
    _index_options(listing, resolving=False, refresh=False)
    _outdated_cutoff_options(listing)
    _target_options(listing)
    _directory_options(listing)

    freeze = command("freeze", "list installed packages as requirements")
    freeze.add_argument("--exclude-editable", action="store_true",
                        help="leave out editable installs")
    _exclude_option(freeze)
    freeze.add_argument("--path", action="append", default=[], metavar="DIR", type=Path,
                        help="list the packages installed in DIR (a `site-packages` "
                        "directory) instead of the environment's (repeatable)")
    _strict_option(freeze)
    _target_options(freeze)
    _directory_options(freeze)

    show = command("show", "show details of installed packages")
    show.add_argument("packages", nargs="+", metavar="PACKAGE",
                      help="the names of the installed packages to show")
    show.add_argument("-f", "--files", action="store_true",
                      help="list the files of each package (from its `RECORD`)")
    _strict_option(show)
    _target_options(show)
    _directory_options(show)

    check = command("check", "check that installed packages have compatible dependencies")
    _python_target_options(check)
    _target_options(check)

    tree = command("tree", "show installed packages as a dependency tree")
    tree.add_argument("-d", "--depth", type=_depth, default=None, metavar="N",
                      help="show N levels of dependencies")
    tree.add_argument("--package", action="append", default=[], metavar="PACKAGE",
                      help="start the tree at PACKAGE (repeatable)")
    tree.add_argument("--prune", action="append", default=[], metavar="PACKAGE",
                      help="leave PACKAGE out of the tree (repeatable)")
    tree.add_argument("--invert", action="store_true",
                      help="show what requires each package instead of what it requires")
    tree.add_argument("--no-dedupe", action="store_true",
                      help="repeat the dependencies of a package each time it appears")
    tree.add_argument("--show-version-specifiers", action="store_true",
                      help="show the version specifier of each requirement")
    tree.add_argument("--outdated", action="store_true",
                      help="show the newest release the indexes have of outdated packages")
    _strict_option(tree)
    _index_options(tree, resolving=False, refresh=False)
    _outdated_cutoff_options(tree)
    _target_options(tree)

    from kiln.cli.commands import pip_download

    pip_download.configure(command)


def _outdated_cutoff_options(parser: argparse.ArgumentParser) -> None:
    """`--exclude-newer` and `--exclude-newer-package` of `list` and `tree`: what
    `--outdated` counts as the newest release."""
    from kiln.cli.options import exclude_newer_option, exclude_newer_package_option

    group = parser.add_argument_group("outdated options")
    exclude_newer_option(
        group, help="with `--outdated`: leave out releases uploaded after DATE (`2024-05-01`, "
        "the start of that day in UTC, or `2024-05-01T12:00:00Z`)",
    )
    exclude_newer_package_option(group)


def _cert_option(parser: argparse.ArgumentParser) -> None:
    """`--cert`, as uv takes it: after `pip` or after the `pip` command's name (the last
    one given wins; applied to the whole run in :mod:`kiln.cli.main`)."""
    parser.add_argument(
        "--cert", metavar="FILE", default=argparse.SUPPRESS,
        help="trust only the CA certificates of this PEM bundle for HTTPS (instead of "
        "`SSL_CERT_FILE`, `SSL_CERT_DIR` or the default certificates)",
    )


def _change_options(parser: argparse.ArgumentParser, *, install: bool) -> None:
    """What `install` and `sync` do besides installing: a dry run, a check, a report."""
    group = parser.add_argument_group("change options")
    group.add_argument("--dry-run", action="store_true",
                       help="resolve and say what would change, changing nothing")
    group.add_argument("--check", action="store_true",
                       help="like `--dry-run`, exiting with status 1 when anything would "
                       "change")
    group.add_argument("--strict", action="store_true",
                       help="afterwards, warn about resolved packages whose dependencies are "
                       "missing or of a version they do not accept")
    group.add_argument("--output-format", choices=("text", "json"), default="text",
                       help="`json`: also print the changes as JSON on standard output")
    if install:
        group.add_argument("--exact", action="store_true",
                           help="also uninstall every package the resolution does not need")
        group.add_argument("--user", action="store_true",
                           help="refused, as uv does: install into a virtual environment")
    else:
        group.add_argument("--allow-empty-requirements", action=argparse.BooleanOptionalAction,
                           default=False,
                           help="with no requirements, uninstall everything (default: do "
                           "nothing, with a warning)")


def _upgrade_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("-U", "--upgrade", action="store_true",
                        help=f"{what} and pick the newest allowed versions")
    parser.add_argument("-P", "--upgrade-package", action="append", default=[],
                        metavar="PACKAGE", help="like `--upgrade`, for this package only "
                        "(repeatable)")


def _project_inputs(parser: argparse.ArgumentParser, *, overrides: bool) -> None:
    """`--extra`, `--all-extras` and `--group`, with `--overrides`/`--excludes`."""
    group = parser.add_argument_group("project inputs")
    group.add_argument("--extra", action="append", default=[], metavar="EXTRA",
                       help="add the optional dependencies EXTRA of the `pyproject.toml` "
                       "inputs (repeatable)")
    group.add_argument("--all-extras", action="store_true",
                       help="add every optional dependency of the `pyproject.toml` inputs")
    group.add_argument("--group", action="append", default=[], metavar="[PATH:]GROUP",
                       help="add the dependency group GROUP of PATH (default: "
                       "`pyproject.toml` here) (repeatable)")
    if overrides:
        group.add_argument("--overrides", action="append", default=[], metavar="FILE",
                           help="replace every requirement on the packages of FILE by "
                           "FILE's (repeatable)")
        group.add_argument("--excludes", action="append", default=[], metavar="FILE",
                           help="leave the packages FILE names out of the resolution, with "
                           "every requirement on them (repeatable)")


def _compile_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output options")
    group.add_argument("--format", choices=OUTPUT_FORMATS, default=None,
                       help="the format to write (default: the output file's: `pylock.toml` "
                       "for `pylock.toml` and `pylock.<name>.toml`, else `requirements.txt`)")
    group.add_argument("--no-header", action="store_true",
                       help="leave out the header comment")
    group.add_argument("--custom-compile-command", metavar="COMMAND", default=None,
                       help="the command the header says made the file (default: "
                       "`KILN_CUSTOM_COMPILE_COMMAND`, else this command line)")
    group.add_argument("--no-annotate", action="store_true",
                       help="leave out the `# via` comments")
    group.add_argument("--annotation-style", choices=ANNOTATION_STYLES, default="split",
                       help="`split`: `# via` comments on lines of their own; `line`: one "
                       "comment after each requirement (default: `split`)")
    group.add_argument("--no-strip-extras", action="store_true",
                       help="keep the extras of each package in its pin (`name[extra]==1.0`)")
    group.add_argument("--no-strip-markers", action="store_true",
                       help="keep the markers of the requirements that lead to each package")
    group.add_argument("--generate-hashes", action="store_true",
                       help="write the sha256 of each package's files as `--hash` options")
    group.add_argument("--no-emit-package", action="append", default=[], metavar="PACKAGE",
                       help="leave PACKAGE out of the output, not its dependencies "
                       "(repeatable)")
    group.add_argument("--emit-index-url", action="store_true",
                       help="write `--index-url` and `--extra-index-url` lines for the indexes "
                       "(without credentials)")
    group.add_argument("--emit-find-links", action="store_true",
                       help="write `--find-links` lines for the find-links locations "
                       "(without credentials)")
    group.add_argument("--emit-index-annotation", action="store_true",
                       help="write the URL of the index each pin came from under it "
                       "(`# from URL`)")
    group.add_argument("--emit-build-options", action="store_true",
                       help="write `--no-binary` and `--only-binary` lines for those options")


def _exclude_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exclude", action="append", default=[], metavar="PACKAGE",
                        help="leave PACKAGE out (repeatable)")


def _strict_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true",
                        help="warn about installed packages whose dependencies are missing "
                        "or of a version they do not accept")


def _depth(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of levels, got `{text}`")
    return value


def run(args: argparse.Namespace, ui: UI) -> int:
    handlers: dict[str, Callable[[argparse.Namespace, UI], int]] = {
        "install": _install,
        "uninstall": _uninstall,
        "compile": _compile,
        "sync": _sync,
        "list": _list,
        "freeze": _freeze,
        "show": _show,
        "check": _check,
        "tree": _tree,
        "download": _saving,
        "wheel": _saving,
    }
    handler = handlers.get(args.pip_command or "")
    _relax_garbage_collector()
    if handler is None:
        ui.error("missing `kiln pip` command",
                 "choose one of: " + ", ".join(f"`{name}`" for name in handlers))
        return 2
    return handler(args, ui)


# -- shared ---------------------------------------------------------------------------------


def _relax_garbage_collector() -> None:
    """Stop collecting cycles automatically. Reading index pages creates hundreds of
    thousands of objects that live until the command ends, and every automatic collection
    scans the young ones again: with thresholds raised to 50 000 objects, the collections
    still took a tenth of a ``kiln lock`` (33 ms of 360 ms, for no memory given back).
    What a command leaves in cycles is small and is freed with the process, which ends
    without tearing the interpreter down (:func:`kiln.cli.main.finish`). Objects alive
    now (modules, classes) are set aside for an explicit collection."""
    import gc

    gc.freeze()
    gc.disable()


def _imports_done() -> None:
    """Set the modules just imported aside from garbage collection too, as
    :func:`_relax_garbage_collector` did with those loaded before it: a collection then
    scans only the objects the command makes, not every class and function of the core."""
    import gc

    gc.freeze()


def _saving(args: argparse.Namespace, ui: UI) -> int:
    """`download` and `wheel` (:mod:`kiln.cli.commands.pip_download`)."""
    from kiln.cli.commands.pip_download import run

    return run(args, ui)


def _environment(args: argparse.Namespace) -> Environment:
    from kiln.core.operations.environment import directory_environment, find_environment

    target, prefix = getattr(args, "target", None), getattr(args, "prefix", None)
    if target is not None or prefix is not None:
        return directory_environment(args.python, target=target, prefix=prefix)
    return find_environment(args.python, system=args.system)


def _environment_to_change(args: argparse.Namespace, ui: UI) -> Environment:
    """The environment a command will change, named on stderr unless it is `./.venv`;
    an `EXTERNALLY-MANAGED` one is refused unless `--break-system-packages`."""
    from kiln.core.operations.environment import refuse_if_managed

    env = _environment(args)
    refuse_if_managed(env, allowed=args.break_system_packages)
    cwd = Path.cwd()
    shown = env.prefix.relative_to(cwd) if env.prefix.is_relative_to(cwd) else env.prefix
    line = f"Using Python {env.interpreter.version_string} environment at: {shown}"
    if env.prefix.resolve() == (cwd / ".venv").resolve():
        ui.debug(line)
    else:
        ui.info(line)
    return env


def _settings(args: argparse.Namespace) -> Settings:
    from kiln.cli.globalopts import project_dir
    from kiln.cli.options import prerelease_mode, with_package_options
    from kiln.core.index.clientoptions import ClientOptions
    from kiln.core.index.locations import IndexOptions
    from kiln.core.operations.options import Settings, with_file_defaults
    from kiln.project.indexes import find_configured_pyproject

    cutoff: Cutoff | None = getattr(args, "exclude_newer", None)
    settings = with_package_options(Settings(
        index=IndexOptions(
            index=tuple(args.index),
            default_index=args.default_index,
            index_url=args.index_url,
            extra_index_url=tuple(args.extra_index_url),
            find_links=tuple(args.find_links),
            no_index=args.no_index,
            strategy=args.index_strategy,
            torch_backend=getattr(args, "torch_backend", None),
            keyring_provider=getattr(args, "keyring_provider", None),
        ),
        client=ClientOptions(
            offline=args.offline, refresh=getattr(args, "refresh", False), no_cache=args.no_cache
        ),
        prerelease=prerelease_mode(getattr(args, "prerelease", None) or "if-necessary"),
        resolution=getattr(args, "resolution", None) or "highest",
        exclude_newer=cutoff.moment if cutoff is not None else None,
        exclude_newer_span=cutoff.span if cutoff is not None else None,
        upgrade=getattr(args, "upgrade", False),
        upgrade_packages=frozenset(getattr(args, "upgrade_package", ())),
        reinstall=getattr(args, "reinstall", False),
        reinstall_packages=frozenset(getattr(args, "reinstall_package", ())),
        no_deps=getattr(args, "no_deps", False),
        require_hashes=getattr(args, "require_hashes", False),
        link_mode=link_mode(args),
        compile_bytecode=getattr(args, "compile_bytecode", False),
        project=find_configured_pyproject(project_dir(args)),
        config_file=args.config_file,
        no_config=args.no_config,
    ), args)
    # What the command line leaves unsaid, kiln.toml (else uv.toml) may say.
    given = [name for name in ("resolution", "prerelease", "exclude_newer")
             if getattr(args, name, None) is not None]
    return with_file_defaults(
        settings, project_dir(args), pip=hasattr(args, "pip_command"), given=given
    )


def _inputs(
    packages: Sequence[str],
    files: Sequence[str],
    editables: Sequence[str] = (),
    constraints: Sequence[str] = (),
    *,
    no_sources: bool = False,
    no_sources_packages: Sequence[str] = (),
    args: argparse.Namespace | None = None,
) -> RequirementsInput:
    """What to resolve; ``args`` adds the project inputs (`--extra`, `--all-extras`,
    `--group`, `--overrides`, `--excludes`) of a command that has them."""
    from kiln.core.requirements_file import (
        RequirementsInput,
        parse_requirement,
        read_dependency_group,
        read_excludes,
        read_overrides,
        read_requirements,
    )

    extras: list[str] | None = list(getattr(args, "extra", ()))
    if getattr(args, "all_extras", False):
        extras = None
    inputs = RequirementsInput()
    for text in packages:
        inputs.requirements.append(parse_requirement(text))
    for path in editables:
        inputs.requirements.append(parse_requirement(path, editable=True))
    for file in files:
        inputs.merge(read_requirements(
            Path(file), no_sources=no_sources, no_sources_packages=no_sources_packages,
            extras=extras,
        ))
    for group in getattr(args, "group", ()):
        inputs.merge(read_dependency_group(group, no_sources=no_sources))
    for file in constraints:
        inputs.merge(read_requirements(Path(file), constraints=True))
    for file in getattr(args, "overrides", ()):
        inputs.merge(read_overrides(Path(file)))
    for file in getattr(args, "excludes", ()):
        inputs.merge(read_excludes(Path(file)))
    return inputs


def _extras_without_project(args: argparse.Namespace, files: Sequence[str], ui: UI) -> bool:
    """`--extra`/`--all-extras` with no `pyproject.toml` input: a usage error, said."""
    if (args.extra or args.all_extras) and not any(
        Path(file).name == "pyproject.toml" for file in files
    ):
        option = "--all-extras" if args.all_extras else "--extra"
        ui.error(f"`{option}` needs a `pyproject.toml` input",
                 "pass `pyproject.toml` (or `-r pyproject.toml`) to read its extras")
        return True
    return False


class _Progress:
    """Download and build progress on stderr; a self-rewriting line on a terminal."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        self.tty = ui.progress
        self.lock = threading.Lock()

    def events(self) -> Events:
        from kiln.core.operations.options import Events

        return Events(
            downloaded=self.downloaded, building=self.building,
            note=self.ui.info, warning=self.ui.warning,
        )

    def downloaded(self, file: DistFile, done: int, total: int) -> None:
        if self.tty:
            width = 30
            filled = width * done // max(total, 1)
            bar = "█" * filled + "░" * (width - filled)
            end = "\n" if done == total else ""
            with self.lock:
                self.ui.err.write(f"\rDownloading {bar} {done}/{total}{end}")
                self.ui.err.flush()
        else:
            self.ui.debug(f"Downloaded {file.filename}")

    def building(self, label: str) -> None:
        from kiln.core.index.redaction import redact

        with self.lock:
            self.ui.info(f"   Building {redact(label)}")


def _print_report(
    ui: UI, report: InstallReport, args: argparse.Namespace | None = None, *,
    resolved: bool = True,
) -> int:
    """uv's summary of an install: `Resolved` (unless not ``resolved``: `kiln sync` says
    how many packages its lock has instead), `Prepared`, `Uninstalled`, `Installed` or
    `Audited`, then a `+`/`-` line per change; with `--output-format json`, the changes as
    JSON too. The exit status: 1 with `--check` when anything would change."""
    if report.audited is not None:
        ui.info(f"Audited {_packages(report.audited)} in {elapsed(0)}")
    else:
        for warning in report.resolution.warnings if report.resolution is not None else ():
            ui.warning(warning)
        if resolved:
            ui.info(f"Resolved {_packages(report.resolved)} in {elapsed(report.resolve_seconds)}")
    if report.dry_run:
        if report.uninstalled:
            ui.info(f"Would uninstall {_packages(len(report.uninstalled))}")
        if report.installed:
            ui.info(f"Would install {_packages(len(report.installed))}")
        if not report.installed and not report.uninstalled:
            ui.info("Would make no changes")
    elif report.audited is None:
        if report.prepared:
            ui.info(f"Prepared {_packages(report.prepared)} in {elapsed(report.prepare_seconds)}")
        if report.uninstalled:
            ui.info(f"Uninstalled {_packages(len(report.uninstalled))} in "
                    f"{elapsed(report.install_seconds)}")
        if report.installed:
            ui.info(f"Installed {_packages(len(report.installed))} in "
                    f"{elapsed(report.install_seconds)}")
        if not report.installed and not report.uninstalled:
            ui.info(f"Audited {_packages(report.resolved)} in {elapsed(0)}")
    _print_changes(ui, report)
    if args is not None and args.output_format == "json":
        import json

        changes = [{"name": c.name, "version": c.version, "action": action}
                   for action, c in report.changes]
        ui.data(json.dumps({"schema": {"version": "preview"}, "changes": changes,
                            "dry_run": report.dry_run}, indent=2))
    changed = bool(report.installed or report.uninstalled)
    return 1 if args is not None and args.check and changed else 0


def _print_changes(ui: UI, report: InstallReport) -> None:
    """A ` - name==version` line per removal and a ` + name==version` line per install
    (` + name` when the version is not known yet), by name."""
    for action, change in report.changes:
        version = f"=={change.version}" if change.version else ""
        ui.info(f" {'+' if action == 'installed' else '-'} {change.name}{version}")


def _strict_after(args: argparse.Namespace, ui: UI, env: Environment,
                  report: InstallReport) -> None:
    """`--strict` of `install`/`sync`: a warning for each unmet requirement of a package of
    the resolution, once the environment has changed."""
    if not args.strict or report.dry_run or report.resolution is None:
        return
    from packaging.utils import canonicalize_name

    from kiln.core.operations.listing import check

    resolved = set(report.resolution.packages)
    for problem in check(env)[1]:
        if canonicalize_name(problem.package) in resolved:
            ui.warning(problem.describe())


# -- commands -------------------------------------------------------------------------------


def _warm_up(args: argparse.Namespace) -> None:
    """Let the trusted certificates load in the background while the command imports the
    rest of its code, unless no index will be asked."""
    if not (args.offline or args.no_index):
        from kiln.core.index.tls import warm_up_tls

        warm_up_tls()


def _lockfile(files: Sequence[str], others: Sequence[object]) -> Path | None:
    """The one PEP 751 lock (`pylock.toml`, `pylock.NAME.toml`) among ``files``, if any;
    a lock cannot be combined with other requirements."""
    from kiln.core.lockfile import is_lock_name
    from kiln.errors import KilnError

    locks = [Path(f) for f in files if is_lock_name(Path(f).name)]
    if not locks:
        return None
    if len(files) > 1 or any(others):
        raise KilnError(
            f"`{locks[0]}` is a lock: it cannot be combined with other requirements",
            hint="install the lock alone, then the other requirements",
        )
    return locks[0]


def _install_lockfile(
    args: argparse.Namespace, ui: UI, path: Path, *, exact: bool
) -> int:
    _warm_up(args)
    from kiln.core.operations.locked_install import install_lockfile
    _imports_done()

    env = _environment_to_change(args, ui)
    dry_run = args.dry_run or args.check
    report = install_lockfile(
        env, path, _settings(args), _Progress(ui).events(), exact=exact,
        extras=None if args.all_extras else args.extra, groups=args.group or None,
        dry_run=dry_run,
    )
    report.dry_run = dry_run
    return _print_report(ui, report, args, resolved=False)


def _install(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.operations.auditing import audit

    lockfile = _lockfile(args.requirements, [args.packages, args.editable, args.constraints])
    if lockfile is not None:
        return _install_lockfile(args, ui, lockfile, exact=False)
    if _extras_without_project(args, args.requirements, ui):
        return 2
    inputs = _inputs(
        args.packages, args.requirements, args.editable, args.constraints,
        no_sources=args.no_sources, no_sources_packages=args.no_sources_package, args=args,
    )
    if args.no_editable or args.no_editable_package:
        inputs.not_editable(None if args.no_editable else args.no_editable_package)
    if not inputs.requirements:
        ui.error("no requirements given",
                 "name packages, or pass `-r requirements.txt` or `-e PATH`")
        return 2
    if args.user:
        ui.error("`--user` is not supported: kiln installs into an environment, never into "
                 "the user's site-packages",
                 "create a virtual environment with `kiln venv`, or install into a "
                 "directory with `--target DIR`")
        return 2
    from kiln.core.operations.environment import for_python

    env, target = for_python(
        _environment_to_change(args, ui), args.python_version, args.python_platform
    )
    settings = _settings(args)
    dry_run = args.dry_run or args.check
    # Requirements that are all met already need none of the machinery below.
    report = None if args.exact else audit(
        env, inputs, settings, dry_run=dry_run, target=target
    )
    if report is None:
        _warm_up(args)
        from kiln.core.operations.installing import install
        _imports_done()

        report = install(env, inputs, settings, _Progress(ui).events(), audited=True,
                         exact=args.exact, dry_run=dry_run, target=target)
    report.dry_run = dry_run
    code = _print_report(ui, report, args)
    _strict_after(args, ui, env, report)
    return code


def _sync(args: argparse.Namespace, ui: UI) -> int:
    lockfile = _lockfile(args.src_files, [args.constraints])
    if lockfile is not None:
        return _install_lockfile(args, ui, lockfile, exact=True)
    _warm_up(args)
    from kiln.core.operations.installing import sync
    _imports_done()

    if _extras_without_project(args, args.src_files, ui):
        return 2
    inputs = _inputs(
        (), args.src_files, (), args.constraints, no_sources=args.no_sources,
        no_sources_packages=args.no_sources_package, args=args,
    )
    if not inputs.requirements and not args.allow_empty_requirements:
        ui.warning("no requirements found, so nothing changes (pass "
                   "`--allow-empty-requirements` to uninstall every package)")
        return 0
    from kiln.core.operations.environment import for_python

    env, target = for_python(
        _environment_to_change(args, ui), args.python_version, args.python_platform
    )
    report = sync(env, inputs, _settings(args), _Progress(ui).events(),
                  dry_run=args.dry_run or args.check, target=target)
    code = _print_report(ui, report, args)
    _strict_after(args, ui, env, report)
    return code


def _uninstall(args: argparse.Namespace, ui: UI) -> int:
    import time

    from kiln.core.operations.uninstalling import uninstall_packages

    names = list(args.packages)
    if args.requirements:
        inputs = _inputs((), args.requirements)
        names += [spec.requirement.name for spec in inputs.requirements]
    if not names:
        ui.error("no packages given", "name the packages to uninstall, or pass `-r FILE`")
        return 2
    env = _environment_to_change(args, ui)
    started = time.monotonic()
    report = uninstall_packages(env, names, dry_run=args.dry_run)
    seconds = time.monotonic() - started
    for name in report.missing:
        ui.warning(f"Skipping `{name}`: it is not installed")
    if args.dry_run:
        if report.would_remove:
            ui.info(f"Would uninstall {_packages(len(report.would_remove))}")
        for dist in sorted(report.would_remove, key=lambda d: d.name):
            ui.info(f" - {dist.name}=={dist.version}")
        if not report.would_remove:
            ui.info("Would make no changes")
        return 0
    if not report.removed:
        ui.warning("No packages to uninstall")
        return 0
    ui.info(f"Uninstalled {_packages(len(report.removed))} in {elapsed(seconds)}")
    for removal in sorted(report.removed, key=lambda r: r.dist.name):
        ui.info(f" - {removal.dist.name}=={removal.dist.version}")
    return 0


def _compile_command(args: argparse.Namespace) -> str:
    """The header's command: ``--custom-compile-command``, ``KILN_CUSTOM_COMPILE_COMMAND``,
    else this command's own words (without credentials)."""
    import os

    from kiln.core.index.redaction import redact

    custom = args.custom_compile_command
    if custom is None:
        custom = os.environ.get("KILN_CUSTOM_COMPILE_COMMAND", "").strip() or None
    if custom is not None:
        return str(custom)
    words = ["kiln", "pip", "compile", *args.src_files]
    if args.output_file:
        words += ["-o", args.output_file]
    for flag in ("python_version", "python_platform", "index_url", "default_index",
                 "torch_backend", "format", "annotation_style"):
        value = getattr(args, flag)
        if value and not (flag == "annotation_style" and value == "split"):
            words += ["--" + flag.replace("_", "-"), redact(value)]
    for value in args.index:
        words += ["--index", redact(value)]
    for value in args.extra_index_url:
        words += ["--extra-index-url", redact(value)]
    for value in args.find_links:
        words += ["--find-links", redact(value)]
    for value in args.no_emit_package:
        words += ["--no-emit-package", value]
    for flag in ("extra", "group", "overrides", "excludes"):
        for value in getattr(args, flag):
            words += ["--" + flag, value]
    if args.resolution not in (None, "highest"):
        words += ["--resolution", args.resolution]
    if args.exclude_newer is not None:
        words += ["--exclude-newer", args.exclude_newer.key]
    if args.link_mode:
        words += ["--link-mode", args.link_mode]
    for flag in ("universal", "no_index", "no_header", "no_annotate", "no_deps",
                 "no_strip_extras", "no_strip_markers", "generate_hashes", "emit_index_url",
                 "emit_find_links", "emit_index_annotation", "all_extras", "system",
                 "emit_build_options"):
        if getattr(args, flag):
            words.append("--" + flag.replace("_", "-"))
    return " ".join(words)


def _build_option_lines(args: argparse.Namespace) -> tuple[str, ...]:
    """`--emit-build-options`: the `--no-binary`/`--only-binary` values given."""
    if not args.emit_build_options:
        return ()
    lines = []
    for flag in ("no_binary", "only_binary"):
        values = getattr(args, flag, None) or ()
        lines += [f"--{flag.replace('_', '-')} {value}" for value in values]
    return tuple(lines)


def _compile(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.requirements_output import output_format

    if args.python is not None and (args.python_version or args.python_platform):
        ui.error("`--python` cannot be combined with `--python-version` or `--python-platform`",
                 "`--python` resolves for that interpreter's own version and platform")
        return 2
    written = output_format(args.format, args.output_file)
    if written is None:
        ui.error(f"cannot tell which format to write `{args.output_file}` in",
                 "name a lock file `pylock.toml` or `pylock.<name>.toml`, or pass "
                 "`--format requirements.txt`")
        return 2
    if _extras_without_project(args, args.src_files, ui):
        return 2
    _warm_up(args)
    from kiln.core.operations.compiling import compile_requirements
    _imports_done()
    from packaging.utils import canonicalize_name

    from kiln.core.requirements_output import OutputOptions
    from kiln.core.resolver.environment import TargetEnvironment

    inputs = _inputs(
        (), args.src_files, (), args.constraints, no_sources=args.no_sources,
        no_sources_packages=args.no_sources_package, args=args,
    )
    if args.python is not None or (
        args.system and not (args.python_version or args.python_platform)
    ):
        from kiln.core.interpreter import find_interpreter
        from kiln.core.operations.environment import interpreter_target

        target = interpreter_target(find_interpreter(args.python))
    else:
        target = TargetEnvironment.for_target(args.python_version, args.python_platform)
    output = Path(args.output_file).absolute() if args.output_file else None
    options = OutputOptions(
        command=_compile_command(args),
        header=not args.no_header,
        annotate=not args.no_annotate,
        annotation_style=args.annotation_style,
        strip_extras=not args.no_strip_extras,
        strip_markers=not args.no_strip_markers,
        emit_index_url=args.emit_index_url,
        emit_find_links=args.emit_find_links,
        emit_index_annotation=args.emit_index_annotation,
        no_emit=frozenset(canonicalize_name(name) for name in args.no_emit_package),
        base=output.parent if output is not None else Path.cwd(),
        build_options=_build_option_lines(args),
    )
    result = compile_requirements(
        inputs, _settings(args), target=target, options=options,
        events=_Progress(ui).events(), universal=args.universal,
        generate_hashes=args.generate_hashes, pylock=written == "pylock.toml",
        existing=output,
    )
    for warning in result.resolution.warnings:
        ui.warning(warning)
    ui.info(f"Resolved {_packages(len(result.resolution.pins))} in {elapsed(result.seconds)}")
    if output is not None:
        _write_atomic(output, result.text)
    else:
        sys.stdout.flush()
        ui.out.write(result.text)
    return 0


def _write_atomic(path: Path, text: str) -> None:
    import os

    from kiln.core.fileio import write_atomic
    from kiln.errors import KilnError

    try:  # the platform's line endings, as a file opened in text mode writes them
        write_atomic(path.absolute(), text.replace("\n", os.linesep).encode("utf-8"))
    except OSError as exc:
        raise KilnError(f"cannot write `{path}`: {exc.strerror or exc}") from None


def _list(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.install.installed import installed_distributions
    from kiln.core.operations.listing import (
        excluding,
        freeze_line,
        list_columns,
        list_json,
        outdated,
    )

    if args.outdated and args.format == "freeze":
        ui.error("`--outdated` cannot be used with `--format freeze`",
                 "use `--format columns` or `--format json`")
        return 2
    env = _environment(args)
    dists = installed_distributions(env)
    if args.editable:
        dists = [d for d in dists if d.editable]
    if args.exclude_editable:
        dists = [d for d in dists if not d.editable]
    dists = excluding(dists, args.exclude)
    latest = None
    if args.outdated:
        latest = _latest(args, env, [d.name for d in dists])
        dists = outdated(dists, latest)
    if args.format == "json":
        ui.data(list_json(dists, latest))
    elif args.format == "freeze":
        for dist in dists:
            ui.data(freeze_line(dist))
    else:
        for line in list_columns(dists, latest):
            ui.data(line)
    _strict(args, ui, env)
    return 0


def _latest(
    args: argparse.Namespace, env: Environment, names: Sequence[str]
) -> dict[NormalizedName, Latest | None]:
    """The newest release of each package on the indexes of the command line."""
    if not names:
        return {}
    _warm_up(args)
    from kiln.core.operations.latest import latest_versions

    return latest_versions(env, names, _settings(args))


def _strict(
    args: argparse.Namespace, ui: UI, env: Environment,
    dists: Sequence[InstalledDistribution] | None = None,
) -> None:
    """With `--strict`, a warning for each unmet requirement of an installed package."""
    if not args.strict:
        return
    from kiln.core.operations.listing import check

    for problem in check(env, dists)[1]:
        ui.warning(problem.describe())


def _freeze(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.install.installed import distributions_in, installed_distributions
    from kiln.core.operations.listing import excluding, freeze_line

    env = _environment(args)
    if args.path:
        dists = distributions_in(path.absolute() for path in args.path)
    else:
        dists = installed_distributions(env)
    if args.exclude_editable:
        dists = [d for d in dists if not d.editable]
    for dist in excluding(dists, args.exclude):
        ui.data(freeze_line(dist))
    _strict(args, ui, env, dists if args.path else None)
    return 0


def _show(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.operations.listing import show

    env = _environment(args)
    shown, missing = show(env, args.packages, files=args.files)
    if missing:
        ui.warning("Package(s) not found for: " + ", ".join(f"`{m}`" for m in missing))
    for position, package in enumerate(shown):
        if position:
            ui.data("---")
        ui.data(f"Name: {package.name}")
        ui.data(f"Version: {package.version}")
        ui.data(f"Location: {package.location}")
        if package.editable_location:
            ui.data(f"Editable project location: {package.editable_location}")
        ui.data(f"Requires: {', '.join(package.requires)}".rstrip())
        ui.data(f"Required-by: {', '.join(package.required_by)}".rstrip())
        if package.files is not None:
            ui.data("Files:")
            for path in package.files:
                ui.data(f"  {path}")
    if not shown:
        return 1
    _strict(args, ui, env)
    return 0


def _check(args: argparse.Namespace, ui: UI) -> int:
    import time

    from kiln.core.operations.listing import check

    started = time.monotonic()
    env = _environment(args)
    markers = None
    if args.python_version or args.python_platform:
        from kiln.core.operations.environment import for_python

        markers = for_python(env, args.python_version, args.python_platform)[1].markers
    count, problems = check(env, markers=markers)
    ui.info(f"Checked {_packages(count)} in {elapsed(time.monotonic() - started)}")
    if not problems:
        ui.info("All installed packages are compatible")
        return 0
    ui.info(f"Found {len(problems)} incompatibilit{'y' if len(problems) == 1 else 'ies'}")
    for problem in problems:
        ui.data(problem.describe())
    return 1


def _tree(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.install.installed import installed_distributions
    from kiln.core.operations.listing import TreeOptions, tree

    env = _environment(args)
    options = TreeOptions(
        depth=args.depth,
        packages=args.package,
        prune=args.prune,
        invert=args.invert,
        no_dedupe=args.no_dedupe,
        show_version_specifiers=args.show_version_specifiers,
    )
    latest = None
    if args.outdated:
        latest = _latest(args, env, [d.name for d in installed_distributions(env)])
    for line in tree(env, options, latest):
        ui.data(line)
    _strict(args, ui, env)
    return 0
