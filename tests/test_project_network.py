"""`kiln lock` and `kiln sync` of the project of issue #18 (fastapi, httpx, pydantic, rich)
from the real PyPI, side by side with uv: the default index, real metadata, real wheels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from pip_helpers import base_env, kiln, ok

pytestmark = pytest.mark.network

UV = Path(sys.executable).parent / "uv"
#: Both tools see PyPI as it was on this day, so that their answers can be compared.
CUTOFF = "2026-11-01T00:00:00Z"

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["fastapi", "httpx", "pydantic", "rich"]
"""


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return ok(subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                             timeout=600))


def freeze(python: Path, env: dict[str, str]) -> set[str]:
    result = run([str(UV), "pip", "freeze", "--python", str(python)], python.parent, env)
    return set(result.stdout.split())


def test_a_project_locked_and_synced_from_pypi_matches_uv(tmp_path: Path) -> None:
    env = {**base_env(tmp_path / "cache"), "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    ours = tmp_path / "kiln"
    ours.mkdir()
    (ours / "pyproject.toml").write_text(PYPROJECT)
    locked = ok(kiln("lock", "--exclude-newer", CUTOFF, env=env, cwd=ours))
    assert "Traceback" not in locked.stderr
    lock = tomllib.loads((ours / "pylock.toml").read_text())
    assert lock["requires-python"] == ">=3.11"
    names = {package["name"] for package in lock["packages"]}
    assert {"fastapi", "httpx", "pydantic", "pydantic-core", "rich", "starlette"} <= names
    for package in lock["packages"]:
        if package["name"] == "demo":
            continue
        assert package["index"] == "https://pypi.org/simple", package["name"]
        assert all("sha256" in wheel["hashes"] for wheel in package.get("wheels", []))
    ok(kiln("sync", "--python", sys.executable, "--exclude-newer", CUTOFF, env=env, cwd=ours))

    theirs = tmp_path / "uv"
    theirs.mkdir()
    (theirs / "pyproject.toml").write_text(PYPROJECT)
    run([str(UV), "sync", "--quiet", "--python", sys.executable, "--exclude-newer", CUTOFF],
        theirs, env)
    assert freeze(ours / ".venv" / "bin" / "python", env) == freeze(
        theirs / ".venv" / "bin" / "python", env
    )

    # and uv installs kiln's lock to the same set
    venv = tmp_path / "uv-venv"
    run([str(UV), "venv", "-q", str(venv), "--python", sys.executable], tmp_path, env)
    run([str(UV), "pip", "sync", "--python", str(venv / "bin" / "python"),
         str(ours / "pylock.toml")], tmp_path, env)
    assert freeze(venv / "bin" / "python", env) == freeze(ours / ".venv" / "bin" / "python", env)
