"""`kiln sync` into a new environment from the plan an earlier sync of the same lock left in
the cache (`sync-plans-v1`), where the cache keeps no snapshot of an environment made at the
same place: the same packages as the full path, and the full path whenever the plan cannot
be trusted (other options, a missing wheel, a directory entry, options that change which
files are chosen)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import KILN_BUILD_SYSTEM, base_env, kiln, ok, run_python

REMEMBERED = "an earlier sync of this lock installed"

PROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["alpha"]

[project.optional-dependencies]
extra = ["gamma"]
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "alpha", "1.0", requires_dist=["beta"]))
    server.add(build_wheel(files, "beta", "2.0"))
    server.add(build_wheel(files, "gamma", "3.0"))
    with server:
        yield server


def make_project(root: Path, *, package: bool = False) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(PROJECT + ("\n" + KILN_BUILD_SYSTEM if package else ""))
    if package:
        (root / "src" / "demo").mkdir(parents=True)
        (root / "src" / "demo" / "__init__.py").write_text("")
    return root


def sync(root: Path, index: IndexServer, *args: str) -> subprocess.CompletedProcess[str]:
    return ok(kiln("-v", "sync", "--default-index", index.url, *args,
                   env=base_env(root.parent / "cache"), cwd=root))


def installed(root: Path) -> dict[str, str]:
    """Each distribution in the project environment with its RECORD's text."""
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    return {
        entry.name: (entry / "RECORD").read_text()
        for entry in site.iterdir() if entry.name.endswith(".dist-info")
    }


def plans(root: Path) -> list[Path]:
    return sorted((root.parent / "cache" / "sync-plans-v1").glob("*/*.json"))


def test_a_new_environment_gets_the_remembered_plan(tmp_path: Path, index: IndexServer) -> None:
    root = make_project(tmp_path / "app")
    first = sync(root, index)
    assert REMEMBERED not in first.stderr
    assert len(plans(root)) == 1
    before = installed(root)
    shutil.rmtree(root / ".venv")
    # Without the snapshot of the environment made here (see test_sync_snapshot.py), as for
    # a new environment at another place.
    shutil.rmtree(root.parent / "cache" / "sync-snapshots-v1")

    again = sync(root, index)

    assert REMEMBERED in again.stderr
    assert "Installed 2 packages" in again.stderr
    assert " + alpha==1.0" in again.stderr and " + beta==2.0" in again.stderr
    assert installed(root) == before
    assert run_python(root / ".venv", "import alpha, beta; print('ok')") == "ok"
    # The environment's record was written: the next sync has nothing to do.
    assert "Audited 2 packages" in sync(root, index).stderr


def test_other_options_do_not_reuse_the_plan(tmp_path: Path, index: IndexServer) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index)
    shutil.rmtree(root / ".venv")

    with_extra = sync(root, index, "--extra", "extra")

    assert REMEMBERED not in with_extra.stderr
    assert "alpha-1.0.dist-info" in installed(root)
    assert "gamma-3.0.dist-info" in installed(root)
    assert len(plans(root)) == 2


def test_a_wheel_missing_from_the_cache_takes_the_full_path(
    tmp_path: Path, index: IndexServer
) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index)
    shutil.rmtree(root / ".venv")
    for wheel in (root.parent / "cache" / "files-v1").rglob("beta-2.0-*.whl"):
        wheel.unlink()

    again = sync(root, index)

    assert REMEMBERED not in again.stderr
    assert {"alpha-1.0.dist-info", "beta-2.0.dist-info"} <= set(installed(root))


@pytest.mark.parametrize("option", [["--no-binary", "beta"], ["--refresh"], ["--no-cache"]])
def test_options_that_choose_files_afresh_take_the_full_path(
    tmp_path: Path, index: IndexServer, option: list[str]
) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index)
    shutil.rmtree(root / ".venv")

    result = kiln("-v", "sync", "--default-index", index.url, *option,
                  env=base_env(root.parent / "cache"), cwd=root)

    assert REMEMBERED not in result.stderr


def test_a_project_installed_from_its_directory_keeps_no_plan(
    tmp_path: Path, index: IndexServer
) -> None:
    root = make_project(tmp_path / "app", package=True)
    sync(root, index)

    assert plans(root) == []
    assert "demo-0.1.0.dist-info" in installed(root)


def test_a_check_makes_no_environment_from_the_plan(tmp_path: Path, index: IndexServer) -> None:
    root = make_project(tmp_path / "app")
    sync(root, index)
    shutil.rmtree(root / ".venv")

    result = kiln("sync", "--check", "--default-index", index.url,
                  env=base_env(root.parent / "cache"), cwd=root)

    assert result.returncode == 1, result.stderr
    assert "the environment does not exist" in result.stderr
    assert not (root / ".venv").exists()
