"""Deciding, without a resolver, that a lock is still current.

``[tool.kiln]`` of a lock keeps *stamps* of everything the lock was made from:

* ``body-sha256``: the digest of the lock's text before ``[tool.kiln]``, so a hand-edited
  lock is noticed;
* ``files``: the sha256 of every input file below the workspace root (each member's
  ``pyproject.toml``, a path dependency's), and of a PEP 723 script's metadata block;
* ``globs``: each workspace ``members`` pattern with the directories it matched, so a new
  member directory is noticed;
* ``settings-sha256``: one digest of the options that change a resolution, the ``KILN_*``
  and ``PIP_*`` variables that choose indexes and the configuration files that may be read
  (``kiln.toml``/``uv.toml`` and pip's, which say where packages come from when kiln's
  settings do not), a digest only: no URL or path of them is written.

When every stamp still holds, the lock is current and nothing more is read. This module is
on the path of a ``kiln lock`` that has nothing to do, so it imports little; any doubt (a
stamp missing or different, a file that cannot be read) answers "not known to be current",
and the caller then compares the inputs themselves.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The version of the stamps' layout and of the lock's rendering; other values are not
#: trusted, so a lock that an older kiln wrote is written again. 2: `packages = []` is
#: written when nothing is locked (1 left the key out, which PEP 751 requires).
FORMAT = 2
#: Variables that change which indexes a resolution reads: kiln's, and pip's
#: (``kiln.core.index.pipconfig.VARIABLES`` and ``PIP_CONFIG_FILE``).
INDEX_VARIABLES = (
    "KILN_INDEX",
    "KILN_DEFAULT_INDEX",
    "KILN_INDEX_URL",
    "KILN_EXTRA_INDEX_URL",
    "KILN_FIND_LINKS",
    "KILN_INDEX_STRATEGY",
    "KILN_NO_CONFIG",
    "KILN_CONFIG_FILE",
    "KILN_TORCH_BACKEND",
    "KILN_TORCH_BACKEND_URL",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "PIP_CONFIG_FILE",
)
_TOOL_HEADER = "\n[tool.kiln]\n"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str | None:
    """The sha256 of the file at ``path``; None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def block_digest(path: Path) -> str | None:
    """The sha256 of the ``# /// script`` block of the PEP 723 script at ``path`` (its code
    may change without changing what its lock is made from); None when it cannot be read
    or has no single block."""
    from kiln.errors import KilnError
    from kiln.project.scriptblock import metadata_text

    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
        block = metadata_text(text.replace("\r\n", "\n"), path)
    except (OSError, UnicodeDecodeError, KilnError):
        return None
    return None if block is None else sha256_text(block)


def settings_digest(
    options: Mapping[str, Any],
    environ: Mapping[str, str],
    config_files: Iterable[Path],
) -> str:
    """One digest of ``options`` (plain values), the index variables of ``environ`` and the
    paths and contents of ``config_files``."""
    digest = hashlib.sha256()
    for key in sorted(options):
        digest.update(f"option\0{key}\0{options[key]!r}\0".encode())
    for name in INDEX_VARIABLES:
        if name in environ:
            digest.update(f"env\0{name}\0{environ[name]}\0".encode())
    for path in config_files:
        digest.update(f"config\0{path}\0{file_digest(path)}\0".encode())
    return digest.hexdigest()


def glob_matches(root: Path, pattern: str) -> list[str]:
    """The directories below ``root`` that ``pattern`` matches, relative, sorted."""
    parts = [p for p in pattern.replace("\\", "/").split("/") if p and p != "."]
    if not parts:
        return []
    found = []
    for path in root.glob("/".join(parts)):
        if path.is_dir():
            found.append(path.relative_to(root).as_posix())
    return sorted(found)


def make_stamps(
    root: Path,
    body: str,
    files: Sequence[Path],
    patterns: Sequence[str],
    settings: str,
    scripts: Sequence[Path] = (),
) -> dict[str, Any]:
    """The stamps of a lock whose body is ``body``, made from ``files`` and the metadata
    blocks of ``scripts`` (below ``root``)."""
    entries = []
    stamped = [(path, "sha256") for path in sorted(set(files) - set(scripts))]
    stamped += [(path, "block-sha256") for path in sorted(set(scripts))]
    for path, key in sorted(stamped):
        digest = file_digest(path) if key == "sha256" else block_digest(path)
        if digest is None:
            continue
        try:
            relative = path.relative_to(root).as_posix()
        except ValueError:
            continue  # outside the workspace: not stamped (the inputs are compared instead)
        entries.append({"path": relative, key: digest})
    return {
        "stamps": FORMAT,
        "body-sha256": sha256_text(body),
        "settings-sha256": settings,
        "files": entries,
        "globs": [{"pattern": p, "matches": glob_matches(root, p)} for p in patterns],
    }


def read_tool_table(text: str) -> dict[str, Any] | None:
    """``[tool.kiln]`` of a lock's text, parsed alone (it is the last table kiln writes);
    None when there is none or it does not parse."""
    position = text.rfind(_TOOL_HEADER)
    if position < 0:
        return None
    tail = text[position + 1 :]
    try:
        if sys.version_info >= (3, 11):
            import tomllib

            data = tomllib.loads(tail)
        else:  # pragma: no cover - Python 3.10
            import tomlkit

            data = tomlkit.parse(tail).unwrap()
    except Exception:  # any parse error: not trusted
        return None
    tool = data.get("tool", {}).get("kiln")
    return tool if isinstance(tool, dict) else None


def body_of(text: str) -> str:
    position = text.rfind(_TOOL_HEADER)
    return text if position < 0 else text[: position + 1]


def current(root: Path, text: str, tool: Mapping[str, Any], settings: str) -> bool:
    """Whether the lock ``text`` (of the workspace at ``root``), whose ``[tool.kiln]`` is
    ``tool`` (from :func:`read_tool_table`), is known to be current: every stamp holds for
    ``settings`` (from :func:`settings_digest`)."""
    if tool.get("stamps") != FORMAT:
        return False
    if tool.get("settings-sha256") != settings:
        return False
    if tool.get("body-sha256") != sha256_text(body_of(text)):
        return False
    files = tool.get("files")
    globs = tool.get("globs")
    if not isinstance(files, list) or not isinstance(globs, list) or not files:
        return False
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            return False
        relative = entry["path"]
        if relative.startswith("/") or ".." in relative.split("/"):
            return False
        if "block-sha256" in entry:
            if block_digest(root / relative) != entry["block-sha256"]:
                return False
        elif file_digest(root / relative) != entry.get("sha256"):
            return False
    for entry in globs:
        if not isinstance(entry, dict) or not isinstance(entry.get("pattern"), str):
            return False
        if glob_matches(root, entry["pattern"]) != entry.get("matches"):
            return False
    return True


def find_locked_root(start: Path, lockfile: str) -> tuple[Path, str] | None:
    """The nearest directory at or above ``start`` that holds ``lockfile`` beside a
    ``pyproject.toml``, with the path (relative to it) of the ``pyproject.toml`` nearest to
    ``start``, which the lock must stamp to be the one ``start`` belongs to; None when there
    is none (the caller then discovers the workspace)."""
    nearest: Path | None = None
    for directory in (start, *start.parents):
        if nearest is None and os.path.isfile(directory / "pyproject.toml"):
            nearest = directory
        if nearest is not None and os.path.isfile(directory / lockfile):
            if not os.path.isfile(directory / "pyproject.toml"):
                return None
            return directory, (nearest / "pyproject.toml").relative_to(directory).as_posix()
    return None


def stamped(tool: Mapping[str, Any], relative: str) -> bool:
    """Whether the ``[tool.kiln]`` table ``tool`` stamps the file ``relative`` (to the
    lock's root)."""
    files = tool.get("files")
    return isinstance(files, list) and any(
        isinstance(entry, dict) and entry.get("path") == relative for entry in files
    )
