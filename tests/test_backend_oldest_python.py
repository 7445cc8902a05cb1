"""kiln_build supports Python 3.9: build real projects with the oldest interpreter available."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from backend_helpers import BACKEND_SRC, copy_project
from pythons import find_python

PYTHON39 = find_python((3, 9))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PYTHON39 is None, reason="no Python 3.9 interpreter on this machine"),
]


@pytest.fixture(scope="module")
def deps39(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kiln_build's runtime dependencies, installed for Python 3.9 (tomli included)."""
    assert PYTHON39 is not None
    target = tmp_path_factory.mktemp("deps39")
    requirements = ["packaging>=24.2", "pyproject-metadata>=0.9", "pathspec>=0.12", "tomli>=1.1"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--python-version",
            "3.9",
            "--only-binary",
            ":all:",
            "--target",
            str(target),
            *requirements,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"could not fetch kiln_build's dependencies for 3.9: {result.stderr[-300:]}")
    return target


@pytest.mark.parametrize("name", ["built-by-kiln", "dynamic-version", "namespace-dotted"])
def test_python39_builds_the_same_members_as_python311(
    name: str, tmp_path: Path, deps39: Path
) -> None:
    assert PYTHON39 is not None
    project = copy_project(name, tmp_path)
    out39, out311 = tmp_path / "out39", tmp_path / "out311"
    code = (
        "import sys, kiln_build; d = sys.argv[1]; "
        "print(kiln_build.build_sdist(d)); print(kiln_build.build_wheel(d))"
    )
    for python, out, path in (
        (PYTHON39, out39, f"{BACKEND_SRC}:{deps39}"),
        (sys.executable, out311, str(BACKEND_SRC)),
    ):
        result = subprocess.run(
            [python, "-c", code, str(out)],
            cwd=project,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"},
            check=False,
        )
        assert result.returncode == 0, result.stderr
    sdist39, wheel39 = sorted(out39.iterdir(), key=lambda p: p.suffix)
    sdist311, wheel311 = sorted(out311.iterdir(), key=lambda p: p.suffix)
    assert sdist39.name == sdist311.name and wheel39.name == wheel311.name
    with tarfile.open(sdist39) as a, tarfile.open(sdist311) as b:
        assert a.getnames() == b.getnames()
    with zipfile.ZipFile(wheel39) as a, zipfile.ZipFile(wheel311) as b:
        assert a.namelist() == b.namelist()
        for item in a.namelist():
            assert a.read(item) == b.read(item), item
