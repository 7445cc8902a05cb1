"""`kiln sync` into a new environment at a place where an earlier sync of the same lock made
one: restored from the snapshot that sync left in the cache (`sync-snapshots-v1`) by linking,
identical to what the installer makes, whole or not at all, and never from a snapshot that
does not fit (another place, copies, byte code, a file gone from the cache, a snapshot
naming paths outside the environment)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, ok, run_python

from kiln.core.install.snapshot import Snapshot
from kiln.core.operations import syncrecord

RESTORED = "the snapshot kept in the cache"
REMEMBERED = "an earlier sync of this lock installed"

PROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["alpha"]
"""

LAUNCHED = "import sys\n\ndef main():\n    print('alpha runs')\n"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "alpha", "1.0", requires_dist=["beta"], files={
        "alpha/cli.py": LAUNCHED.encode(),
        "alpha/data/table.txt": b"one\ntwo\n",
        "entry_points.txt": b"[console_scripts]\nalpha = alpha.cli:main\n",
    }))
    server.add(build_wheel(files, "beta", "2.0"))
    with server:
        yield server


def make_project(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(PROJECT)
    return root


def cache_of(root: Path) -> Path:
    return root.parent / "cache"


def sync(root: Path, index: IndexServer, *args: str) -> subprocess.CompletedProcess[str]:
    return ok(kiln("-v", "sync", "--default-index", index.url, *args,
                   env=base_env(cache_of(root)), cwd=root))


def snapshots(root: Path) -> list[Path]:
    return sorted((cache_of(root) / "sync-snapshots-v1").glob("*/*.json"))


def tree(prefix: Path) -> dict[str, object]:
    """Everything in the environment at ``prefix``: each directory, each link's target and
    each file's permission bits and content (the sync's record and the lock file left out)."""
    found: dict[str, object] = {}
    for path in sorted(prefix.rglob("*")):
        relative = path.relative_to(prefix).as_posix()
        if relative in (".kiln-sync.json", ".lock"):
            continue
        if path.is_symlink():
            found[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            found[relative] = "directory"
        else:
            found[relative] = (stat.S_IMODE(path.stat().st_mode), path.read_bytes())
    return found


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".kiln-new-"))


def test_a_new_environment_at_the_same_place_is_restored_as_it_was_made(
    tmp_path: Path, index: IndexServer
) -> None:
    root = make_project(tmp_path / "app")
    first = sync(root, index)
    assert RESTORED not in first.stderr and REMEMBERED not in first.stderr
    assert len(snapshots(root)) == 1
    made = tree(root / ".venv")
    shutil.rmtree(root / ".venv")

    again = sync(root, index)

    assert RESTORED in again.stderr
    assert "Creating virtual environment at: .venv" in again.stderr
    assert "Installed 2 packages" in again.stderr
    assert " + alpha==1.0" in again.stderr and " + beta==2.0" in again.stderr
    assert tree(root / ".venv") == made
    assert leftovers(root) == []
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    assert (site / "alpha" / "cli.py").stat().st_nlink > 1  # a link to the cache's file
    assert run_python(root / ".venv", "import alpha, beta; print('ok')") == "ok"
    launched = subprocess.run([str(root / ".venv" / "bin" / "alpha")], capture_output=True,
                              text=True, check=True)
    assert launched.stdout == "alpha runs\n"
    # The environment's record was written: the next sync has nothing to do.
    assert "Audited 2 packages" in sync(root, index).stderr


def test_another_place_gets_the_plan_and_a_snapshot_of_its_own(
    tmp_path: Path, index: IndexServer
) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index)
    other = dict(base_env(cache_of(root)), KILN_PROJECT_ENVIRONMENT=str(tmp_path / "elsewhere"))

    moved = ok(kiln("-v", "sync", "--default-index", index.url, env=other, cwd=root))

    assert REMEMBERED in moved.stderr and RESTORED not in moved.stderr
    assert len(snapshots(root)) == 2
    shutil.rmtree(tmp_path / "elsewhere")
    again = ok(kiln("-v", "sync", "--default-index", index.url, env=other, cwd=root))
    assert RESTORED in again.stderr
    assert run_python(tmp_path / "elsewhere", "import alpha; print(alpha.__version__)") == "1.0"


@pytest.mark.parametrize("option", [["--link-mode", "copy"], ["--compile-bytecode"]])
def test_environments_with_copies_or_byte_code_have_no_snapshot(
    tmp_path: Path, index: IndexServer, option: list[str]
) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index, *option)
    shutil.rmtree(root / ".venv")
    again = sync(root, index, *option)

    assert snapshots(root) == []
    assert RESTORED not in again.stderr and REMEMBERED in again.stderr


def test_a_file_gone_from_the_cache_makes_the_environment_the_long_way(
    tmp_path: Path, index: IndexServer
) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index)
    made = tree(root / ".venv")
    shutil.rmtree(root / ".venv")
    (snapshot,) = snapshots(root)
    links = json.loads(snapshot.read_text())["links"]
    gone = next(source for path, source in links if path.endswith("alpha/cli.py"))
    shutil.rmtree(cache_of(root) / gone.split("/alpha/")[0])  # as `kiln cache clean alpha` does

    again = sync(root, index, "--output-format", "json")

    assert RESTORED not in again.stderr and REMEMBERED in again.stderr
    assert json.loads(again.stdout)["sync"]["action"] == "create"
    assert tree(root / ".venv") == made
    assert leftovers(root) == []


def test_what_a_killed_restore_left_is_removed_and_nothing_else(
    tmp_path: Path, index: IndexServer
) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index)
    shutil.rmtree(root / ".venv")
    killed = root / ".kiln-new-.venv-4000000"
    (killed / "lib").mkdir(parents=True)
    (killed / "pyvenv.cfg").write_text("home = /usr/bin\n")
    emptied = root / ".kiln-new-.venv-4000001"
    emptied.mkdir()
    foreign = root / ".kiln-new-.venv-4000002"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not an environment\n")

    again = sync(root, index)

    assert RESTORED in again.stderr
    assert leftovers(root) == [foreign.name]
    assert (foreign / "notes.txt").read_text() == "not an environment\n"


def test_a_snapshot_naming_paths_outside_is_not_used(tmp_path: Path, index: IndexServer) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index)
    shutil.rmtree(root / ".venv")
    (snapshot,) = snapshots(root)
    data = json.loads(snapshot.read_text())
    data["written"].append(["../../escaped.txt", "written outside\n", 0o644])
    snapshot.write_text(json.dumps(data))

    again = sync(root, index)

    assert RESTORED not in again.stderr
    assert not (tmp_path / "escaped.txt").exists()
    assert run_python(root / ".venv", "import alpha; print('ok')") == "ok"


@pytest.mark.parametrize(
    "path", ["../up", "a/..", "/absolute", "a//b", "a/./b", "", "C:/drive", "a\\\\b"]
)
def test_snapshots_refuse_paths_that_leave_their_directory(path: str) -> None:
    data = {"directories": [], "symlinks": [], "links": [], "written": [[path, "", 0o644]]}
    assert Snapshot.from_json(data) is None
    data = {"directories": [], "symlinks": [], "links": [["a", path]], "written": []}
    assert Snapshot.from_json(data) is None
    assert Snapshot.from_json({"directories": ["lib"], "symlinks": [["lib64", "lib"]],
                               "links": [["lib/a", "wheels-v1/d/a"]], "written": []}) is not None


def test_the_snapshot_key_names_the_place_the_interpreter_and_the_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    facts = {"base_executable": "/usr/bin/python3", "version": "3.12.1"}
    key = syncrecord.snapshot_key("plan", Path("/p/.venv"), facts)
    assert key is not None and key == syncrecord.snapshot_key("plan", Path("/p/.venv"), facts)
    assert syncrecord.snapshot_key("plan", Path("/q/.venv"), facts) != key
    assert syncrecord.snapshot_key("other", Path("/p/.venv"), facts) != key
    assert syncrecord.snapshot_key("plan", Path("/p/.venv"), {**facts, "version": "3.12.2"}) != key
    monkeypatch.setattr(syncrecord, "SNAPSHOT_CODE", (*syncrecord.SNAPSHOT_CODE, "kiln.nowhere"))
    assert syncrecord.snapshot_key("plan", Path("/p/.venv"), facts) is None
