"""What the last ``kiln sync`` left in an environment, to recognise a sync with nothing to do.

After a sync, ``<venv>/.kiln-sync.json`` keeps a *key* (one digest of the lock's text, the
options that choose what is installed, the project the command ran in and the interpreter)
and what the sync left installed: each ``.dist-info`` directory (by its path in the
environment) with the modification time of its ``RECORD`` (written last by every install),
and the source trees of the directory entries. The next sync with the same key has nothing
to do when every one of those ``RECORD`` files is still there, unchanged, no source tree's
``pyproject.toml`` (or ``setup.py``, ``setup.cfg``) is newer than its install, and (exact
syncs) no other distribution was installed beside them. A missing, different or unreadable record only means
the full path runs.

A new environment has no record. For it, the cache keeps what a sync installed (the *plan*,
:func:`remember_plan`) under a key made of the sync's key and the interpreter's marker values
and wheel tags, which with the lock's text are everything a lock's selection depends on. When
that plan holds only index wheels that the download cache still has intact, a sync into a
new environment installs them without reading the project or the lock again.

The environment such a sync made is kept too, as a snapshot
(:mod:`kiln.core.install.snapshot`, :func:`remember_snapshot`) under a key of the plan's
key, the environment's path, its interpreter and the code that lays environments out: a
later sync into a new environment at the same place restores it by linking, without the
installer.

This module is on the path of a ``kiln sync`` that has nothing to do: it imports little.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from kiln.core.install.snapshot import Snapshot

#: The record's name inside the environment.
RECORD_NAME = ".kiln-sync.json"
#: The version of the record's layout; other values are not trusted.
FORMAT = 2
#: The files whose change makes a directory entry be built and installed again (uv's
#: default ``cache-keys``).
CACHE_KEYS = ("pyproject.toml", "setup.py", "setup.cfg")


def sync_key(lock_text: str, options: Mapping[str, object], project: str, python: str) -> str:
    """The key of a sync: the lock's text, the selecting ``options`` (plain values), the
    project the command runs in (relative to the workspace root) and the interpreter."""
    digest = hashlib.sha256()
    digest.update(lock_text.encode("utf-8"))
    for name in sorted(options):
        digest.update(f"\0{name}\0{options[name]!r}".encode())
    digest.update(f"\0project\0{project}\0python\0{python}".encode())
    return digest.hexdigest()


def site_folders(purelib: Path, platlib: Path) -> list[Path]:
    return list(dict.fromkeys((purelib, platlib)))


def write_record(
    prefix: Path,
    key: str,
    folders: Sequence[Path],
    names: Iterable[str],
    *,
    exact: bool,
    kept: Iterable[str],
    trees: Mapping[str, Path],
) -> None:
    """Record, after a sync with ``key``, the installed distributions called ``names``
    (normalised), the names left alone (``kept``) and the source trees of directory
    entries (by name), in the environment at ``prefix`` whose site-packages are ``folders``.
    Best effort: a record that cannot be written costs a full check."""
    from kiln.core.fileio import write_atomic

    wanted = set(names)
    installed = []
    for folder in folders:
        for entry, name in _dist_infos(folder):
            if name in wanted:
                record = folder / entry / "RECORD"
                try:
                    mtime = record.stat().st_mtime_ns
                except OSError:
                    return
                installed.append([os.path.relpath(folder, prefix), entry, mtime])
    data = {
        "format": FORMAT,
        "key": key,
        "exact": exact,
        "installed": installed,
        "kept": sorted(set(kept)),
        "trees": {name: str(path) for name, path in sorted(trees.items())},
    }
    with contextlib.suppress(OSError):
        write_atomic(prefix / RECORD_NAME, json.dumps(data, indent=1).encode("utf-8"))


def nothing_to_do(prefix: Path, key: str, folders: Sequence[Path]) -> int | None:
    """How many distributions a sync with ``key`` would audit, when it would change
    nothing according to the record; None when the record does not say so."""
    try:
        with open(prefix / RECORD_NAME, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    try:
        installed = [
            (os.path.normpath(os.path.join(prefix, str(f))), str(e), int(m))
            for f, e, m in data["installed"]
        ]
        kept = set(data["kept"])
        trees = {str(name): Path(path) for name, path in data["trees"].items()}
        exact = bool(data["exact"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    recorded_at: dict[str, int] = {}
    for folder, entry, mtime in installed:
        try:
            if os.stat(os.path.join(folder, entry, "RECORD")).st_mtime_ns != mtime:
                return None
        except OSError:
            return None
        recorded_at[_name_of(entry)] = mtime
    for name, tree in trees.items():
        installed_at = recorded_at.get(name)
        if installed_at is None or tree_changed_since(tree, installed_at):
            return None
    if exact:
        expected = {(folder, entry) for folder, entry, _ in installed}
        for site in folders:
            for entry, name in _dist_infos(site):
                if (os.path.normpath(site), entry) not in expected and name not in kept:
                    return None
    return len(installed)


def tree_changed_since(tree: Path, installed_at: int) -> bool:
    """Whether a file of :data:`CACHE_KEYS` in the source ``tree`` changed after
    ``installed_at`` (nanoseconds since the epoch): its install is out of date."""
    for name in CACHE_KEYS:
        try:
            if os.stat(tree / name).st_mtime_ns > installed_at:
                return True
        except OSError:
            continue
    return False


def _dist_infos(folder: Path) -> list[tuple[str, str]]:
    """The ``.dist-info`` directories of ``folder`` with their normalised names."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    return [(entry, _name_of(entry)) for entry in entries if entry.endswith(".dist-info")]


def _name_of(entry: str) -> str:
    """The normalised name of a ``name-version.dist-info`` directory."""
    import re

    name = entry[: -len(".dist-info")].rpartition("-")[0] or entry[: -len(".dist-info")]
    return re.sub(r"[-_.]+", "-", name).lower()


# -- what a sync installs, remembered for a new environment ---------------------------------

#: The cache bucket of remembered plans (:func:`remember_plan`).
PLANS_BUCKET = "sync-plans-v1"


class PlannedWheel(NamedTuple):
    """One wheel of a remembered plan: a file of an index, which the download cache holds
    under its URL and sha256."""

    name: str
    version: str
    url: str
    filename: str
    sha256: str
    requested: bool


class RememberedPlan(NamedTuple):
    wheels: list[PlannedWheel]
    #: The names the sync left alone (``--no-install-package`` and the like).
    kept: list[str]


def plan_key(sync: str, markers: Mapping[str, str], tags: str) -> str:
    """The key of what a sync installs into a new environment: the sync's key (see
    :func:`sync_key`; its interpreter part is left empty) with the marker values and the
    wheel tags of the interpreter, which are all a lock's selection reads of it."""
    digest = hashlib.sha256(f"plan\0{sync}\0".encode())
    digest.update(json.dumps(dict(markers), sort_keys=True).encode())
    digest.update(f"\0{tags}".encode())
    return digest.hexdigest()


def remember_plan(cache: Path, key: str, plan: RememberedPlan) -> None:
    """Keep ``plan`` (what a sync with ``key`` installed into an environment) in the cache.
    Best effort: a plan that cannot be written costs the next new environment the full
    path."""
    data = {"wheels": [wheel._asdict() for wheel in plan.wheels], "kept": sorted(plan.kept)}
    _keep(cache / PLANS_BUCKET, key, data)


def recall_plan(cache: Path, key: str) -> RememberedPlan | None:
    """The plan remembered under ``key``; None when there is none or it cannot be read."""
    data = _kept(cache / PLANS_BUCKET, key)
    if data is None:
        return None
    try:
        wheels = [
            PlannedWheel(
                str(w["name"]), str(w["version"]), str(w["url"]), str(w["filename"]),
                str(w["sha256"]), bool(w["requested"]),
            )
            for w in data["wheels"]
        ]
        kept = [str(name) for name in data["kept"]]
    except (KeyError, TypeError, AttributeError):
        return None
    return RememberedPlan(wheels, kept)


# -- the environment a sync made, kept for a new environment at the same place ------------

#: The cache bucket of snapshots of new environments (:func:`remember_snapshot`).
SNAPSHOTS_BUCKET = "sync-snapshots-v1"
#: The modules whose code decides what a new environment holds: its layout and activation
#: scripts, what the installer writes beside the linked files, and the snapshot's own form.
SNAPSHOT_CODE = (
    "kiln.core.venv", "kiln.core.activation", "kiln.core.install.environment",
    "kiln.core.install.installer", "kiln.core.install.scripts", "kiln.core.install.record",
    "kiln.core.install.snapshot",
)


def snapshot_key(plan: str, prefix: Path, interpreter: Mapping[str, object]) -> str | None:
    """The key of the snapshot of a new environment at ``prefix`` filled by the plan with the
    key ``plan`` (see :func:`plan_key`): with ``interpreter``, what the environment's
    layout reads of its base interpreter, and the code of :data:`SNAPSHOT_CODE`. None when
    that code cannot be read (then no snapshot is kept)."""
    from kiln.core.codekey import code_key

    code = code_key(SNAPSHOT_CODE)
    if code is None:
        return None
    digest = hashlib.sha256(f"snapshot\0{plan}\0{code}\0".encode())
    digest.update(os.fsencode(os.path.abspath(prefix)))
    digest.update(b"\0" + json.dumps(interpreter, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def remember_snapshot(cache: Path, key: str, snapshot: Snapshot) -> None:
    """Keep ``snapshot`` in the cache under ``key``. Best effort, as :func:`remember_plan`."""
    _keep(cache / SNAPSHOTS_BUCKET, key, snapshot.to_json())


def recall_snapshot(cache: Path, key: str) -> Snapshot | None:
    """The snapshot kept under ``key``; None when there is none or it cannot be read."""
    from kiln.core.install.snapshot import Snapshot

    data = _kept(cache / SNAPSHOTS_BUCKET, key)
    return Snapshot.from_json(data) if data is not None else None


def _keep(bucket: Path, key: str, data: Mapping[str, object]) -> None:
    """Write ``data`` (with :data:`FORMAT`) as the entry ``key`` of the cache's ``bucket``;
    best effort."""
    from kiln.core.fileio import write_atomic

    with contextlib.suppress(OSError):
        path = bucket / key[:2] / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"format": FORMAT, **data}).encode("utf-8"))


def _kept(bucket: Path, key: str) -> dict[str, Any] | None:
    """The entry ``key`` of the cache's ``bucket``; None when there is none, or it cannot be
    read or has another :data:`FORMAT`."""
    try:
        with open(bucket / key[:2] / f"{key}.json", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data
