"""`kiln pip`: a pip-compatible interface (install, uninstall, compile, sync, list, ...)."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cli.options import index_options as _index_options
from kiln.cli.ui import UI, elapsed
from kiln.cli.ui import packages as _packages

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from kiln.core.install.environment import Environment
    from kiln.core.install.installed import InstalledDistribution
    from kiln.core.install.linking import LinkMode
    from kiln.core.operations.auditing import InstallReport
    from kiln.core.operations.listing import Latest
    from kiln.core.operations.options import Events, Settings
    from kiln.core.requirements_file import RequirementsInput
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

    sub = parser.add_subparsers(dest="pip_command", metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=text, description=text)
        add_global_options(child, suppress=True)
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
    install.add_argument("-U", "--upgrade", action="store_true",
                         help="ignore installed versions and pick the newest allowed")
    install.add_argument("-P", "--upgrade-package", action="append", default=[],
                         metavar="PACKAGE", help="like `--upgrade`, for this package only")
    install.add_argument("--no-deps", action="store_true",
                         help="install the requirements only, not their dependencies")
    _install_options(install)
    _index_options(install, torch=True)
    _target_options(install)

    uninstall = command("uninstall", "uninstall packages from an environment")
    uninstall.add_argument("packages", nargs="*", metavar="PACKAGE",
                           help="the names of the packages to uninstall")
    uninstall.add_argument("-r", "--requirements", action="append", default=[], metavar="FILE",
                           help="uninstall the packages named in FILE")
    _target_options(uninstall)

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
    _compile_output_options(compile_)
    _index_options(compile_, torch=True)

    sync = command("sync", "make an environment contain exactly the given requirements")
    sync.add_argument("src_files", nargs="+", metavar="SRC_FILE",
                      help="pinned requirement files (e.g. from `kiln pip compile`)")
    sync.add_argument("-c", "--constraints", action="append", default=[], metavar="FILE")
    _install_options(sync)
    _index_options(sync, torch=True)
    _target_options(sync)

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
    _target_options(listing)

    freeze = command("freeze", "list installed packages as requirements")
    freeze.add_argument("--exclude-editable", action="store_true",
                        help="leave out editable installs")
    _exclude_option(freeze)
    freeze.add_argument("--path", action="append", default=[], metavar="DIR", type=Path,
                        help="list the packages installed in DIR (a `site-packages` "
                        "directory) instead of the environment's (repeatable)")
    _strict_option(freeze)
    _target_options(freeze)

    show = command("show", "show details of installed packages")
    show.add_argument("packages", nargs="+", metavar="PACKAGE",
                      help="the names of the installed packages to show")
    show.add_argument("-f", "--files", action="store_true",
                      help="list the files of each package (from its `RECORD`)")
    _strict_option(show)
    _target_options(show)

    check = command("check", "check that installed packages have compatible dependencies")
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
    _target_options(tree)

    from kiln.cli.commands import pip_download

    pip_download.configure(command)


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
    """Collect cycles less often: reading index pages creates hundreds of thousands of
    long-lived objects, and the default thresholds re-scan them again and again (about a
    quarter of the parsing time). Objects alive now (modules, classes) are set aside."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


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
    from kiln.core.operations.environment import find_environment

    return find_environment(args.python, system=args.system)


def _environment_to_change(args: argparse.Namespace, ui: UI) -> Environment:
    """The environment a command will change, named on stderr unless it is `./.venv`."""
    env = _environment(args)
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
    from kiln.core.index.clientoptions import ClientOptions
    from kiln.core.index.locations import IndexOptions
    from kiln.core.operations.options import Settings
    from kiln.project.indexes import find_configured_pyproject

    return Settings(
        index=IndexOptions(
            index=tuple(args.index),
            default_index=args.default_index,
            index_url=args.index_url,
            extra_index_url=tuple(args.extra_index_url),
            find_links=tuple(args.find_links),
            no_index=args.no_index,
            strategy=args.index_strategy,
            torch_backend=getattr(args, "torch_backend", None),
        ),
        client=ClientOptions(
            offline=args.offline, refresh=getattr(args, "refresh", False), no_cache=args.no_cache
        ),
        prerelease=getattr(args, "prerelease", "if-necessary"),
        upgrade=getattr(args, "upgrade", False),
        upgrade_packages=frozenset(getattr(args, "upgrade_package", ())),
        reinstall=getattr(args, "reinstall", False),
        reinstall_packages=frozenset(getattr(args, "reinstall_package", ())),
        no_deps=getattr(args, "no_deps", False),
        require_hashes=getattr(args, "require_hashes", False),
        link_mode=_link_mode(args),
        compile_bytecode=getattr(args, "compile_bytecode", False),
        project=find_configured_pyproject(project_dir(args)),
        config_file=args.config_file,
        no_config=args.no_config,
    )


def _link_mode(args: argparse.Namespace) -> LinkMode:
    import os

    from kiln.core.install.linking import choose_link_mode

    if not hasattr(args, "link_mode"):  # a command that installs nothing
        return "hardlink"
    return choose_link_mode(args.link_mode, os.environ)


def _inputs(
    packages: Sequence[str],
    files: Sequence[str],
    editables: Sequence[str] = (),
    constraints: Sequence[str] = (),
    *,
    no_sources: bool = False,
) -> RequirementsInput:
    from kiln.core.requirements_file import (
        RequirementsInput,
        parse_requirement,
        read_requirements,
    )

    inputs = RequirementsInput()
    for text in packages:
        inputs.requirements.append(parse_requirement(text))
    for path in editables:
        inputs.requirements.append(parse_requirement(path, editable=True))
    for file in files:
        inputs.merge(read_requirements(Path(file), no_sources=no_sources))
    for file in constraints:
        inputs.merge(read_requirements(Path(file), constraints=True))
    return inputs


class _Progress:
    """Download and build progress on stderr; a self-rewriting line on a terminal."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        self.tty = ui.progress
        self.lock = threading.Lock()

    def events(self) -> Events:
        from kiln.core.operations.options import Events

        return Events(downloaded=self.downloaded, building=self.building)

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


def _print_report(ui: UI, report: InstallReport) -> None:
    if report.audited is not None:
        ui.info(f"Audited {_packages(report.audited)} in {elapsed(0)}")
        return
    for warning in report.resolution.warnings if report.resolution is not None else ():
        ui.warning(warning)
    ui.info(f"Resolved {_packages(report.resolved)} in {elapsed(report.resolve_seconds)}")
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
    changes = [(c.name.lower(), "-", c) for c in report.uninstalled]
    changes += [(c.name.lower(), "+", c) for c in report.installed]
    for _key, sign, change in sorted(changes, key=lambda item: (item[0], item[1] == "+")):
        ui.info(f" {sign} {change.name}=={change.version}")


# -- commands -------------------------------------------------------------------------------


def _warm_up(args: argparse.Namespace) -> None:
    """Let the trusted certificates load in the background while the command imports the
    rest of its code, unless no index will be asked."""
    if not (args.offline or args.no_index):
        from kiln.core.index.tls import warm_up_tls

        warm_up_tls()


def _install(args: argparse.Namespace, ui: UI) -> int:
    from kiln.core.operations.auditing import audit

    inputs = _inputs(
        args.packages, args.requirements, args.editable, args.constraints,
        no_sources=args.no_sources,
    )
    if not inputs.requirements:
        ui.error("no requirements given",
                 "name packages, or pass `-r requirements.txt` or `-e PATH`")
        return 2
    env = _environment_to_change(args, ui)
    settings = _settings(args)
    # Requirements that are all met already need none of the machinery below.
    report = audit(env, inputs, settings)
    if report is None:
        _warm_up(args)
        from kiln.core.operations.installing import install
        _imports_done()

        report = install(env, inputs, settings, _Progress(ui).events(), audited=True)
    _print_report(ui, report)
    return 0


def _sync(args: argparse.Namespace, ui: UI) -> int:
    _warm_up(args)
    from kiln.core.operations.installing import sync
    _imports_done()

    inputs = _inputs((), args.src_files, (), args.constraints, no_sources=args.no_sources)
    env = _environment_to_change(args, ui)
    report = sync(env, inputs, _settings(args), _Progress(ui).events())
    _print_report(ui, report)
    return 0


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
    report = uninstall_packages(env, names)
    seconds = time.monotonic() - started
    for name in report.missing:
        ui.warning(f"Skipping `{name}`: it is not installed")
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
    for flag in ("universal", "no_index", "no_header", "no_annotate", "no_deps",
                 "no_strip_extras", "no_strip_markers", "generate_hashes", "emit_index_url",
                 "emit_find_links", "emit_index_annotation"):
        if getattr(args, flag):
            words.append("--" + flag.replace("_", "-"))
    return " ".join(words)


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
    if written == "pylock.toml":
        ui.error("`kiln pip compile` cannot write `pylock.toml` yet",
                 "write a requirements file: pass `--format requirements.txt`, or an "
                 "output file not named `pylock*.toml`")
        return 2
    _warm_up(args)
    from kiln.core.operations.compiling import compile_requirements
    _imports_done()
    from packaging.utils import canonicalize_name

    from kiln.core.requirements_output import OutputOptions
    from kiln.core.resolver.environment import TargetEnvironment

    inputs = _inputs((), args.src_files, (), args.constraints, no_sources=args.no_sources)
    if args.python is not None:
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
    )
    result = compile_requirements(
        inputs, _settings(args), target=target, options=options,
        events=_Progress(ui).events(), universal=args.universal,
        generate_hashes=args.generate_hashes,
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
    count, problems = check(_environment(args))
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
