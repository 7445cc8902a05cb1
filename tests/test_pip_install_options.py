"""`kiln pip install` and `kiln pip sync` options from uv, checked by what they change in a
real virtual environment fed by a loopback index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok

PYPROJECT = """\
[project]
name = "app"
version = "1"
dependencies = ["alpha"]

[project.optional-dependencies]
fast = ["gamma"]

[dependency-groups]
dev = ["delta"]
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "alpha", "1.0", requires_dist=["beta>=1"]),
               upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "beta", "1.0"), upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "beta", "2.0"), upload_time="2024-06-01T00:00:00Z")
    server.add(build_wheel(files, "gamma", "0.1"), upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "gamma", "0.2"), upload_time="2024-06-01T00:00:00Z")
    server.add(build_wheel(files, "delta", "1.0", requires_dist=["gamma"]))
    with server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def pip(venv: Path, env: dict[str, str], index: IndexServer, *args: str | Path,
        cwd: Path | None = None):  # type: ignore[no-untyped-def]
    return kiln("pip", *args, "--python", venv, "--default-index", index.url, env=env, cwd=cwd)


def freeze(venv: Path, env: dict[str, str]) -> list[str]:
    return ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout.splitlines()


def test_install_adds_extras_and_groups_of_a_pyproject(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "--group", "dev", cwd=tmp_path))
    assert freeze(venv, env) == ["delta==1.0", "gamma==0.2"]
    ok(pip(venv, env, index, "install", "-r", "pyproject.toml", "--extra", "fast", cwd=tmp_path))
    assert freeze(venv, env) == ["alpha==1.0", "beta==2.0", "delta==1.0", "gamma==0.2"]
    refused = pip(venv, env, index, "install", "alpha", "--all-extras", cwd=tmp_path)
    assert refused.returncode == 2
    assert "error: `--all-extras` needs a `pyproject.toml` input" in refused.stderr


def test_install_applies_overrides_excludes_resolution_and_exclude_newer(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    (tmp_path / "overrides.txt").write_text("beta==1.0\n")
    (tmp_path / "excludes.txt").write_text("gamma\n")
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "alpha", "delta", "--overrides", "overrides.txt",
           "--excludes", "excludes.txt", cwd=tmp_path))
    assert freeze(venv, env) == ["alpha==1.0", "beta==1.0", "delta==1.0"]

    lowest = make_venv(tmp_path / "lowest", env)
    ok(pip(lowest, env, index, "install", "alpha", "gamma", "--resolution", "lowest-direct"))
    assert freeze(lowest, env) == ["alpha==1.0", "beta==2.0", "gamma==0.1"]

    dated = make_venv(tmp_path / "dated", env)
    ok(pip(dated, env, index, "install", "alpha", "--exclude-newer", "2024-03-01"))
    assert freeze(dated, env) == ["alpha==1.0", "beta==1.0"]


def test_sync_takes_extras_and_exclude_newer(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "sync", "pyproject.toml", "--extra", "fast",
           "--exclude-newer", "2024-03-01T00:00:00Z", cwd=tmp_path))
    assert freeze(venv, env) == ["alpha==1.0", "gamma==0.1"]


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under ``root`` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.lstat().st_size, path.lstat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


def test_dry_run_and_check_say_what_would_change_and_change_nothing(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "beta==1.0", "gamma==0.1"))
    before = snapshot(venv)
    result = ok(pip(venv, env, index, "install", "-U", "alpha", "--dry-run"))
    assert result.stderr.endswith(
        "Would uninstall 1 package\nWould install 2 packages\n"
        " + alpha==1.0\n - beta==1.0\n + beta==2.0\n"
    )
    (tmp_path / "pinned.txt").write_text("alpha==1.0\nbeta==2.0\n")
    synced = ok(pip(venv, env, index, "sync", tmp_path / "pinned.txt", "--dry-run"))
    assert " - gamma==0.1\n" in synced.stderr
    assert "Would uninstall 2 packages\nWould install 2 packages\n" in synced.stderr
    met = ok(pip(venv, env, index, "install", "gamma", "--dry-run"))
    assert met.stderr.endswith("Audited 1 package in 0ms\nWould make no changes\n")
    assert snapshot(venv) == before
    assert freeze(venv, env) == ["beta==1.0", "gamma==0.1"]

    checked = pip(venv, env, index, "install", "alpha", "--check")
    assert checked.returncode == 1
    assert " + alpha==1.0\n" in checked.stderr
    assert pip(venv, env, index, "install", "beta", "--check").returncode == 0
    assert pip(venv, env, index, "sync", tmp_path / "pinned.txt", "--check").returncode == 1
    assert snapshot(venv) == before


def test_output_format_json_lists_the_changes(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "beta==1.0"))
    result = ok(pip(venv, env, index, "install", "alpha", "-U", "--output-format", "json"))
    assert json.loads(result.stdout) == {
        "schema": {"version": "preview"},
        "changes": [
            {"name": "alpha", "version": "1.0", "action": "installed"},
            {"name": "beta", "version": "1.0", "action": "uninstalled"},
            {"name": "beta", "version": "2.0", "action": "installed"},
        ],
        "dry_run": False,
    }
    dry = ok(pip(venv, env, index, "install", "gamma", "--dry-run", "--output-format", "json"))
    assert json.loads(dry.stdout)["dry_run"] is True
    assert json.loads(dry.stdout)["changes"] == [
        {"name": "gamma", "version": "0.2", "action": "installed"}
    ]


def test_exact_uninstalls_what_the_resolution_does_not_need(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "gamma", "beta==1.0"))
    result = ok(pip(venv, env, index, "install", "alpha", "--exact"))
    assert " + alpha==1.0\n - gamma==0.2\n" in result.stderr
    assert freeze(venv, env) == ["alpha==1.0", "beta==1.0"]


def test_strict_warns_about_unmet_dependencies_after_installing(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(pip(venv, env, index, "install", "delta", "--no-deps", "--strict"))
    assert result.stderr.endswith(
        " + delta==1.0\nwarning: The package `delta` requires `gamma`, but `gamma` is not "
        "installed\n"
    )
    quiet = ok(pip(venv, env, index, "install", "gamma", "--strict"))
    assert "warning" not in quiet.stderr


def test_user_is_refused(tmp_path: Path, env: dict[str, str], index: IndexServer) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = pip(venv, env, index, "install", "gamma", "--user")
    assert result.returncode == 2
    assert result.stderr.startswith("error: `--user` is not supported")
    assert freeze(venv, env) == []


def test_sync_of_nothing_changes_nothing_unless_allowed(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "gamma"))
    (tmp_path / "empty.txt").write_text("# nothing\n")
    result = ok(pip(venv, env, index, "sync", tmp_path / "empty.txt"))
    assert "warning: no requirements found, so nothing changes" in result.stderr
    assert freeze(venv, env) == ["gamma==0.2"]
    ok(pip(venv, env, index, "sync", tmp_path / "empty.txt", "--allow-empty-requirements"))
    assert freeze(venv, env) == []
