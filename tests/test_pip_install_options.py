"""`kiln pip install` and `kiln pip sync` options from uv, checked by what they change in a
real virtual environment fed by a loopback index."""

from __future__ import annotations

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
