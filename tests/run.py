#!/usr/bin/env python3
"""Set up a fresh test environment and run every check: ruff, mypy --strict, pytest.

Usage: python3 tests/run.py [pytest arguments...]

It creates .cache/test-venv (reused while tests/requirements.txt and the two
pyproject.toml files are unchanged), installs backend/ and frontend/ editable
with the test dependencies, then runs the checks. Needs only Python >= 3.10,
pip and git. Exit status is non-zero if any check fails.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".cache" / "test-venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
INPUTS = ("tests/requirements.txt", "backend/pyproject.toml", "frontend/pyproject.toml")


def _stamp() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _run(*cmd: str | Path) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def setup() -> None:
    stamp_file = VENV / "kiln-test-stamp"
    if stamp_file.exists() and stamp_file.read_text() == _stamp():
        return
    if not PY.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = (PY, "-m", "pip", "--disable-pip-version-check", "-q")
    if _run(*pip, "install", "--upgrade", "pip") != 0:
        sys.exit("error: could not upgrade pip in the test environment")
    code = _run(*pip, "install", "-r", "tests/requirements.txt", "-e", "./backend", "-e", "./frontend")
    if code != 0:
        sys.exit("error: could not install the test environment")
    stamp_file.write_text(_stamp())


def main() -> int:
    setup()
    env_bin = str(BIN)
    os.environ["PATH"] = env_bin + os.pathsep + os.environ.get("PATH", "")
    os.environ["VIRTUAL_ENV"] = str(VENV)
    failures = []
    if _run(BIN / "ruff", "check", "backend/src", "frontend/src", "tests", "benchmarks") != 0:
        failures.append("ruff")
    if _run(BIN / "mypy") != 0:
        failures.append("mypy")
    workers = os.environ.get("KILN_TEST_WORKERS", "auto")
    if _run(PY, "-m", "pytest", "-n", workers, *sys.argv[1:]) != 0:
        failures.append("pytest")
    if failures:
        print(f"FAILED: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
