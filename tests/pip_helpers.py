"""Helpers for the `kiln pip` tests: run the CLI, make venvs and small projects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KILN_BUILD_SYSTEM = (
    '[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n'
)


def base_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "VIRTUAL_ENV"))}
    env["KILN_CACHE_DIR"] = str(cache)
    env["NO_COLOR"] = "1"
    # The machine's own kiln.toml/uv.toml files must not leak into tests.
    env["XDG_CONFIG_HOME"] = str(cache.parent / "xdg-config")
    env["XDG_CONFIG_DIRS"] = str(cache.parent / "xdg-config-dirs")
    return env


def kiln(
    *args: str | Path, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiln", *map(str, args)],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def diagnostics(stderr: str) -> str:
    """``stderr`` without the `Using Python ... environment at: ...` line that commands which
    change an environment other than ``./.venv`` print first."""
    first, _, rest = stderr.partition("\n")
    return rest if first.startswith("Using Python ") else stderr


def make_venv(path: Path, env: dict[str, str]) -> Path:
    ok(kiln("venv", path, env=env))
    return path


def run_python(venv: Path, code: str) -> str:
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def kiln_project(
    root: Path, name: str, version: str = "1.0", dependencies: tuple[str, ...] = ()
) -> Path:
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text(f"VALUE = {name!r}\n")
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\ndependencies = [{deps}]\n\n'
        f"{KILN_BUILD_SYSTEM}"
    )
    return root
