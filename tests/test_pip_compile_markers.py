"""`kiln pip compile --universal` and markers at the edges of what PEP 508 can say, through
the real CLI and a loopback index:

1. a requirement whose marker cannot hold for any Python the resolution is for (a
   comparison with a pre-release of an older Python) is dropped, in a requirements file
   and in a project's dependencies, instead of failing the resolution;
2. a pin whose marker PEP 508 has no text for (the opposite of `===`) is refused with a
   clear error, never written as an invalid marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from packaging.requirements import Requirement
from pip_helpers import base_env, diagnostics, kiln


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    for name, version in (("a", "2.0.0"), ("b", "1.0"), ("lib", "2.0")):
        server.add(build_wheel(files, name, version))
    # Usable only where your own requirement pins it, so forks can differ on it.
    server.add(build_wheel(files, "lib", "1.0"), yanked="pinned only")
    with server:
        yield server


def compile_universal(
    tmp_path: Path, index: IndexServer, source: str, *args: str
) -> tuple[int, str, str]:
    result = kiln("pip", "compile", source, "--universal", "--no-header", "--no-annotate",
                  "--default-index", index.url, *args, env=base_env(tmp_path / "cache"),
                  cwd=tmp_path)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


UNREACHABLE = "a==1.0.0; python_full_version == '3.9b1'"


def test_a_requirement_for_a_prerelease_of_an_older_python_is_dropped(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text(f"{UNREACHABLE}\nb\n")
    code, out, err = compile_universal(tmp_path, index, "requirements.in",
                                       "--python-version", "3.10")
    assert (code, out) == (0, "b==1.0\n"), err


def test_a_project_dependency_for_a_prerelease_of_an_older_python_is_dropped(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.10"\n'
        f'dependencies = ["{UNREACHABLE}", "b"]\n'
    )
    code, out, err = compile_universal(tmp_path, index, "pyproject.toml",
                                       "--python-version", "3.10")
    assert (code, out) == (0, "b==1.0\n"), err


def test_the_requirement_is_kept_where_its_python_can_still_be(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("a; python_full_version == '3.10.0b1'\nb\n")
    code, out, err = compile_universal(tmp_path, index, "requirements.in",
                                       "--python-version", "3.9")
    assert (code, out) == (0, 'a==2.0.0 ; python_full_version == "3.10.0b1"\nb==1.0\n'), err


def test_a_pin_whose_marker_pep_508_cannot_write_is_refused(
    tmp_path: Path, index: IndexServer
) -> None:
    # Where `===` holds, the yanked 1.0 is pinned; elsewhere 2.0 is the only choice, and
    # "elsewhere" is the opposite of `===`, which PEP 508 cannot write.
    (tmp_path / "requirements.in").write_text("lib==1.0; platform_release === '5.1'\nlib\n")
    code, out, err = compile_universal(tmp_path, index, "requirements.in",
                                       "--python-version", "3.10")
    assert code == 1, out
    assert out == ""
    lines = diagnostics(err).splitlines()
    assert lines[0] == (
        "error: cannot write the marker of `lib==2.0` in PEP 508: it has no opposite of "
        '`platform_release === "5.1"`'
    ), err
    assert lines[1] == "hint: compare with `==` instead of `===` in the requirements' markers"


def test_the_same_forks_are_written_when_pep_508_can_say_them(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("lib==1.0; platform_release == '5.1'\nlib\n")
    code, out, err = compile_universal(tmp_path, index, "requirements.in",
                                       "--python-version", "3.10")
    assert code == 0, err
    pins = [Requirement(line) for line in out.splitlines()]  # raises on an invalid marker
    assert [(str(pin), str(pin.marker)) for pin in pins] == [
        ('lib==1.0; platform_release == "5.1"', 'platform_release == "5.1"'),
        ('lib==2.0; platform_release != "5.1"', 'platform_release != "5.1"'),
    ]
