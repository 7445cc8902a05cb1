"""Git: is the target inside a work tree, `git init`, and the author from git config."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from kiln.errors import KilnError
from kiln.init.templates import Author


def _existing(path: Path) -> Path:
    """The nearest directory that exists: git runs there before the target is created."""
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str] | None:
    git = shutil.which("git")
    if git is None:
        return None
    env = {**os.environ, "LC_ALL": "C"}
    try:
        return subprocess.run(
            [git, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except OSError:
        return None


def git_available() -> bool:
    return shutil.which("git") is not None


def inside_work_tree(path: Path) -> bool:
    result = _git(["rev-parse", "--is-inside-work-tree"], _existing(path))
    return result is not None and result.returncode == 0 and result.stdout.strip() == "true"


def git_init(path: Path) -> None:
    result = _git(["init", "--quiet"], path)
    if result is None:
        raise KilnError("cannot run `git`", hint="install git, or pass `--vcs none`")
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = f": {detail[-1]}" if detail else ""
        raise KilnError(f"`git init` failed in `{path}`{reason}", hint="pass `--vcs none` to skip git")


def author_from_git(path: Path) -> Author | None:
    """`user.name` and `user.email` as git sees them from the target directory."""
    values: list[str | None] = []
    for key in ("user.name", "user.email"):
        result = _git(["config", "--get", key], _existing(path))
        value = result.stdout.strip() if result is not None and result.returncode == 0 else ""
        values.append(value or None)
    name, email = values
    if name is None and email is None:
        return None
    return Author(name, email)
