"""The versions an earlier lock pins, tried first by the next resolution so that a relock
changes only what it must: from ``pylock.toml``, or, for a project moving from uv, from
``uv.lock`` (read only; kiln never writes it)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

#: uv's lockfile, beside the workspace root's ``pyproject.toml``.
UV_LOCK = "uv.lock"

Preferences = dict[NormalizedName, set[Version]]


def from_document(document: Mapping[str, Any]) -> Preferences:
    """The versions of the ``[[packages]]`` of a (parsed) ``pylock.toml``."""
    return _collect(document.get("packages"), "version")


def from_uv_lock(path: Path) -> Preferences:
    """The versions of the ``[[package]]`` entries of ``uv.lock`` that come from an index;
    an unreadable file gives none (it only guides the resolution)."""
    from kiln.errors import KilnError
    from kiln.project.toml import load_toml

    try:
        data = load_toml(path)
    except KilnError:
        return {}
    packages = data.get("package")
    if not isinstance(packages, list):
        return {}
    registry = [
        p for p in packages
        if isinstance(p, dict) and isinstance(p.get("source"), dict) and "registry" in p["source"]
    ]
    return _collect(registry, "version")


#: A git source as a lock records it: (repository URL, requested revision, subdirectory).
GitKey = tuple[str, "str | None", "str | None"]


def locked_commits(document: Mapping[str, Any]) -> dict[GitKey, str]:
    """The commit each ``vcs`` entry of a (parsed) ``pylock.toml`` pins, by its source."""
    found: dict[GitKey, str] = {}
    packages = document.get("packages")
    for package in packages if isinstance(packages, list) else ():
        vcs = package.get("vcs") if isinstance(package, dict) else None
        if not isinstance(vcs, dict) or vcs.get("type") != "git":
            continue
        url, commit = vcs.get("url"), vcs.get("commit-id")
        revision, subdirectory = vcs.get("requested-revision"), vcs.get("subdirectory")
        if (
            isinstance(url, str) and isinstance(commit, str)
            and isinstance(revision, (str, type(None)))
            and isinstance(subdirectory, (str, type(None)))
        ):
            found[(git_url(url), revision, subdirectory)] = commit
    return found


def git_url(url: str) -> str:
    """A repository URL compared without ``git+`` and a trailing ``/``."""
    return url.removeprefix("git+").rstrip("/")


def without(preferences: Preferences, names: Collection[str]) -> Preferences:
    """``preferences`` less the packages ``names`` (``--upgrade-package``)."""
    dropped = {canonicalize_name(name) for name in names}
    return {name: versions for name, versions in preferences.items() if name not in dropped}


def _collect(packages: object, key: str) -> Preferences:
    found: Preferences = {}
    if not isinstance(packages, list):
        return found
    for package in packages:
        if not isinstance(package, dict):
            continue
        name, version = package.get("name"), package.get(key)
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        found.setdefault(canonicalize_name(name), set()).add(parsed)
    return found
