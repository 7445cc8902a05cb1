"""`kiln pip compile` and `kiln pip install` of a real set of packages from PyPI."""

from __future__ import annotations

from pathlib import Path

import pytest
from pip_helpers import base_env, kiln, make_venv, ok, run_python

pytestmark = pytest.mark.network

REQUIREMENTS = "httpx\nrich\n"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module: the install reuses what the compile downloaded."""
    return tmp_path_factory.mktemp("network-cache")


def pinned(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        if line and line[0].isalnum():
            name, _, version = line.partition("==")
            pins[name] = version
    return pins


def test_compile_resolves_the_transitive_dependencies_from_pypi(
    tmp_path: Path, cache: Path
) -> None:
    (tmp_path / "requirements.in").write_text(REQUIREMENTS)
    result = ok(kiln("pip", "compile", "requirements.in", "-o", "requirements.txt",
                     env=base_env(cache), cwd=tmp_path))
    assert "Resolved " in result.stderr
    pins = pinned((tmp_path / "requirements.txt").read_text())
    assert {"httpx", "rich", "certifi", "idna", "markdown-it-py", "httpcore", "anyio",
            "h11", "pygments", "mdurl"} <= set(pins)
    assert all(version for version in pins.values()), pins


def test_install_into_a_kiln_venv_imports_both_packages(tmp_path: Path, cache: Path) -> None:
    env = base_env(cache)
    venv = make_venv(tmp_path / "venv", env)
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS)
    result = ok(kiln("pip", "install", "-r", "requirements.txt", "--python", venv,
                     env=env, cwd=tmp_path))
    assert " + httpx==" in result.stderr
    assert " + rich==" in result.stderr
    assert " + certifi==" in result.stderr
    out = run_python(
        venv,
        "import httpx, rich, certifi, markdown_it; from rich.text import Text; "
        "print(httpx.__name__, rich.__name__, Text('ok').plain, bool(certifi.where()))",
    )
    assert out == "httpx rich ok True"
    check = ok(kiln("pip", "check", "--python", venv, env=env))
    assert "Traceback" not in check.stderr


def test_universal_compile_from_pypi_pins_what_uv_pins_in_every_environment(
    tmp_path: Path, cache: Path
) -> None:
    import os
    import subprocess
    import sys

    from backend_helpers import VENV_BIN
    from test_pip_compile_universal import pins_by_environment

    (tmp_path / "requirements.in").write_text(REQUIREMENTS + "black\nclick\n")
    ours = ok(kiln("pip", "compile", "requirements.in", "--universal", "--python-version",
                   "3.9", "--no-header", "--no-annotate", env=base_env(cache),
                   cwd=tmp_path)).stdout
    theirs = subprocess.run(
        [VENV_BIN / "uv", "pip", "compile", "requirements.in", "--universal",
         "--python-version", "3.9", "--no-header", "--no-annotate", "--no-config",
         "--cache-dir", tmp_path / "uv-cache", "--python", sys.executable],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    ).stdout
    assert ";" in ours  # markers are kept (colorama for click on Windows, at least)
    assert pins_by_environment(ours) == pins_by_environment(theirs)


def test_a_conflict_heavy_set_resolves_as_uv_does_without_building_anything(
    tmp_path: Path, cache: Path
) -> None:
    """`celery[redis]` and `black` for Python 3.11: `kombu[redis]` pins `packaging` below
    its newest version, which `black` also requires. kiln once walked down every `kombu`
    here, building old sdists for minutes; now it builds nothing and agrees with uv."""
    import os
    import subprocess

    from backend_helpers import VENV_BIN

    (tmp_path / "requirements.in").write_text("celery[redis]\nblack\n")
    result = ok(kiln("pip", "compile", "requirements.in", "--python-version", "3.11",
                     "--no-header", "--no-annotate", "-v", env=base_env(cache), cwd=tmp_path))
    assert "Building " not in result.stderr, result.stderr
    theirs = subprocess.run(
        [VENV_BIN / "uv", "pip", "compile", "requirements.in", "--python-version", "3.11",
         "--no-header", "--no-annotate", "--no-config", "--quiet",
         "--cache-dir", tmp_path / "uv-cache"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    ).stdout
    assert pinned(result.stdout) == pinned(theirs)
    assert {"celery", "kombu", "black", "packaging", "redis"} <= set(pinned(result.stdout))
