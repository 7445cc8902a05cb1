"""`kiln venv` and the virtual environments it creates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiln.core import interpreter as interpreters
from kiln.core.interpreter import find_interpreter, inspect_interpreter
from kiln.errors import KilnError

pytestmark = pytest.mark.usefixtures("isolated_cache")


def kiln(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "SHELL": "/bin/bash"}
    return subprocess.run(
        [sys.executable, "-m", "kiln", *args], cwd=cwd, capture_output=True, text=True, env=env
    )


def python_says(venv: Path, code: str) -> str:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_venv_creates_a_working_environment_without_pip(tmp_path: Path):
    result = kiln(tmp_path, "venv")
    assert result.returncode == 0, result.stderr
    venv = tmp_path / ".venv"
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Using CPython 3.")
    assert lines[1:] == [
        "Creating virtual environment at: .venv",
        "Activate with: source .venv/bin/activate",
    ]
    assert python_says(venv, "import sys; print(sys.prefix)") == str(venv)
    assert python_says(venv, "import sys; print(sys.prefix != sys.base_prefix)") == "True"
    assert python_says(venv, "import importlib.util as u; print(u.find_spec('pip'))") == "None"
    config = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config
    assert "kiln = " in config
    assert (venv / ".gitignore").read_text().endswith("*\n")
    assert (venv / "bin" / "activate").is_file()


def test_activation_script_puts_the_environment_first_on_path(tmp_path: Path):
    assert kiln(tmp_path, "venv", "--prompt", "my env").returncode == 0
    script = (
        "source .venv/bin/activate && command -v python && echo \"$VIRTUAL_ENV_PROMPT\" "
        "&& deactivate && echo \"${VIRTUAL_ENV:-unset}\""
    )
    out = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [str(tmp_path / ".venv/bin/python"), "my env", "unset"]
    assert "prompt = my env" in (tmp_path / ".venv/pyvenv.cfg").read_text()


def test_system_site_packages_is_recorded(tmp_path: Path):
    assert kiln(tmp_path, "venv", "--system-site-packages").returncode == 0
    assert "include-system-site-packages = true" in (tmp_path / ".venv/pyvenv.cfg").read_text()


def test_existing_venv_needs_clear(tmp_path: Path):
    assert kiln(tmp_path, "venv").returncode == 0
    marker = tmp_path / ".venv" / "marker"
    marker.write_text("x")
    refused = kiln(tmp_path, "venv")
    assert refused.returncode == 1
    assert "error: a virtual environment already exists at" in refused.stderr
    assert "hint: pass `--clear` to replace it" in refused.stderr
    assert marker.exists()
    cleared = kiln(tmp_path, "venv", "--clear")
    assert cleared.returncode == 0, cleared.stderr
    assert not marker.exists()
    assert (tmp_path / ".venv/pyvenv.cfg").is_file()


def test_non_venv_directory_is_never_overwritten(tmp_path: Path):
    target = tmp_path / "project"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    for extra in ((), ("--clear",)):
        result = kiln(tmp_path, "venv", "project", *extra)
        assert result.returncode == 1
        assert "exists and is not a virtual environment" in result.stderr
        assert "Traceback" not in result.stderr
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_python_version_request_selects_an_interpreter(tmp_path: Path):
    wanted = f"{sys.version_info[0]}.{sys.version_info[1]}"
    result = kiln(tmp_path, "venv", "--python", wanted)
    assert result.returncode == 0, result.stderr
    assert python_says(tmp_path / ".venv", "import sys; print(sys.version[:4])") == wanted[:4]


def test_unknown_python_version_is_a_clear_error(tmp_path: Path):
    result = kiln(tmp_path, "venv", "--python", "2.1")
    assert result.returncode == 1
    assert "error: no interpreter found for Python 2.1" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_interpreter_facts_are_cached(cache_dir: Path):
    first = inspect_interpreter(sys.executable)
    assert list((cache_dir / "interpreter-v2").glob("*.json"))
    assert inspect_interpreter(sys.executable) == first
    assert first.version[:2] == tuple(sys.version_info[:2])
    assert str(first.tags[0]).startswith("cp3")
    assert first.venv_scheme["scripts"] == "bin"


def test_interpreter_path_request_accepts_a_venv_directory(tmp_path: Path):
    assert kiln(tmp_path, "venv").returncode == 0
    found = find_interpreter(str(tmp_path / ".venv"))
    assert found.prefix == str(tmp_path / ".venv")
    with pytest.raises(KilnError, match="no Python interpreter at"):
        find_interpreter(str(tmp_path / "missing" / "python"))


def test_a_new_environment_reuses_the_probe_of_another_from_the_same_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("one", "two"):
        assert kiln(tmp_path, "venv", name, "--python", sys.executable).returncode == 0
    probed: list[Path] = []
    real_probe = interpreters._probe

    def counting_probe(location: Path) -> interpreters.Interpreter:
        probed.append(location)
        return real_probe(location)

    monkeypatch.setattr(interpreters, "_probe", counting_probe)
    inspect_interpreter(tmp_path / "one" / "bin" / "python")
    second = inspect_interpreter(tmp_path / "two" / "bin" / "python")
    assert probed == [tmp_path / "one" / "bin" / "python"]
    # What the second environment's interpreter says of itself, asked directly.
    assert second == real_probe(tmp_path / "two" / "bin" / "python")
    assert second.paths["purelib"].startswith(str(tmp_path / "two"))
