"""Session-wide test setup shared by every test file."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from kiln.core.install.environment import Environment
from kiln.core.interpreter import Interpreter, inspect_interpreter
from kiln.core.venv import create_venv


def pytest_configure() -> None:
    # Keep kiln's caches out of the user's home and separate per test process, so tests
    # never see each other's or a developer's state. (kiln_build keeps no cache.)
    root = tempfile.mkdtemp(prefix="kiln-test-cache-")
    os.environ.setdefault("KILN_CACHE_DIR", os.path.join(root, "kiln"))


# -- installer tests: a private kiln cache and a fresh virtual environment -----------------
# (a module opts in with ``pytestmark = pytest.mark.usefixtures("isolated_cache")``)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kiln-cache")


@pytest.fixture
def isolated_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_CACHE_DIR", str(cache_dir))


@pytest.fixture(scope="session")
def base(cache_dir: Path) -> Interpreter:
    return inspect_interpreter(sys.executable)


@pytest.fixture
def env(tmp_path: Path, base: Interpreter) -> Environment:
    return create_venv(tmp_path / "venv", base).env
