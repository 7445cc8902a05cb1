"""kiln_build is a pure backend: a hook writes only the files it is asked for, and every
build prints its own warnings.

The backend keeps no cache. Run by pip, pypa/build and uv (offline, without isolation, as
in test_backend_interop.py) with ``HOME`` and ``XDG_CACHE_HOME`` pointing at empty
directories, it leaves those directories and the project untouched. Warnings are printed by
every hook call, also when one process builds several projects whose warnings read the same
(``kiln build --all-packages``), and on every later build.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from backend_helpers import BACKEND_SRC, KILN_BUILD_SYSTEM, VENV_BIN, copy_project

pytestmark = pytest.mark.slow

BACKEND_DEPS = ("packaging", "pathspec", "pyproject_metadata")
CLASSIFIER = "License :: OSI Approved :: MIT License"
WARNING = f"warning: `pyproject.toml`: license classifier `{CLASSIFIER}` is deprecated"


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path below ``root`` with its content (None for a directory)."""
    found: dict[str, bytes | None] = {}
    for parent, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(parent, name), root)] = None
        for name in files:
            path = os.path.join(parent, name)
            found[os.path.relpath(path, root)] = Path(path).read_bytes()
    return found


@pytest.fixture(scope="module")
def backend_deps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding only kiln_build's dependencies, for PYTHONPATH."""
    deps = tmp_path_factory.mktemp("backend-deps")
    site = Path(sysconfig.get_paths()["purelib"])
    for name in BACKEND_DEPS:
        (deps / name).symlink_to(site / name)
    return deps


def _isolated_env(tmp_path: Path, deps: Path) -> dict[str, str]:
    """An environment whose home and cache directories are empty and watched; no KILN_*
    variable points anywhere else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "VIRTUAL_ENV"))}
    for name in ("home", "xdg-cache"):
        (tmp_path / name).mkdir()
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    env["PYTHONPATH"] = os.pathsep.join([str(BACKEND_SRC), str(deps)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the interpreter's byte-code, not the backend's
    # Only the system's programs besides the tools: pip runs `rustc --version` for its
    # user agent, and a rustup shim on PATH would write its settings into HOME.
    env["PATH"] = os.pathsep.join([str(VENV_BIN), "/usr/bin", "/bin"])
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # The frontends' own caches go elsewhere: only the backend is watched.
    env["PIP_NO_CACHE_DIR"] = "1"
    env["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")
    return env


FRONTENDS = {
    "pip": [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps",
        "--no-index", "--wheel-dir", "{out}", "{project}",
    ],
    "build": [
        sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check",
        "--outdir", "{out}", "{project}",
    ],
    "uv": [
        str(VENV_BIN / "uv"), "build", "--quiet", "--no-build-isolation", "--offline",
        "--python", sys.executable, "--out-dir", "{out}", "{project}",
    ],
}  # fmt: skip
BUILT = {
    "pip": ["full_metadata_project-2.0.0.post1-py3-none-any.whl"],
    "build": [
        "full_metadata_project-2.0.0.post1-py3-none-any.whl",
        "full_metadata_project-2.0.0.post1.tar.gz",
    ],
}
BUILT["uv"] = [".gitignore", *BUILT["build"]]  # uv marks its output directory


@pytest.mark.parametrize("frontend", sorted(FRONTENDS))
def test_frontends_see_the_backend_write_only_into_the_output_directory(
    frontend: str, backend_deps: Path, tmp_path: Path
) -> None:
    project = copy_project("full-metadata", tmp_path / "src")
    env = _isolated_env(tmp_path, backend_deps)
    before = _snapshot(project)
    out = tmp_path / "out"
    command = [part.format(out=out, project=project) for part in FRONTENDS[frontend]]
    for _ in range(2):  # a rebuild may not find a cache to fill either
        proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == BUILT[frontend]
    assert list((tmp_path / "home").iterdir()) == []
    assert list((tmp_path / "xdg-cache").iterdir()) == []
    assert _snapshot(project) == before


# -- warnings ---------------------------------------------------------------------------------


def _warning_member(root: Path, name: str) -> None:
    module = root / "src" / name
    module.mkdir(parents=True)
    (module / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "1.0"\nclassifiers = ["{CLASSIFIER}"]\n\n'
        f"[build-system]\n{KILN_BUILD_SYSTEM}\n"
    )


def test_one_process_prints_the_same_warning_for_each_project_and_each_build(
    tmp_path: Path,
) -> None:
    for name in ("alpha", "beta"):
        _warning_member(tmp_path / name, name)
    code = (
        "import os, sys, kiln_build\n"
        "for project in sys.argv[2:]:\n"
        "    os.chdir(project)\n"
        "    for _ in range(2):\n"
        "        kiln_build.build_wheel(sys.argv[1])\n"
        "        kiln_build.build_sdist(sys.argv[1])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out"), str(tmp_path / "alpha"),
         str(tmp_path / "beta")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(BACKEND_SRC)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 8, proc.stderr
    assert all(line.startswith(WARNING) for line in warnings)


def test_kiln_build_all_packages_prints_each_members_warnings_on_every_run(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.kiln.workspace]\nmembers = ["packages/*"]\n')
    for name in ("alpha", "beta"):
        _warning_member(root / "packages" / name, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "VIRTUAL_ENV"))}
    env.update(KILN_CACHE_DIR=str(tmp_path / "cache"), NO_COLOR="1")
    runs = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "kiln", "build", "--all-packages"],
            capture_output=True, text=True, env=env, cwd=root, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        runs.append(proc.stderr)
    expected = []
    for name in ("alpha", "beta"):
        # Each member: its sdist, then the wheel from that sdist; both builds warn.
        for step in ("Building source distribution...", "Building wheel from source distribution..."):
            expected += [f"[{name}] {step}", WARNING]
    for stderr in runs:
        shown = [line for line in stderr.splitlines() if line.startswith(("[", "warning: "))]
        assert [line[: len(WARNING)] for line in shown] == expected, stderr
    assert runs[1] == runs[0]
