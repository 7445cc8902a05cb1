"""Requirements that do not parse are explained in the user's terms, not the parser's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiln.requirement_text import specifier_problem


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("requests>==", "`>==` is not a version comparison; use one of `==`, `!=`, `>=`, `<=`, `>`, `<`, `~=`, `===`"),
        ("requests=>1", "`=>` is not a version comparison; use one of"),
        ("requests=1", "`=` is not a version comparison; use one of"),
        ("requests 1.0", "`1.0` without an operator is not a version comparison"),
        ("requests>=", "`>=` needs a version after it, as in `>=1.0`"),
        ("requests>=1,<", "`<` needs a version after it, as in `<1.0`"),
        ("requests~=1", "`~=` needs at least two parts of a version, as in `~=1.0`"),
        ("requests[socks]>=1.0x", "`1.0x` is not a valid version in `>=1.0x`"),
        ("requests (>==1)", "`>==` is not a version comparison"),
    ],
)
def test_a_broken_version_clause_is_named(text: str, reason: str) -> None:
    problem = specifier_problem(text)
    assert problem is not None
    assert problem.startswith(reason)


@pytest.mark.parametrize("text", ["requests>=1.0,<2", "requests (>=1", "requests @ https://x/y.whl", "requests==1.0 foo"])
def test_clauses_that_look_right_leave_the_reason_to_packaging(text: str) -> None:
    assert specifier_problem(text) is None


def test_the_command_line_and_pyproject_files_use_the_plain_reason(tmp_path: Path) -> None:
    def kiln(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "kiln", *args], capture_output=True, text=True, cwd=tmp_path
        )
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        return result.stderr

    (tmp_path / "requirements.in").write_text("requests>==\n")
    err = kiln("pip", "compile", "requirements.in", "--no-index")
    assert "requirements.in:1: invalid requirement `requests>==`: `>==` is not a version comparison" in err
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\n[build-system]\nrequires = ["kiln-build~=0"]\n'
        'build-backend = "kiln_build"\n'
    )
    err = kiln("build")
    assert "`build-system.requires` has an invalid requirement `kiln-build~=0`: `~=` needs at least two parts" in err
