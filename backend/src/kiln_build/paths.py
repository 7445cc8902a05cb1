"""Paths the backend reads: every one must stay inside the project, through links too.

The rule (documented in docs/src/guide/backend.md, "What the backend refuses"):

- a path from ``pyproject.toml`` is relative to the project directory and ``..`` may not
  lead out of it;
- a symbolic link whose target is inside the project is followed: a link to a file is
  packaged as a regular file with the target's content (as uv_build does), a link to a
  directory is walked like a directory;
- a link whose target is outside the project, a broken link and a link loop are errors
  naming the link, so nothing outside the project is ever read or walked.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from pathlib import Path, PureWindowsPath

from kiln_build.errors import BuildBackendError

#: Longest part of a file name quoted in a message.
_SHOWN = 80


def display(name: str) -> str:
    """``name`` fit for a message: bytes that are not UTF-8 as ``\\xNN``, long names cut."""
    shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 1] + "…"


def is_utf8(name: str) -> bool:
    """False for names holding bytes that are not UTF-8 (decoded as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_name(rel: str) -> None:
    """Refuse a file name an archive cannot hold (members are named in UTF-8)."""
    if not is_utf8(rel):
        raise BuildBackendError(
            f"`{display(rel)}`: the file name is not valid UTF-8",
            hint="rename the file; names inside sdists and wheels are UTF-8",
        )


def os_error(rel: str, exc: OSError, action: str = "read") -> BuildBackendError:
    """A one-line error naming the project-relative path ``rel`` and what is wrong."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ELOOP:
        reason = "too many levels of symbolic links (a link loop?)"
    elif exc.errno == errno.ENAMETOOLONG:
        reason = "the file name is too long"
    return BuildBackendError(f"cannot {action} `{display(rel or '.')}`: {reason}")


def is_absolute(value: str) -> bool:
    return value.startswith(("/", "\\")) or bool(PureWindowsPath(value).drive)


def relative(project_root: Path, value: str, key: str, what: str) -> str:
    """``value`` (a path read from ``key``) as a normalised project-relative POSIX path.

    An absolute path is accepted when it points into the project (uv_build does so for
    ``module-root`` and the data directories); ``..`` may not lead out of the project.
    """
    if "\0" in value:
        raise BuildBackendError(f"`pyproject.toml`: `{key}` contains a NUL character")
    if is_absolute(value):
        try:
            value = Path(value).relative_to(project_root).as_posix()
        except ValueError:
            raise BuildBackendError(
                f"`pyproject.toml`: `{key}` is an absolute path outside the project: `{value}`",
                hint=f"give {what} as a path relative to the project directory",
            ) from None
    normal = posixpath.normpath(value.replace("\\", "/")) if value else "."
    if normal == ".." or normal.startswith("../"):
        raise BuildBackendError(
            f"`pyproject.toml`: `{key}` must be inside the project, but `{value}` leads out of it",
            hint=f"{what} is resolved relative to the directory holding pyproject.toml",
        )
    return "" if normal == "." else normal


def strictly_relative(value: str, key: str, what: str) -> str:
    """A path the packaging standard defines as relative (``readme``, ``license.file``)."""
    if "\0" in value:
        raise BuildBackendError(f"`pyproject.toml`: `{key}` contains a NUL character")
    if is_absolute(value):
        raise BuildBackendError(
            f"`pyproject.toml`: `{key}` must be a path relative to the project directory, "
            f"not the absolute path `{value}`",
            hint=f"move {what} into the project and name it relative to pyproject.toml",
        )
    normal = posixpath.normpath(value.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        raise BuildBackendError(
            f"`pyproject.toml`: `{key}` must be inside the project, but `{value}` leads out of it",
            hint=f"move {what} into the project",
        )
    return normal


class Root:
    """The project directory, with its real (link-free) path for containment checks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.real = os.path.realpath(path)
        self._prefix = self.real.rstrip(os.sep) + os.sep

    def contains(self, real: str) -> bool:
        return real == self.real or real.startswith(self._prefix)

    def check_link(self, path: str, rel: str, key: str | None = None) -> None:
        """Refuse the link at ``path`` unless it leads to an existing file inside the project."""
        try:
            target = os.readlink(path)
        except OSError as exc:
            raise os_error(rel, exc) from None
        named = f" (named by `{key}` in `pyproject.toml`)" if key else ""
        if not self.contains(os.path.realpath(path)):
            raise BuildBackendError(
                f"`{display(rel)}` is a symbolic link to `{display(target)}`, "
                f"outside the project{named}",
                hint="kiln_build packages only files inside the project; "
                "copy what it points to into the project, or remove the link",
            )
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise BuildBackendError(
                    f"`{display(rel)}` is a symbolic link loop{named}",
                    hint="remove the link or point it at a file",
                ) from None
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise BuildBackendError(
                    f"`{display(rel)}` is a broken symbolic link to `{display(target)}`{named}",
                    hint="remove the link or create its target",
                ) from None
            raise os_error(rel, exc) from None

    def resolve(self, rel: str, key: str | None = None) -> str:
        """The path of project-relative ``rel``, after checking every link on the way.

        A component that does not exist ends the check (the caller reports a missing
        file in its own words); any other error of the file system is reported here.
        """
        current = str(self.path)
        if not rel:
            return current
        parts = rel.split("/")
        for depth, part in enumerate(parts, 1):
            current = os.path.join(current, part)
            try:
                info = os.lstat(current)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                    return os.path.join(str(self.path), *parts)
                raise os_error("/".join(parts[:depth]), exc) from None
            if stat.S_ISLNK(info.st_mode):
                self.check_link(current, "/".join(parts[:depth]), key)
        return current

