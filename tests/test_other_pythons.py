"""kiln works with the oldest Pythons it targets (3.8, 3.9), not only the one running it:
`kiln venv --python`, `kiln pip install` into such an environment and
`kiln pip compile --python` (skipped when the interpreter is not on this machine)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, ok, run_python
from pythons import find_python, version_id

pytestmark = pytest.mark.slow

OLD_VERSIONS = [(3, 8), (3, 9)]


@pytest.fixture(params=OLD_VERSIONS, ids=version_id)
def old_python(request: pytest.FixtureRequest) -> tuple[tuple[int, int], str]:
    version: tuple[int, int] = request.param
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version_id(version)} interpreter on this machine")
    return version, python


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    # `native` 2.0 has wheels for CPython 3.11 only; 1.0 has them for 3.8 and 3.9.
    server.add(build_wheel(files, "native", "2.0", tag="cp311-none-any"))
    for minor in (8, 9):
        server.add(build_wheel(files, "native", "1.0", tag=f"cp3{minor}-none-any"))
    # `modern` 2.0 needs Python 3.10; 1.0 runs on 3.8 too.
    server.add(build_wheel(files, "modern", "2.0", requires_python=">=3.10"),
               requires_python=">=3.10")
    server.add(build_wheel(files, "modern", "1.0", requires_python=">=3.8"),
               requires_python=">=3.8")
    with server:
        yield server


def test_venv_for_a_version_request_makes_a_working_environment(
    tmp_path: Path, old_python: tuple[tuple[int, int], str]
) -> None:
    version, python = old_python
    env = base_env(tmp_path / "cache")
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env.get('PATH', '')}"
    result = ok(kiln("venv", tmp_path / "venv", "--python", version_id(version), env=env))
    assert f"Using CPython {version_id(version)}." in result.stderr
    said = run_python(tmp_path / "venv", "import sys; print(sys.prefix, *sys.version_info[:2])")
    assert said == f"{tmp_path / 'venv'} {version[0]} {version[1]}"


def test_install_into_an_old_python_environment_picks_the_wheel_for_its_tags(
    tmp_path: Path, old_python: tuple[tuple[int, int], str], index: IndexServer
) -> None:
    version, python = old_python
    env = base_env(tmp_path / "cache")
    venv = tmp_path / "venv"
    ok(kiln("venv", venv, "--python", python, env=env))
    result = ok(kiln("pip", "install", "native", "modern", "--python", venv,
                     "--default-index", index.url, env=env))
    assert "+ native==1.0" in result.stderr and "+ modern==1.0" in result.stderr
    code = (
        "import importlib.metadata as m, native, modern; "
        "print(native.__version__, modern.__version__, "
        "[line for line in m.distribution('native').read_text('WHEEL').splitlines() "
        "if line.startswith('Tag: ')])"
    )
    tag = f"cp{version[0]}{version[1]}-none-any"
    assert run_python(venv, code) == f"1.0 1.0 ['Tag: {tag}']"


def test_compile_for_an_old_python_chooses_versions_its_requires_python_admits(
    tmp_path: Path, old_python: tuple[tuple[int, int], str], index: IndexServer
) -> None:
    _, python = old_python
    env = base_env(tmp_path / "cache")
    (tmp_path / "requirements.in").write_text("modern\nnative\n")
    args = ["pip", "compile", "requirements.in", "--no-header", "--no-annotate",
            "--default-index", index.url]
    result = ok(kiln(*args, "--python", python, env=env, cwd=tmp_path))
    assert result.stdout == "modern==1.0\nnative==1.0\n"
    # The running interpreter (3.10 or newer) gets the newer versions.
    assert ok(kiln(*args, env=env, cwd=tmp_path)).stdout == "modern==2.0\nnative==2.0\n"
    # The header, meant to be shared, leaves the machine's interpreter path out.
    header = ok(kiln("pip", "compile", "requirements.in", "--python", python, "--default-index",
                     index.url, env=env, cwd=tmp_path)).stdout.splitlines()[1]
    assert header == f"#    kiln pip compile requirements.in --default-index {index.url}"
    # A universal resolution starts at the interpreter's version.
    (tmp_path / "requirements.in").write_text("modern\n")
    universal = ok(kiln(*args, "--universal", "--python", python, env=env, cwd=tmp_path))
    assert universal.stdout == (
        'modern==1.0 ; python_full_version < "3.10"\n'
        'modern==2.0 ; python_full_version >= "3.10"\n'
    )


def test_compile_python_cannot_be_combined_with_python_version(tmp_path: Path) -> None:
    env = base_env(tmp_path / "cache")
    (tmp_path / "requirements.in").write_text("modern\n")
    result = kiln("pip", "compile", "requirements.in", "--python", "3.9",
                  "--python-version", "3.12", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: `--python` cannot be combined with `--python-version` or `--python-platform`",
        "hint: `--python` resolves for that interpreter's own version and platform",
    ]
