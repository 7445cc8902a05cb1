"""Entry point: the top-level parser and dispatch to command modules.

Each command lives in ``kiln.cli.commands.<name>`` and exposes ``NAME``, ``HELP``,
``configure(parser)`` and ``run(args, ui) -> int``. Command modules import their
heavy dependencies inside ``run`` so that ``kiln --version`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol

from kiln import __version__
from kiln.cli.globalopts import VALUE_OPTIONS, add_global_options, merge_global_options
from kiln.cli.parser import Parser
from kiln.cli.ui import UI
from kiln.errors import KilnError

# Order here is the order shown in `kiln --help`.
COMMANDS: tuple[str, ...] = (
    "init", "lock", "sync", "build", "publish", "venv", "pip", "cache", "completion",
)


class CommandModule(Protocol):
    NAME: str
    HELP: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, ui: UI) -> int: ...


def _load(name: str) -> CommandModule | None:
    try:
        module = importlib.import_module(f"kiln.cli.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"kiln.cli.commands.{name}":
            return None  # not implemented yet
        raise
    return module  # type: ignore[return-value,unused-ignore]


def build_parser(only: str | None = None) -> Parser:
    """The whole command line; with ``only``, just that command (a run of ``only`` needs no
    other: the command name is known to be valid)."""
    parser = Parser(
        prog="kiln",
        description="kiln: build, publish and install Python packages.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"kiln {__version__}")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        module = _load(name)
        if module is None:
            continue
        command_parser = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        add_global_options(command_parser, suppress=True)
        module.configure(command_parser)
        command_parser.set_defaults(_module=module)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, when it names one: its first word that is neither a global
    option nor the value of one."""
    words = iter(argv)
    for word in words:
        if word in VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
        elif word == "--":
            return None
    return None


#: The variables through which global options reach the whole process (and what it runs).
_SET_HERE = ("NO_COLOR", "KILN_CACHE_DIR", "KILN_SYSTEM_CERTS", "KILN_INSECURE_HOST")


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_command_named(words))
    try:
        args = parser.parse(words)
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exc.code or 0)
    merge_global_options(args)
    ui = UI(verbosity=args.verbose - args.quiet, colour=args.color, progress=not args.no_progress)
    module: CommandModule | None = getattr(args, "_module", None)
    if module is None:
        parser.print_help(sys.stderr)
        return 2
    saved = {name: os.environ.get(name) for name in _SET_HERE}
    temporary_cache = None
    try:
        if args.color == "never":
            os.environ["NO_COLOR"] = "1"  # for what kiln runs, too (build backends, git)
        if args.cache_dir:
            os.environ["KILN_CACHE_DIR"] = os.path.abspath(args.cache_dir)
        if args.no_cache:  # everything cached goes to a directory removed below
            import tempfile

            temporary_cache = tempfile.mkdtemp(prefix="kiln-no-cache-")
            os.environ["KILN_CACHE_DIR"] = temporary_cache
        if args.system_certs:
            os.environ["KILN_SYSTEM_CERTS"] = "1"
        if args.allow_insecure_host:
            os.environ["KILN_INSECURE_HOST"] = " ".join(args.allow_insecure_host)
        if args.directory:
            try:
                os.chdir(args.directory)
            except OSError as exc:
                ui.error(f"cannot change to directory `{args.directory}`: {exc.strerror}")
                return 2
        cert: str | None = getattr(args, "cert", None)  # `kiln pip --cert FILE`, from `--directory`
        if cert is not None:
            if not os.path.isfile(cert):
                ui.error(
                    f"`--cert`: `{cert}` is not a file",
                    "name a PEM file of CA certificates",
                )
                return 2
            from kiln.core.index.tls import use_cert_file

            use_cert_file(os.path.abspath(cert))
        return _run(module, args, ui)
    finally:
        if getattr(args, "cert", None) is not None:
            from kiln.core.index.tls import use_cert_file

            use_cert_file(None)
        if temporary_cache is not None:
            import shutil

            shutil.rmtree(temporary_cache, ignore_errors=True)
        for name, value in saved.items():  # a caller in this process gets them back
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run(module: CommandModule, args: argparse.Namespace, ui: UI) -> int:
    try:
        return module.run(args, ui)
    except KilnError as exc:
        ui.error(exc.message, exc.hint)
        return 1
    except KeyboardInterrupt:
        ui.error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`kiln pip freeze | head -1`): stop quietly, as a failure.
        _discard_stdout()
        return 1


def _discard_stdout() -> None:
    """Point standard output at the null device, so that flushing what is still buffered
    for a reader that has gone away raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def entry_point() -> NoReturn:
    """The ``kiln`` command (and ``python -m kiln``): :func:`main`, then the end of the
    process without tearing the interpreter down."""
    finish(main())


def finish(code: int) -> NoReturn:
    """Exit with ``code`` once the output is flushed, skipping the interpreter's teardown.

    A run that read many index pages leaves hundreds of thousands of objects, and freeing
    them one by one at exit costs tens of milliseconds for nothing: the operating system
    takes the memory back at once. Every file and directory is closed by then. The normal
    exit is kept when another thread that is not a daemon still runs, or when a tracer
    (coverage) may want to write its data at exit. Daemon threads (the certificate loader)
    are dropped either way; tearing the interpreter down while one is inside OpenSSL can
    crash it.
    """
    import threading

    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away before the last lines
        _discard_stdout()
        code = code or 1
    except (OSError, ValueError):  # let the normal exit report it
        sys.exit(code)
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if any(not t.daemon for t in others) or sys.gettrace() is not None or "coverage" in sys.modules:
        sys.exit(code)
    os._exit(code)
