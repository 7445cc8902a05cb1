"""Which files go into the sdist and the wheel, and under which archive names."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from kiln_build import globs
from kiln_build.errors import BuildBackendError
from kiln_build.gitignore import GitIgnore
from kiln_build.metadata import CoreMetadata
from kiln_build.modules import Layout
from kiln_build.paths import Root, check_name, os_error, relative
from kiln_build.pyproject import PYPROJECT, Project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

DEFAULT_EXCLUDES = ("__pycache__", "*.pyc", "*.pyo")
#: Root files the sdist writes itself; copies in the tree (say, of an unpacked sdist
#: being rebuilt) are never packaged, so the archive holds each name once.
GENERATED = (PYPROJECT, "pyproject.toml.orig", "PKG-INFO")
WALK_WARNING_LIMIT = 10_000


_EXEC_BITS = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


class Member:
    """A file to write: its name inside the archive and where its bytes come from."""

    __slots__ = ("arcname", "executable", "source")

    def __init__(self, arcname: str, source: str, executable: bool) -> None:
        self.arcname = arcname
        self.source = source
        self.executable = executable

    def __repr__(self) -> str:
        return f"Member({self.arcname!r}, {self.source!r}, {self.executable!r})"


def is_executable(path: str | Path) -> bool:
    try:
        return bool(os.stat(path).st_mode & _EXEC_BITS)
    except OSError:
        return False


class Excludes:
    """Default excludes plus user patterns plus, optionally, ``.gitignore``."""

    def __init__(self, patterns: Sequence[str], defaults: bool, gitignore: GitIgnore | None):
        self.defaults = defaults
        self.user = globs.exclude_matcher(patterns) if patterns else None
        self.gitignore = gitignore

    def excluded(self, rel: str, is_dir: bool) -> bool:
        name = rel.rsplit("/", 1)[-1]
        if self.defaults and (
            name == "__pycache__" or (not is_dir and name.endswith((".pyc", ".pyo")))
        ):
            return True
        if self.user is not None:
            if is_dir:
                if self.user.matches_dir(rel):
                    return True
            elif self.user.matches(rel):
                return True
        return self.gitignore is not None and self.gitignore.ignored(rel, is_dir)


def _check_venv(directory: str, rel: str) -> None:
    if os.path.isfile(os.path.join(directory, "pyvenv.cfg")):
        raise BuildBackendError(
            f"`{rel}` is a virtual environment and must not be packaged",
            hint=f"move it out of the project, or add `/{rel}` to `source-exclude`",
        )


def walk(
    tree: Root,
    start: str,
    descend: Callable[[str], bool],
    excludes: Excludes,
    keep: Callable[[str], bool] | None = None,
    *,
    key: str | None = None,
    check_venv: bool = True,
) -> Iterator[tuple[str, str, bool]]:
    """Yield ``(project-relative path, path, executable)`` for files below ``start``.

    Depth-first, children sorted by name bytes, excluded directories pruned. ``keep``
    says whether a file is wanted; only wanted files are checked and read. A symbolic
    link is followed only when its target is inside the project (a linked directory
    is walked like any other, but never back into one of its ancestors); any other link that would be packaged is an error naming it,
    so a link to ``/`` never makes the walk leave the project. ``key`` names the
    ``pyproject.toml`` key that ``start`` comes from, for errors.
    """
    top = tree.resolve(start, key)

    def visit(
        directory: str, rel: str, ancestors: frozenset[tuple[int, int]]
    ) -> Iterator[tuple[str, str, bool]]:
        try:
            info = os.stat(directory)
        except OSError as exc:
            raise os_error(rel, exc) from None
        identity = (info.st_dev, info.st_ino)
        if identity in ancestors:
            return  # a link back up the tree: walking it would never end
        ancestors = ancestors | {identity}
        if rel and check_venv:
            _check_venv(directory, rel)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: os.fsencode(e.name))
        except OSError as exc:
            raise os_error(rel, exc) from None
        for entry in entries:
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            path = entry.path
            link = entry.is_symlink()
            if _is(entry.is_dir, child_rel, link):
                if (
                    entry.name == ".git"
                    or excludes.excluded(child_rel, True)
                    or not descend(child_rel)
                ):
                    continue
                if link:
                    tree.check_link(path, child_rel)
                yield from visit(path, child_rel, ancestors)
            elif excludes.excluded(child_rel, False) or (keep is not None and not keep(child_rel)):
                continue
            elif _is(entry.is_file, child_rel, link):
                if link:
                    tree.check_link(path, child_rel)
                check_name(child_rel)
                try:
                    mode = entry.stat().st_mode
                except OSError as exc:
                    raise os_error(child_rel, exc) from None
                yield child_rel, path, bool(mode & _EXEC_BITS)
            elif link:
                tree.check_link(path, child_rel)  # broken, or a loop: always an error

    if os.path.isdir(top):
        yield from visit(top, start, frozenset())
    elif os.path.isfile(top) and not excludes.excluded(start, False):
        check_name(start)
        yield start, top, is_executable(top)


def _is(test: Callable[[], bool], rel: str, link: bool) -> bool:
    """``entry.is_dir()`` or ``entry.is_file()``; a link that cannot be followed (a loop)
    is neither, so the walk reports it as a link."""
    try:
        return test()
    except OSError as exc:
        if link:
            return False
        raise os_error(rel, exc) from None


def _data_dirs(project: Project) -> list[tuple[str, str]]:
    result = []
    for category, directory in project.settings.data.items():
        key = project.settings.key(f"data.{category}")
        rel = relative(project.root, directory, key, f"the `{category}` data directory")
        result.append((category, rel))
    return result


def sdist_members(project: Project, layout: Layout, meta: CoreMetadata) -> list[Member]:
    """Files of the sdist (besides PKG-INFO and pyproject.toml), relative to its top directory."""
    settings = project.settings
    for pattern in settings.source_include:
        globs.validate(pattern, settings.key("source-include"))
    for pattern in settings.source_exclude:
        globs.validate(pattern, settings.key("source-exclude"))

    include_globs: list[str] = list(settings.source_include)
    literals: set[str] = set()
    for module in layout.modules:
        rel = layout.module_rel(module)
        if module.single_file:
            literals.add(rel)
        else:
            literals.add(rel)  # a bare directory: everything below it
    for _, directory in _data_dirs(project):
        literals.add(directory)
    always: set[str] = set(meta.license_files)
    if meta.readme:
        always.add(os.path.normpath(meta.readme).replace(os.sep, "/"))
    if meta.legacy_license_file:
        always.add(os.path.normpath(meta.legacy_license_file).replace(os.sep, "/"))
    literals |= always

    includes = globs.include_matcher(include_globs) if include_globs else None
    exclude_patterns = list(settings.source_exclude)
    excludes = Excludes(
        exclude_patterns,
        settings.default_excludes,
        GitIgnore(project.tree) if settings.respect_gitignore else None,
    )
    user_excludes = Excludes(exclude_patterns, settings.default_excludes, None)
    if user_excludes.excluded(PYPROJECT, False):
        raise BuildBackendError(
            f"`pyproject.toml`: `{settings.key('source-exclude')}` excludes `pyproject.toml`, "
            "which every source distribution needs",
            hint="narrow the pattern, e.g. anchor it with a leading `/`",
        )

    def included(rel: str) -> bool:
        if rel in literals or any(rel.startswith(lit + "/") for lit in literals):
            return True
        return includes is not None and includes.matches(rel)

    def descend(rel: str) -> bool:
        prefix = rel + "/"
        for lit in literals:
            if lit.startswith(prefix) or rel == lit or rel.startswith(lit + "/"):
                return True
        return includes is not None and includes.may_contain(rel)

    class SdistExcludes(Excludes):
        def excluded(self, rel: str, is_dir: bool) -> bool:
            if not is_dir and rel in always:
                return user_excludes.excluded(rel, is_dir)
            return excludes.excluded(rel, is_dir)

    count = 0

    def keep(rel: str) -> bool:
        nonlocal count
        count += 1
        return rel not in GENERATED and included(rel)

    members = [
        Member(rel, path, executable)
        for rel, path, executable in walk(
            project.tree, "", descend, SdistExcludes([], False, None), keep
        )
    ]
    _warn_if_many(count, "source distribution")
    return members


def _warn_if_many(count: int, what: str) -> None:
    if count > WALK_WARNING_LIMIT:
        from kiln_build.diagnostics import warn

        warn(
            f"more than {WALK_WARNING_LIMIT:,} files were visited for the {what}; "
            "consider narrower includes or more excludes"
        )


def wheel_excludes(project: Project) -> Excludes:
    settings = project.settings
    for key, patterns in (
        ("wheel-exclude", settings.wheel_exclude),
        ("source-exclude", settings.source_exclude),
    ):
        for pattern in patterns:
            globs.validate(pattern, settings.key(key))
    return Excludes(
        [*settings.source_exclude, *settings.wheel_exclude],
        settings.default_excludes,
        GitIgnore(project.tree) if settings.respect_gitignore else None,
    )


def module_members(project: Project, layout: Layout, excludes: Excludes) -> list[Member]:
    """Module files, named relative to the module root."""
    members: list[Member] = []
    strip = len(layout.root_rel) + 1 if layout.root_rel else 0
    for module in layout.modules:
        start = layout.module_rel(module)
        if not os.path.exists(project.tree.resolve(start)):
            raise BuildBackendError(
                f"the module `{'.'.join(module.parts)}` does not exist at `{start}`",
                hint="create it, or fix `module-name` / `module-root`",
            )
        for rel, source, executable in walk(project.tree, start, lambda _rel: True, excludes):
            members.append(Member(rel[strip:], source, executable))
    _warn_if_many(len(members), "wheel")
    return members


def license_members(project: Project, meta: CoreMetadata) -> list[Member]:
    prefix = f"{meta.stem}.dist-info/licenses/"
    members = []
    for rel in meta.license_files:
        source = project.tree.resolve(rel, "project.license-files")
        check_name(rel)
        members.append(Member(prefix + rel, source, False))
    return members


def data_members(project: Project, meta: CoreMetadata, excludes: Excludes) -> list[Member]:
    members: list[Member] = []
    for category, rel_dir in _data_dirs(project):
        key = project.settings.key(f"data.{category}")
        if not os.path.isdir(project.tree.resolve(rel_dir, key)):
            raise BuildBackendError(
                f"`pyproject.toml`: `{key}` names `{rel_dir}`, which is not a directory",
                hint="create the directory or remove the key",
            )
        prefix = f"{meta.stem}.data/{category}/"
        strip = len(rel_dir) + 1
        for rel, source, executable in walk(
            project.tree, rel_dir, lambda _rel: True, excludes, key=key
        ):
            members.append(Member(prefix + rel[strip:], source, executable))
    return members
