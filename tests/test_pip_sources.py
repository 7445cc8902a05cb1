"""`kiln pip install -r pyproject.toml` lowers dependencies through `[tool.kiln.sources]`,
with the same code that build requirements use; `--no-sources` turns that off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pip_helpers import base_env, kiln, kiln_project, make_venv, ok, run_python


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def _app_with_path_source(root: Path, helper: Path) -> Path:
    app = kiln_project(root, "app", dependencies=("helper>=1",))
    text = (app / "pyproject.toml").read_text()
    (app / "pyproject.toml").write_text(
        text + f'\n[tool.kiln.sources]\nhelper = {{ path = "{helper.as_posix()}" }}\n'
    )
    return app


def test_path_source_of_a_dependency_is_built_and_installed(
    tmp_path: Path, env: dict[str, str]
) -> None:
    helper = kiln_project(tmp_path / "helper", "helper", version="1.5")
    app = _app_with_path_source(tmp_path / "app", helper)
    venv = make_venv(tmp_path / "venv", env)
    result = ok(
        kiln(
            "pip",
            "install",
            "--python",
            venv,
            "--no-index",
            "-r",
            app / "pyproject.toml",
            env=env,
            cwd=app,
        )
    )
    assert "+ helper==1.5" in result.stderr
    assert run_python(venv, "import helper; print(helper.VALUE)") == "helper"
    site = next((venv / "lib").glob("python*/site-packages"))
    direct = json.loads((site / "helper-1.5.dist-info" / "direct_url.json").read_text())
    assert direct["url"] == helper.resolve().as_uri()


def test_no_sources_takes_the_dependency_from_the_indexes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    helper = kiln_project(tmp_path / "helper", "helper", version="1.5")
    app = _app_with_path_source(tmp_path / "app", helper)
    venv = make_venv(tmp_path / "venv", env)
    result = kiln(
        "pip",
        "install",
        "--python",
        venv,
        "--no-index",
        "--no-sources",
        "-r",
        app / "pyproject.toml",
        env=env,
        cwd=app,
    )
    assert result.returncode == 1
    assert "helper" in result.stderr and "Traceback" not in result.stderr
    listed = ok(kiln("pip", "list", "--python", venv, "--format", "freeze", env=env)).stdout
    assert "helper" not in listed


def test_compile_of_a_pyproject_shows_the_lowered_reference(
    tmp_path: Path, env: dict[str, str]
) -> None:
    helper = kiln_project(tmp_path / "helper", "helper", version="1.5")
    app = _app_with_path_source(tmp_path / "app", helper)
    result = ok(
        kiln(
            "pip",
            "compile",
            "--no-index",
            "--no-header",
            "--no-annotate",
            app / "pyproject.toml",
            env=env,
            cwd=app,
        )
    )
    assert result.stdout.strip().splitlines() == [f"helper @ {helper.resolve().as_uri()}"]
