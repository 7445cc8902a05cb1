"""`kiln init`: create a project (app, package, library, bare) or a PEP 723 script."""

from __future__ import annotations

import argparse

from kiln.cli.ui import UI

NAME = "init"
HELP = "create a new project or script"

_KINDS = ("app", "package", "lib")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", metavar="PATH",
        help="directory to create the project in (default: the working directory); the file with `--script`",
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--app", dest="kind", action="store_const", const="app",
                      help="an application: a flat `main.py`, no build system (the default)")
    kind.add_argument("--package", dest="kind", action="store_const", const="package",
                      help="a packaged application: src layout, a build system and a console script")
    kind.add_argument("--lib", dest="kind", action="store_const", const="lib",
                      help="a library: src layout, a build system, `py.typed` and `hello()`")
    kind.add_argument("--script", dest="kind", action="store_const", const="script",
                      help="a PEP 723 script at PATH (created, or given inline metadata)")
    parser.add_argument("--no-package", action="store_true",
                        help="no build system: the flat `main.py` application (the default kind); "
                             "cannot be combined with `--package`, `--lib` or `--build-backend`")
    parser.add_argument("--bare", action="store_true",
                        help="write only `pyproject.toml`: no sources, README, `.python-version` or git")
    parser.add_argument("--name", help="project name (default: the directory name)")
    parser.add_argument("--description", metavar="TEXT", help="`project.description`")
    parser.add_argument("--no-description", dest="description", action="store_const", const=False,
                        help="leave `project.description` out (the last of this and "
                             "`--description` wins)")
    parser.add_argument("--no-readme", action="store_true", help="do not create `README.md`")
    parser.add_argument("--vcs", choices=("git", "none"),
                        help="initialise version control (default: git, unless inside a git work tree)")
    parser.add_argument("--author-from", choices=("auto", "git", "none"),
                        help="where `authors` comes from (default: git for packaged projects)")
    parser.add_argument("-p", "--python", metavar="VERSION",
                        help="Python version (`3.12`) or range (`>=3.10`) for `requires-python`")
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument("--pin-python", dest="pin_python", action="store_const", const=True,
                     help="write `.python-version` (the default unless `--bare`)")
    pin.add_argument("--no-pin-python", dest="pin_python", action="store_const", const=False,
                     help="do not write `.python-version`")
    parser.add_argument("--no-workspace", action="store_true",
                        help="do not add the project to an enclosing workspace")
    parser.add_argument("--build-backend", metavar="BACKEND",
                        help="kiln (default), uv, hatchling, flit-core, pdm-backend, setuptools, "
                             "poetry-core, maturin or scikit-build-core; implies `--package`")


def _run_script(args: argparse.Namespace, ui: UI) -> int:
    from pathlib import Path

    from kiln.init.script import init_script

    conflicts = [
        flag for flag, given in (
            ("--name", args.name is not None),
            ("--description", isinstance(args.description, str)),
            ("--no-description", args.description is False),
            ("--vcs", args.vcs is not None),
            ("--build-backend", args.build_backend is not None),
        ) if given
    ]
    if conflicts:
        ui.error(f"`--script` cannot be combined with `{conflicts[0]}`",
                 hint="a script has no project metadata of its own")
        return 2
    if args.path is None:
        ui.error("`--script` needs the path of the script", hint="for example `kiln init --script main.py`")
        return 2
    for flag, given in (("--no-readme", args.no_readme), ("--author-from", args.author_from is not None),
                        ("--no-workspace", args.no_workspace), ("--no-package", args.no_package)):
        if given:
            ui.warning(f"`{flag}` has no effect on a script")
    result = init_script(Path(args.path), python=args.python, bare=args.bare)
    for warning in result.warnings:
        ui.warning(warning)
    verb = "Created script" if result.created else "Added inline metadata to"
    ui.info(f"{verb} `{args.path}`")
    return 0


def run(args: argparse.Namespace, ui: UI) -> int:
    if args.kind == "script":
        return _run_script(args, ui)

    from pathlib import Path

    from kiln.init.project import InitOptions, init_project
    from kiln.init.templates import Kind

    if args.no_package:
        for flag, given in (("--package", args.kind == "package"), ("--lib", args.kind == "lib"),
                            ("--build-backend", args.build_backend is not None)):
            if given:
                ui.error(f"`--no-package` cannot be combined with `{flag}`",
                         hint="a project without a build system is the flat `main.py` application")
                return 2
    options = InitOptions(
        path=Path(args.path) if args.path is not None else None,
        kind=Kind.APP if args.no_package else Kind(args.kind) if args.kind in _KINDS else None,
        bare=args.bare,
        name=args.name,
        description=args.description if isinstance(args.description, str) else None,
        no_description=args.description is False,
        readme=not args.no_readme,
        vcs=args.vcs,
        author_from=args.author_from,
        python=args.python,
        pin_python=args.pin_python,
        workspace=not args.no_workspace,
        build_backend=args.build_backend,
    )
    result = init_project(options)
    for note in result.notes:
        ui.info(note)
    where = f" at `{result.path}`" if args.path is not None else ""
    ui.info(f"Initialized project `{result.name}`{where}")
    return 0
