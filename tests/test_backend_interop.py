"""kiln_build under real frontends and installers: pypa/build, pip, uv, twine, check-wheel-contents.

Every tool runs as a subprocess; nothing reaches an index (``--no-isolation`` /
``--no-build-isolation`` with kiln_build put on the path, ``--no-deps``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from backend_helpers import BACKEND_SRC, VENV_BIN, copy_project

pytestmark = pytest.mark.slow

BACKEND_DEPS = ("packaging", "pathspec", "pyproject_metadata")


def _run(*cmd: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="session")
def backend_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment in which any interpreter can import kiln_build and only its deps."""
    deps = tmp_path_factory.mktemp("backend-deps")
    site = Path(sysconfig.get_paths()["purelib"])
    for name in BACKEND_DEPS:
        (deps / name).symlink_to(site / name)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(BACKEND_SRC), str(deps)])
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("VIRTUAL_ENV", None)
    return env


def _fresh_venv(path: Path) -> Path:
    _run(VENV_BIN / "uv", "venv", "--quiet", "--python", sys.executable, path)
    return path / "bin" / "python"


@pytest.fixture(scope="session")
def golden_dists(tmp_path_factory: pytest.TempPathFactory, backend_env: dict[str, str]) -> Path:
    """built-by-kiln built by pypa/build (sdist, then the wheel from the sdist)."""
    base = tmp_path_factory.mktemp("pypa-build")
    project = copy_project("built-by-kiln", base)
    out = base / "dist"
    _run(
        sys.executable,
        "-m",
        "build",
        "--no-isolation",
        "--skip-dependency-check",
        "--outdir",
        out,
        project,
        env=backend_env,
    )
    return out


def test_pypa_build_produces_sdist_and_wheel(golden_dists: Path) -> None:
    assert sorted(p.name for p in golden_dists.iterdir()) == [
        "built_by_kiln-0.1.0-py3-none-any.whl",
        "built_by_kiln-0.1.0.tar.gz",
    ]


def test_twine_check_passes(golden_dists: Path) -> None:
    out = _run(VENV_BIN / "twine", "check", "--strict", *sorted(golden_dists.iterdir()))
    assert out.count("PASSED") == 2


def test_check_wheel_contents_passes(golden_dists: Path) -> None:
    (wheel,) = golden_dists.glob("*.whl")
    assert "OK" in _run(VENV_BIN / "check-wheel-contents", wheel)


def test_uv_installs_the_wheel_and_entry_points_run(golden_dists: Path, tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv")
    (wheel,) = golden_dists.glob("*.whl")
    _run(VENV_BIN / "uv", "pip", "install", "--quiet", "--no-deps", "--python", python, wheel)
    assert _run(tmp_path / "venv" / "bin" / "say-hi") == "Hi from a script!\n"
    assert _run(tmp_path / "venv" / "bin" / "whoami.sh") == "whoami-from-kiln\n"
    code = "from built_by_kiln import greet; from built_by_kiln.arithmetic import area; print(greet(), area(2))"
    assert _run(python, "-c", code) == "Hello from kiln 12.56636\n"
    assert (tmp_path / "venv" / "data.csv").is_file()
    assert list((tmp_path / "venv").glob("include/site/*/built-by-kiln/built_by_kiln.h")) or list(
        (tmp_path / "venv").glob("include/**/built_by_kiln.h")
    )


def test_pip_installs_from_the_source_tree(backend_env: dict[str, str], tmp_path: Path) -> None:
    project = copy_project("entry-points", tmp_path)
    python = _fresh_venv(tmp_path / "venv")
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
        "--no-build-isolation", "--no-deps", "--no-index", project, env=backend_env,
    )  # fmt: skip
    assert _run(tmp_path / "venv" / "bin" / "ep-alpha") == "alpha says hi\n"
    code = "import importlib.metadata as m; print(sorted(e.name for e in m.entry_points(group='entry_points.hooks')))"
    assert _run(python, "-c", code) == "['first', 'second']\n"


def test_pip_editable_install_follows_source_changes(
    backend_env: dict[str, str], tmp_path: Path
) -> None:
    project = copy_project("src-layout", tmp_path)
    python = _fresh_venv(tmp_path / "venv")
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
        "--no-build-isolation", "--no-deps", "--no-index", "-e", project, env=backend_env,
    )  # fmt: skip
    code = "import src_layout.core as c; print(c.answer(), c.__file__)"
    answer, location = _run(python, "-c", code).split()
    assert answer == "42"
    assert Path(location).resolve() == (project / "src/src_layout/core.py").resolve()
    (project / "src/src_layout/core.py").write_text("def answer() -> int:\n    return 43\n")
    assert _run(python, "-c", code).split()[0] == "43"


@pytest.mark.parametrize(
    "name", ["data-dirs", "namespace-dotted", "single-file", "dynamic-version"]
)
def test_uv_pip_installs_from_the_source_tree(
    name: str, backend_env: dict[str, str], tmp_path: Path
) -> None:
    project = copy_project(name, tmp_path)
    python = _fresh_venv(tmp_path / "venv")
    _run(
        VENV_BIN / "uv", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
        "--offline", "--python", python, project, env=backend_env,
    )  # fmt: skip
    checks = {
        "data-dirs": "import data_dirs, pure_extra, plat_extra; print('ok')",
        "namespace-dotted": "from acme.widgets.button import Button; print('ok')",
        "single-file": "import solo; assert solo.solo() == 'solo'; print('ok')",
        "dynamic-version": "import importlib.metadata as m; assert m.version('dynamic-version') == '2.3.4'; print('ok')",
    }
    assert _run(python, "-c", checks[name]) == "ok\n"
    if name == "data-dirs":
        venv = tmp_path / "venv"
        assert _run(venv / "bin" / "data-dirs-tool") == "data-dirs-tool\n"
        assert (venv / "data_dirs" / "nested" / "more.txt").read_text() == "more\n"


@pytest.mark.network
def test_the_documented_find_links_recipe_builds_with_isolated_frontends(tmp_path: Path) -> None:
    """docs/src/index.md: a backend wheel in a --find-links directory serves pip and uv builds."""
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", BACKEND_SRC.parent, "-w", wheels)
    assert [p.name for p in wheels.iterdir()] == ["kiln_build-0.1.0-py3-none-any.whl"]
    project = copy_project("entry-points", tmp_path)
    python = _fresh_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--find-links", wheels, project, env=env,
    )  # fmt: skip
    assert _run(tmp_path / "venv" / "bin" / "ep-alpha") == "alpha says hi\n"
    _run(VENV_BIN / "uv", "build", "--quiet", "--find-links", wheels, "--out-dir", tmp_path / "out", project, env=env)
    assert sorted(p.name for p in (tmp_path / "out").glob("entry_points-*")) == [
        "entry_points-1.0.0-py3-none-any.whl",
        "entry_points-1.0.0.tar.gz",
    ]
