"""Workspaces: a root ``pyproject.toml`` with ``[tool.kiln.workspace]`` (else
``[tool.uv.workspace]``) and the member projects its ``members`` globs match.

Finding the project and its workspace from a directory (the rules of uv's workspace discovery):

1. The project is the nearest ``pyproject.toml`` at or above the directory. There is no
   ``.git`` boundary: the walk goes up to the file system root.
2. If that file has a workspace table, it is the workspace root (and a member itself when it
   has a ``[project]`` table; without one it is a *virtual* root).
3. Otherwise it must have a ``[project]`` table. Its workspace root is the nearest ancestor
   whose ``pyproject.toml`` has a workspace table, if the project is matched by that table's
   ``members`` and not by its ``exclude``; the walk stops at the first workspace table found,
   so a project that this table does not list is a project on its own.
4. A project on its own is a workspace of one (:attr:`Workspace.explicit` is false).
5. ``managed = false`` takes a project out of workspaces: it is never a member, and
   discovery from inside it finds no workspace.

Members are the root (when it has ``[project]``) plus every directory that a ``members`` glob
matches and no ``exclude`` glob matches. Each must hold a ``pyproject.toml`` with a
``[project]`` name (hidden directories without one are passed over), and no two members may
have the same name.
"""

from __future__ import annotations

import enum
import fnmatch
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.lockfile import LOCKFILE
from kiln.errors import KilnError
from kiln.project.pyproject import FILENAME, PyProject, load_pyproject, read_pyproject
from kiln.project.script import Script, load_script
from kiln.project.settings import WorkspaceTable


class Member(NamedTuple):
    """One project of a workspace."""

    name: str
    path: Path
    pyproject: PyProject

    @property
    def normalized_name(self) -> NormalizedName:
        return canonicalize_name(self.name)

    @property
    def buildable(self) -> bool:
        """Whether it is a package (built and installed) rather than virtual."""
        return self.pyproject.is_package


class Workspace:
    """A workspace root and its members (a lone project is a workspace of one).

    A plain class, not a record: :attr:`requires_python` is computed once and kept. Nothing
    compares workspaces, so two are equal only when they are the same object.
    """

    def __init__(
        self,
        root: Path,
        pyproject: PyProject,
        members: tuple[Member, ...],
        table: WorkspaceTable | None = None,
    ) -> None:
        self.root = root
        #: The root's ``pyproject.toml``.
        self.pyproject = pyproject
        #: Sorted by normalised name.
        self.members = members
        #: The workspace table; None for a project on its own.
        self.table = table

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    @property
    def explicit(self) -> bool:
        """Whether a workspace table declares it (not a lone project)."""
        return self.table is not None

    @property
    def script(self) -> Script | None:
        """The PEP 723 script this workspace stands for (see :func:`script_project`)."""
        return self.pyproject if isinstance(self.pyproject, Script) else None

    @property
    def lockfile(self) -> Path:
        script = self.script
        return self.root / (script.lock_name if script is not None else LOCKFILE)

    def find(self, name: str) -> Member:
        """The member called ``name`` (compared after normalisation)."""
        wanted = canonicalize_name(name)
        for member in self.members:
            if member.normalized_name == wanted:
                return member
        known = ", ".join(f"`{m.name}`" for m in self.members) or "none"
        raise KilnError(
            f"package `{name}` is not a member of the workspace at `{self.root}`",
            hint=f"members: {known}",
        )

    def member_at(self, directory: Path) -> Member | None:
        directory = directory.resolve()
        for member in self.members:
            if member.path == directory:
                return member
        return None

    @property
    def member_paths(self) -> dict[str, Path]:
        """Member name -> directory (what ``workspace = true`` sources lower to)."""
        return {member.name: member.path for member in self.members}

    @cached_property
    def requires_python(self) -> SpecifierSet | None:
        """The intersection of the members' ``requires-python`` (a script's own); None when
        none sets one."""
        found: SpecifierSet | None = None
        roots = () if self.pyproject.has_project else (self.pyproject,)  # a member below
        for pyproject in (*roots, *(member.pyproject for member in self.members)):
            specifier = pyproject.requires_python
            if specifier is not None:
                found = specifier if found is None else found & specifier
        return found

    def buildable_member(self, name: str) -> Member:
        """``--package NAME``: the member, which must be a package."""
        member = self.find(name)
        if not member.buildable:
            raise not_a_package(member.pyproject, member.name)
        return member

    def buildable_members(self) -> tuple[Member, ...]:
        """``--all-packages``: every member that is a package (virtual ones are skipped)."""
        found = tuple(member for member in self.members if member.buildable)
        if not found:
            raise KilnError(
                f"the workspace at `{self.root}` has no buildable packages",
                hint="members need a `[build-system]` table",
            )
        return found


def not_a_package(pyproject: PyProject, name: str) -> KilnError:
    """The error for building a project that is virtual."""
    if pyproject.tool.package is False:
        return KilnError(
            f"package `{name}` is not a package: `{pyproject.tool.key('package')} = false` in "
            f"`{pyproject.path}`",
            hint="remove `package = false` to build it",
        )
    return KilnError(
        f"package `{name}` has no `[build-system]` in `{pyproject.path}`",
        hint='add `[build-system]` with `requires = ["kiln-build>=0.1,<0.2"]` and '
        '`build-backend = "kiln_build"`',
    )


class Project(NamedTuple):
    """What a project command acts on: the project found from a directory, in its workspace."""

    workspace: Workspace
    #: The project at or above the directory; None at the root of a virtual workspace.
    member: Member | None

    @property
    def root(self) -> Path:
        return self.workspace.root


# -- discovery ----------------------------------------------------------------------------------


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    start = start.absolute()
    for directory in (start, *start.parents):
        candidate = directory / FILENAME
        if candidate.is_file():
            return candidate
    return None


def discover(start: Path) -> Project:
    """The project at or above ``start`` and its workspace (see the module docstring)."""
    nearest = find_pyproject(start)
    if nearest is None:
        raise KilnError(
            f"no `{FILENAME}` found in `{start.absolute()}` or any parent directory",
            hint="create a project with `kiln init`",
        )
    pyproject = load_pyproject(nearest)
    if not pyproject.tool.managed:
        raise KilnError(
            f"the project at `{pyproject.directory}` is not managed by kiln: "
            f"`{pyproject.tool.key('managed')} = false` in `{pyproject.path}`",
        )
    if pyproject.tool.workspace is None and not pyproject.has_project:
        raise KilnError(
            f"`{pyproject.path}` has no `[project]` table",
            hint="a project needs `[project]` with a `name`; a workspace root needs "
            "`[tool.kiln.workspace]`",
        )
    workspace = _workspace_of(pyproject) or _alone(pyproject)
    member = workspace.member_at(pyproject.directory) if pyproject.has_project else None
    return Project(workspace, member)


def script_project(path: Path) -> Project:
    """The PEP 723 script at ``path`` as a project: the virtual root of a workspace without
    members, in the script's directory, locked into ``pylock.<stem>.toml`` there."""
    script = load_script(path)
    return Project(Workspace(script.directory, script, ()), None)


def find_workspace(start: Path) -> Workspace | None:
    """The workspace (declared by a workspace table) that the project at or above ``start``
    belongs to; None when there is none (no project, a project on its own, ``managed =
    false``)."""
    nearest = find_pyproject(start)
    if nearest is None:
        return None
    pyproject = load_pyproject(nearest)
    if not pyproject.tool.managed:
        return None
    if pyproject.tool.workspace is None and not pyproject.has_project:
        return None
    return _workspace_of(pyproject)


def _workspace_of(pyproject: PyProject) -> Workspace | None:
    """The explicit workspace of ``pyproject``, a root or a listed project."""
    table = pyproject.tool.workspace
    if table is not None:
        return _collect(pyproject, table)
    directory = pyproject.directory.resolve()
    for parent in directory.parents:
        candidate = read_pyproject(parent)
        if candidate is None:
            continue
        table = candidate.tool.workspace
        if table is None:
            continue
        if membership(parent, table, directory) is not Membership.ALREADY_MEMBER:
            return None  # uv's rule: the first workspace above decides
        return _collect(candidate, table)
    return None


def _alone(pyproject: PyProject) -> Workspace:
    directory = pyproject.directory.resolve()
    name = pyproject.name
    assert name is not None
    return Workspace(directory, pyproject, (Member(name, directory, pyproject),))


def _collect(root_pyproject: PyProject, table: WorkspaceTable) -> Workspace:
    root = root_pyproject.directory.resolve()
    members: dict[Path, Member] = {}
    names: dict[NormalizedName, Member] = {}

    def add(member: Member) -> None:
        other = names.get(member.normalized_name)
        if other is not None:
            raise KilnError(
                f"two members of the workspace at `{root}` are called `{member.name}`: "
                f"`{other.path}` and `{member.path}`",
                hint=f"rename one, or leave one out with `{table.key}.exclude`",
            )
        names[member.normalized_name] = members[member.path] = member

    if root_pyproject.has_project and root_pyproject.tool.managed:
        name = root_pyproject.name
        assert name is not None
        add(Member(name, root, root_pyproject))
    for pattern in table.members:
        for candidate in sorted(_expand(root, pattern)):
            relative = candidate.relative_to(root).as_posix()
            if not candidate.is_dir() or any(glob_match(p, relative) for p in table.exclude):
                continue
            directory = candidate.resolve()
            if directory in members or directory == root:
                continue
            if not directory.is_relative_to(root):
                raise KilnError(
                    f"workspace member `{relative}` (matched by `{pattern}`) is outside the "
                    f"workspace root `{root}`",
                    hint=f"fix `{table.key}.members` in `{root_pyproject.path}`",
                )
            pyproject = read_pyproject(directory)
            if pyproject is None:
                if candidate.name.startswith("."):
                    continue
                raise KilnError(
                    f"workspace member `{relative}` has no `pyproject.toml`",
                    hint=f"fix `members` in `{root_pyproject.path}` or add an `exclude`",
                )
            if not pyproject.tool.managed:
                continue
            if not pyproject.has_project:
                raise KilnError(
                    f"workspace member `{relative}` has no `[project]` table in `{pyproject.path}`",
                    hint=f"give it a `[project]` table, or fix `members` in "
                    f"`{root_pyproject.path}` or add an `exclude`",
                )
            name = pyproject.name
            assert name is not None
            add(Member(name, directory, pyproject))
    ordered = sorted(members.values(), key=lambda m: m.normalized_name)
    return Workspace(root, root_pyproject, tuple(ordered), table)


def _expand(root: Path, pattern: str) -> list[Path]:
    parts = [p for p in PurePosixPath(pattern.replace("\\", "/")).parts if p != "."]
    if not parts:
        return []
    return list(root.glob("/".join(parts)))


# -- globs and membership -----------------------------------------------------------------------


class Membership(enum.Enum):
    ALREADY_MEMBER = "member"
    EXCLUDED = "excluded"
    TO_ADD = "add"


def glob_match(pattern: str, path: str) -> bool:
    """Match a relative POSIX path against a members glob (`*`, `?`, `[...]`, `**`)."""
    pattern_parts = [p for p in PurePosixPath(pattern).parts if p != "."]
    path_parts = [p for p in PurePosixPath(path).parts if p != "."]
    return _match_parts(pattern_parts, path_parts)


def _match_parts(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_parts(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _match_parts(rest, path[1:])


def membership(root: Path, table: WorkspaceTable, directory: Path) -> Membership:
    """Whether ``directory`` (below ``root``) is listed by ``table``: ``exclude`` wins."""
    relative = directory.relative_to(root).as_posix()
    if any(glob_match(p, relative) for p in table.exclude):
        return Membership.EXCLUDED
    if any(glob_match(p, relative) for p in table.members):
        return Membership.ALREADY_MEMBER
    return Membership.TO_ADD


def enclosing_root(target: Path) -> PyProject | None:
    """The workspace root that a new project at ``target`` (absolute) would join, by uv's
    rules for ``init``:

    - the nearest ``pyproject.toml`` above ``target`` with a workspace table is the root;
    - the nearest one with a ``[project]`` table and no workspace table is the root too (a
      project on its own, which gets a workspace table), unless the first workspace table
      above it lists it as a member: then that table's file is the root (a project made
      inside a member joins the member's workspace, not the member);
    - a project with ``managed = false`` stops the search (no workspace);
    - files with neither table (tool settings only) are passed over.

    Members are not read.
    """
    project: PyProject | None = None
    for directory in target.parents:
        pyproject = read_pyproject(directory)
        if pyproject is None or (pyproject.tool.workspace is None and not pyproject.has_project):
            continue
        if not pyproject.tool.managed:
            return project
        table = pyproject.tool.workspace
        if table is not None:
            if project is None:
                return pyproject
            if membership(directory, table, project.directory) is Membership.ALREADY_MEMBER:
                return pyproject
            return project
        if project is not None:
            return project
        project = pyproject
    return project


# -- choosing members to build ------------------------------------------------------------------


class Selection(NamedTuple):
    workspace: Workspace
    members: tuple[Member, ...]


def select_members(start: Path, package: str | None = None) -> Selection:
    """The members that ``kiln build --package NAME`` (or, with ``package`` None,
    ``--all-packages``) builds, from the workspace of ``start``. It must be a declared
    workspace: a lone project has none."""
    flag = "--package" if package is not None else "--all-packages"
    workspace = find_workspace(start)
    if workspace is None:
        raise KilnError(
            f"`{flag}` was given, but `{start}` is not in a workspace",
            hint="declare members in `[tool.kiln.workspace]` of the root `pyproject.toml`",
        )
    if package is not None:
        return Selection(workspace, (workspace.buildable_member(package),))
    return Selection(workspace, workspace.buildable_members())

