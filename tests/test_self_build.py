"""kiln builds itself: its sdist and wheel hold every module, and its sdist builds on its own.

The tests work on a copy of the repository's two projects (`backend/`, `frontend/`), built
with the real `kiln build` (without build isolation: the test environment has the backend's
requirements). The frontend's build backend is `frontend/bootstrap/kiln_bootstrap.py`:
kiln_build from `../backend/src`, or the copy of it that the bootstrap puts into kiln's sdist.
The README's first command runs in a fresh virtual environment too (it needs PyPI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent

#: The build-output and environment lines of the common Python `.gitignore` template: a
#: project that keeps the template must still ship all of kiln.
PYTHON_GITIGNORE = """\
__pycache__/
*.py[cod]
build/
develop-eggs/
dist/
downloads/
eggs/
.eggs/
lib/
lib64/
parts/
sdist/
var/
wheels/
*.egg-info/
.installed.cfg
*.egg
MANIFEST
env/
venv/
.venv
ENV/
instance/
target/
site/
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "VIRTUAL_ENV"))}
    environ["KILN_CACHE_DIR"] = str(tmp_path / "kiln-cache")
    environ["NO_COLOR"] = "1"
    return environ


def copy_repository(target: Path) -> Path:
    """The two projects of the repository, without caches or built files."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "dist", ".venv", "*.egg-info")
    for project in ("backend", "frontend"):
        shutil.copytree(REPOSITORY / project, target / project, ignore=ignore)
    return target


def kiln_build(*args: str | Path, env: dict[str, str]) -> tuple[list[Path], str]:
    """The files ``kiln build --no-build-isolation -v ARGS`` made, and its diagnostics."""
    result = subprocess.run(
        [sys.executable, "-m", "kiln", "build", "--no-build-isolation", "-v", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "warning:" not in result.stderr, result.stderr
    return [Path(line) for line in result.stdout.splitlines()], result.stderr


def source_modules(src: Path) -> list[str]:
    return sorted(path.relative_to(src).as_posix() for path in src.rglob("*.py"))


def sdist_modules(sdist: Path, top: str) -> list[str]:
    with tarfile.open(sdist) as archive:
        names = [member.name for member in archive.getmembers() if member.isfile()]
    return sorted(
        name.removeprefix(f"{top}/src/") for name in names
        if name.startswith(f"{top}/src/") and name.endswith(".py")
    )


def wheel_modules(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(
            name for name in archive.namelist()
            if name.endswith(".py") and ".dist-info/" not in name
        )


def test_no_source_folder_is_named_like_a_build_output() -> None:
    """`build/`, `dist/`, `lib/`... in a `.gitignore` would silently drop such a folder."""
    names = {"build", "dist", "lib", "lib64", "env", "venv", "parts", "sdist", "var", "wheels",
             "eggs", "downloads", "target", "instance", "site"}
    folders = [
        path.relative_to(REPOSITORY).as_posix()
        for path in (REPOSITORY / "frontend" / "src").rglob("*")
        if path.is_dir() and path.name in names
    ]
    assert folders == []


def test_kiln_ships_every_module_with_a_python_gitignore(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repository = copy_repository(tmp_path / "repo")
    (repository / ".gitignore").write_text(PYTHON_GITIGNORE)
    (repository / "frontend" / ".gitignore").write_text(PYTHON_GITIGNORE)
    (sdist, wheel), _ = kiln_build(repository / "frontend", "-o", tmp_path / "out", env=env)
    expected = source_modules(repository / "frontend" / "src")
    assert "kiln/core/builder/service.py" in expected
    assert sdist_modules(sdist, "kiln-0.1.0") == expected
    assert wheel_modules(wheel) == expected


def test_kilns_sdist_carries_its_backend_and_builds_a_wheel_on_its_own(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repository = copy_repository(tmp_path / "repo")
    (sdist,), _ = kiln_build(repository / "frontend", "--sdist", "-o", tmp_path / "out", env=env)
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        archive.extractall(tmp_path / "alone", filter="data")
    bundled = sorted(
        name.removeprefix("kiln-0.1.0/bootstrap/kiln_build/") for name in names
        if name.startswith("kiln-0.1.0/bootstrap/kiln_build/") and not name.endswith("/")
    )
    backend_src = repository / "backend" / "src" / "kiln_build"
    assert bundled == sorted(
        path.relative_to(backend_src).as_posix() for path in backend_src.rglob("*")
        if path.is_file() and path.suffix in (".py", ".typed")
    )
    # The sdist alone, far from any checkout: the wheel is built by the bundled backend,
    # which says so here.
    shutil.rmtree(repository)
    unpacked = tmp_path / "alone" / "kiln-0.1.0"
    bundled_init = unpacked / "bootstrap" / "kiln_build" / "__init__.py"
    bundled_init.write_text(bundled_init.read_text() + "\nprint('the bundled kiln_build')\n")
    (wheel,), diagnostics = kiln_build(unpacked, "--wheel", "-o", tmp_path / "out2", env=env)
    assert "the bundled kiln_build" in diagnostics
    assert wheel.name == "kiln-0.1.0-py3-none-any.whl"
    assert wheel_modules(wheel) == sdist_modules(sdist, "kiln-0.1.0")


def test_the_repository_has_no_symbolic_links() -> None:
    """A link breaks a clone on Windows; kiln_build refuses one that leads out, too."""
    tracked = subprocess.run(
        ["git", "-C", str(REPOSITORY), "ls-files", "-s"], capture_output=True, text=True,
        check=False,
    )
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    links = [line.split("\t", 1)[1] for line in tracked.stdout.splitlines()
             if line.startswith("120000")]
    assert links == []


@pytest.mark.network
@pytest.mark.slow
def test_the_readme_command_works_in_a_fresh_environment(tmp_path: Path) -> None:
    """`pip install ./backend ./frontend && kiln init --lib demo && kiln build demo`, then
    `python -m build --sdist frontend` and a wheel from that sdist alone."""
    repository = copy_repository(tmp_path / "repo")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "VIRTUAL_ENV"))}
    environ["PATH"] = str(bin_dir) + os.pathsep + environ["PATH"]
    environ["KILN_CACHE_DIR"] = str(tmp_path / "kiln-cache")

    def run(*command: str | Path, cwd: Path) -> str:
        result = subprocess.run([str(c) for c in command], cwd=cwd, env=environ,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("pip", "install", "-q", "./backend", "./frontend", cwd=repository)
    run("kiln", "init", "--lib", "demo", cwd=tmp_path)
    run("kiln", "build", "demo", cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / "demo" / "dist").glob("demo-*")) == [
        "demo-0.1.0-py3-none-any.whl", "demo-0.1.0.tar.gz",
    ]
    run("pip", "install", "-q", "build", cwd=tmp_path)
    run("python", "-m", "build", "--sdist", "frontend", "-o", tmp_path / "sdist", cwd=repository)
    shutil.rmtree(repository)
    [sdist] = (tmp_path / "sdist").glob("kiln-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "alone", filter="data")
    run("python", "-m", "build", "--wheel", tmp_path / "alone" / "kiln-0.1.0",
        "-o", tmp_path / "wheel", cwd=tmp_path)
    [wheel] = (tmp_path / "wheel").glob("kiln-*.whl")
    assert wheel_modules(wheel) == sdist_modules(sdist, "kiln-0.1.0")
