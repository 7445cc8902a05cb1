"""`kiln init` for projects: plan every file in memory, then write them.

All checks (existing project, names, backend, workspace file, git) happen before the
first write, so a failure leaves the disk as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar

from kiln.errors import KilnError
from kiln.init import backends, names, vcs
from kiln.init.python import choose
from kiln.init.templates import (
    DEFAULT_DESCRIPTION,
    GITIGNORE,
    Author,
    Kind,
    PyprojectFields,
    pyproject,
    readme,
    source_files,
)

if TYPE_CHECKING:
    from kiln.project.pyproject import PyProject

_T = TypeVar("_T")
Vcs = Literal["git", "none"]
AuthorFrom = Literal["auto", "git", "none"]


class InitOptions(NamedTuple):
    """What the user asked for; `None` means "use the default for this kind"."""

    path: Path | None = None  # target directory; the working directory if None
    kind: Kind | None = None
    bare: bool = False
    name: str | None = None
    description: str | None = None
    no_description: bool = False  # leave `project.description` out
    readme: bool = True
    vcs: Vcs | None = None
    author_from: AuthorFrom | None = None
    python: str | None = None
    pin_python: bool | None = None
    workspace: bool = True
    build_backend: str | None = None


class InitResult:
    """What `kiln init` did; a plain class, since `files` grows while the files are written."""

    def __init__(
        self, name: str, path: Path, files: list[Path] | None = None, notes: list[str] | None = None
    ) -> None:
        self.name = name
        self.path = path
        self.files: list[Path] = [] if files is None else files  # what was written, in order
        self.notes: list[str] = [] if notes is None else notes  # workspace messages for the user


class _Plan:
    """Every file to write and every step to take, decided before the first write.

    A plain class: `files` is completed (`.gitignore`) once `git init` has run.
    """

    def __init__(
        self,
        target: Path,
        project: names.ProjectName,
        files: dict[str, str],
        git_init: bool,
        workspace_edit: tuple[Path, str] | None,
        notes: list[str],
    ) -> None:
        self.target = target
        self.project = project
        self.files = files
        self.git_init = git_init
        self.workspace_edit = workspace_edit
        self.notes = notes


def _resolve_kind(options: InitOptions) -> Kind:
    if options.build_backend is not None and options.kind is Kind.APP:
        raise KilnError(
            "`--app` makes a project without a build system, so `--build-backend` does not apply",
            hint="use `--package` or `--lib` to get a build system",
        )
    if options.kind is not None:
        return options.kind
    return Kind.PACKAGE if options.build_backend is not None else Kind.APP


def _project_name(options: InitOptions, target: Path) -> names.ProjectName:
    if options.name is not None:
        return names.from_option(options.name)
    return names.from_directory(target.name, explicit_path=options.path is not None)


def _authors(options: InitOptions, target: Path, packaged: bool) -> tuple[Author, ...]:
    source = options.author_from or ("auto" if packaged else "none")
    if source == "none":
        return ()
    author = vcs.author_from_git(target)
    return (author,) if author is not None else ()


def _wants_git(options: InitOptions, target: Path) -> bool:
    choice = options.vcs or ("none" if options.bare else None)
    if choice == "none":
        return False
    if not vcs.git_available():
        if choice == "git":
            raise KilnError("`--vcs git` needs `git`, which is not on PATH", hint="install git, or pass `--vcs none`")
        return False
    return not vcs.inside_work_tree(target)


def _plan(options: InitOptions) -> _Plan:
    target = Path(os.path.abspath(options.path or "."))  # also folds `.` and `..`
    if (target / "pyproject.toml").exists():
        raise KilnError(
            f"`{target}` already has a `pyproject.toml`",
            hint="pick another directory, or edit the existing project",
        )
    if target.exists() and not target.is_dir():
        raise KilnError(f"`{target}` exists and is not a directory")
    kind = _resolve_kind(options)
    project = _project_name(options, target)
    packaged = kind is not Kind.APP
    backend = backends.lookup(options.build_backend or backends.DEFAULT) if packaged else None
    if packaged:
        names.check_module(project)

    ws = _parent_workspace(target) if options.workspace else None
    python = choose(options.python, _requires_python(ws) if ws is not None else None)
    description = options.description
    if description is None and not options.bare and not options.no_description:
        description = DEFAULT_DESCRIPTION
    with_readme = options.readme and not options.bare
    fields = PyprojectFields(
        project=project,
        description=description,
        readme=with_readme,
        authors=_authors(options, target, packaged),
        requires_python=python.requires_python,
        scripts=kind is Kind.PACKAGE and not options.bare,
        typed=kind is Kind.LIB and not options.bare,
        backend=backend,
    )
    files: dict[str, str] = {}
    if not options.bare:
        files.update(source_files(project, kind, backend))
    files["pyproject.toml"] = pyproject(fields)
    if with_readme:
        files["README.md"] = readme(project)
    pin = options.pin_python if options.pin_python is not None else not options.bare
    if pin and python.pin is not None:
        files[".python-version"] = python.pin + "\n"

    notes: list[str] = []
    edit = None
    if ws is not None:
        from kiln.project.edit import with_workspace_member, workspace_table_for
        from kiln.project.workspace import Membership, membership

        table = ws.tool.workspace
        state = Membership.TO_ADD if table is None else membership(ws.directory, table, target)
        if state is Membership.EXCLUDED:
            notes.append(f"`{project.name}` is excluded from the workspace at `{ws.directory}`")
        elif state is Membership.ALREADY_MEMBER:
            notes.append(f"`{project.name}` is already a member of the workspace at `{ws.directory}`")
        else:
            member = target.relative_to(ws.directory).as_posix()
            edit = (ws.path, _with_hint(lambda: with_workspace_member(ws, member)))
            new = f" (a new `[{workspace_table_for(ws)}]` table)" if table is None else ""
            notes.append(
                f"added `{member}` to the members of the workspace at `{ws.directory}`{new}"
            )
    return _Plan(target, project, files, _wants_git(options, target), edit, notes)


_WORKSPACE_HINT = "fix the file, or pass `--no-workspace` to leave parent workspaces alone"


def _with_hint(action: Callable[[], _T]) -> _T:
    """``action()``; a failure to read the parent workspace gets a hint about `--no-workspace`."""
    try:
        return action()
    except KilnError as exc:
        raise KilnError(exc.message, hint=exc.hint or _WORKSPACE_HINT) from None


def _parent_workspace(target: Path) -> PyProject | None:
    """The root `pyproject.toml` of the workspace that the new project joins, if any."""
    from kiln.project.workspace import enclosing_root

    def find() -> PyProject | None:
        root = enclosing_root(target)
        if root is not None:
            _ = root.tool.workspace  # checked now, before anything is written
        return root

    return _with_hint(find)


def _requires_python(root: PyProject) -> str | None:
    """The root's `project.requires-python`, verbatim (an unreadable value is left to `choose`)."""
    project = root.data.get("project")
    value = project.get("requires-python") if isinstance(project, dict) else None
    return value if isinstance(value, str) else None


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def init_project(options: InitOptions) -> InitResult:
    plan = _plan(options)
    result = InitResult(plan.project.name, plan.target, notes=plan.notes)
    created = not plan.target.exists()
    try:
        plan.target.mkdir(parents=True, exist_ok=True)
        if plan.git_init:
            vcs.git_init(plan.target)
            plan.files.setdefault(".gitignore", GITIGNORE)
    except (KilnError, OSError) as exc:
        if created:
            shutil.rmtree(plan.target, ignore_errors=True)
        if isinstance(exc, KilnError):
            raise
        raise KilnError(f"cannot create `{plan.target}`: {exc.strerror}") from None
    try:
        for relative, content in plan.files.items():
            path = plan.target / relative
            if path.exists():  # never overwrite the user's files
                continue
            _write(path, content)
            result.files.append(path)
        if plan.workspace_edit is not None:
            _write(*plan.workspace_edit)
    except OSError as exc:
        raise KilnError(f"cannot write `{exc.filename}`: {exc.strerror}") from None
    return result
