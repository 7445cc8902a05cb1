"""The project environment (`kiln.core.operations.projectenv`): where it is, which Python it
gets, when it is made again, and what kiln refuses to remove. Real interpreters (the pyenv
versions `tests/pythons.py` finds), real virtual environments."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from pythons import find_python

from kiln.core.interpreter import inspect_interpreter
from kiln.core.operations.projectenv import (
    ProjectEnvironment,
    environment_location,
    project_environment,
)
from kiln.core.venv import create_venv
from kiln.errors import KilnError

RUNNING = sys.version_info[:2]


def needs(*versions: tuple[int, int]) -> list[str]:
    found = [find_python(version) for version in versions]
    missing = [f"{v[0]}.{v[1]}" for v, path in zip(versions, found) if path is None]
    if missing:
        pytest.skip(f"needs Python {', '.join(missing)}")
    return [path for path in found if path is not None]


def bin_with(tmp_path: Path, *versions: tuple[int, int]) -> str:
    """A folder holding only ``python3.X`` links to the given versions: the ``PATH`` of a
    test, so that which interpreters exist is known."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for version, path in zip(versions, needs(*versions)):
        (folder / f"python{version[0]}.{version[1]}").symlink_to(path)
    return str(folder)


def workspace(tmp_path: Path, requires: str = ">=3.8") -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "ws"\nversion = "1"\nrequires-python = "{requires}"\n'
    )
    return root


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)


def run(root: Path, requires: str | None, path: str, **kwargs: object) -> ProjectEnvironment:
    environ = {"PATH": path, **kwargs.pop("environ", {})}  # type: ignore[dict-item]
    return project_environment(
        root, SpecifierSet(requires) if requires is not None else None,
        environ=environ, **kwargs,  # type: ignore[arg-type]
    )


def python_version_of(venv: Path) -> str:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


def test_python_version_file_picks_the_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = bin_with(tmp_path, (3, 12), (3, 13))
    root = workspace(tmp_path)
    (root / ".python-version").write_text("# pinned\n3.12\n")
    monkeypatch.chdir(root)
    report = Lines()
    result = run(root, ">=3.8", path, report=report)
    assert result.created
    assert result.path == root / ".venv"
    assert result.env.prefix == root / ".venv"
    assert result.env.interpreter.version[:2] == (3, 12)
    assert python_version_of(root / ".venv") == "3.12"
    assert report.lines[0].startswith("Using CPython 3.12.")
    assert report.lines[0].endswith(f"interpreter at: {path}/python3.12")
    assert report.lines[1:] == ["Creating virtual environment at: .venv"]


def test_requires_python_above_the_running_one_finds_a_newer_python(tmp_path: Path):
    newer = (3, RUNNING[1] + 1)
    path = bin_with(tmp_path, newer)
    root = workspace(tmp_path)
    result = run(root, f">={newer[0]}.{newer[1]}", path)
    assert result.created
    assert result.env.interpreter.version[:2] == newer
    assert python_version_of(result.path) == f"{newer[0]}.{newer[1]}"


def test_the_running_interpreter_is_preferred_when_it_satisfies(tmp_path: Path):
    path = bin_with(tmp_path, (3, 12), (3, 13))
    root = workspace(tmp_path)
    result = run(root, f">={RUNNING[0]}.{RUNNING[1]}", path)
    assert result.env.interpreter.version[:2] == RUNNING


def test_no_interpreter_satisfying_requires_python_is_an_error(tmp_path: Path):
    root = workspace(tmp_path)
    with pytest.raises(KilnError, match=r"requires-python.*>=3\.99") as caught:
        run(root, ">=3.99", str(tmp_path / "empty-bin"))
    assert caught.value.hint and "--python" in caught.value.hint
    assert not (root / ".venv").exists()


def test_an_existing_environment_with_too_old_a_python_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    old, _new = needs((3, 11), (3, 12))
    path = bin_with(tmp_path, (3, 12))
    root = workspace(tmp_path)
    monkeypatch.chdir(root)
    venv = root / ".venv"
    create_venv(venv, inspect_interpreter(old))
    leftover = venv / "lib" / "python3.11" / "site-packages" / "stale.py"
    leftover.write_text("")
    report = Lines()
    result = run(root, ">=3.12", path, report=report)
    assert result.created
    assert result.env.interpreter.version[:2] == (3, 12)
    assert python_version_of(venv) == "3.12"
    assert not leftover.exists()
    assert re.fullmatch(
        r"Removing virtual environment at: \.venv "
        r"\(its Python 3\.11\.\d+ does not satisfy `requires-python` `>=3\.12`\)",
        report.lines[1],
    )
    assert report.lines[2] == "Creating virtual environment at: .venv"
    # The second time it is used as it is, silently.
    again = Lines()
    second = run(root, ">=3.12", path, report=again)
    assert not second.created
    assert second.env.prefix == venv
    assert again.lines == []


def test_an_existing_compatible_environment_is_kept(tmp_path: Path):
    root = workspace(tmp_path)
    venv = root / ".venv"
    create_venv(venv, inspect_interpreter(sys.executable))
    marker = venv / "keep.txt"
    marker.write_text("mine")
    result = run(root, ">=3.8", str(tmp_path / "empty-bin"))
    assert not result.created
    assert marker.read_text() == "mine"


def test_a_python_request_that_the_environment_does_not_match_remakes_it(tmp_path: Path):
    old, new = needs((3, 11), (3, 12))
    root = workspace(tmp_path)
    create_venv(root / ".venv", inspect_interpreter(old))
    result = run(root, ">=3.8", str(tmp_path / "empty-bin"), python=new)
    assert result.created
    assert result.env.interpreter.version[:2] == (3, 12)
    # The same path again is the environment's own base interpreter: kept.
    assert not run(root, ">=3.8", str(tmp_path / "empty-bin"), python=new).created


def test_a_python_request_outside_requires_python_is_an_error(tmp_path: Path):
    (old,) = needs((3, 11))
    root = workspace(tmp_path)
    with pytest.raises(KilnError, match=r"`--python .*` is Python 3\.11\.\d+.*`>=3\.12`"):
        run(root, ">=3.12", str(tmp_path / "empty-bin"), python=old)
    assert not (root / ".venv").exists()


def test_a_python_version_file_outside_requires_python_names_the_file(tmp_path: Path):
    path = bin_with(tmp_path, (3, 11))
    root = workspace(tmp_path)
    (root / ".python-version").write_text("3.11\n")
    with pytest.raises(KilnError) as caught:
        run(root, ">=3.12", path)
    assert str(root / ".python-version") in caught.value.message
    assert caught.value.hint and ".python-version" in caught.value.hint
    assert not (root / ".venv").exists()


def test_kiln_project_environment_relative_to_the_workspace_root(tmp_path: Path):
    root = workspace(tmp_path)
    result = run(
        root, None, str(tmp_path / "empty-bin"),
        environ={"KILN_PROJECT_ENVIRONMENT": "envs/main"},
    )
    assert result.path == root / "envs" / "main"
    assert (root / "envs" / "main" / "pyvenv.cfg").is_file()
    assert not (root / ".venv").exists()


def test_kiln_project_environment_absolute(tmp_path: Path):
    root = workspace(tmp_path)
    elsewhere = tmp_path / "elsewhere" / "env"
    result = run(
        root, None, str(tmp_path / "empty-bin"),
        environ={"KILN_PROJECT_ENVIRONMENT": str(elsewhere)},
    )
    assert result.path == elsewhere
    assert (elsewhere / "pyvenv.cfg").is_file()


def test_uv_project_environment_is_used_when_kiln_s_is_unset(tmp_path: Path):
    root = workspace(tmp_path)
    assert environment_location(root, environ={"UV_PROJECT_ENVIRONMENT": "uvenv"}).path == (
        root / "uvenv"
    )
    both = {"UV_PROJECT_ENVIRONMENT": "uvenv", "KILN_PROJECT_ENVIRONMENT": "kilnenv"}
    assert environment_location(root, environ=both).path == root / "kilnenv"
    empty = {"UV_PROJECT_ENVIRONMENT": "uvenv", "KILN_PROJECT_ENVIRONMENT": ""}
    assert environment_location(root, environ=empty).path == root / "uvenv"
    result = run(root, None, str(tmp_path / "empty-bin"), environ={"UV_PROJECT_ENVIRONMENT": "uvenv"})
    assert (root / "uvenv" / "pyvenv.cfg").is_file()
    assert result.path == root / "uvenv"


def test_a_directory_that_is_not_a_virtual_environment_is_refused_and_kept(tmp_path: Path):
    old, _new = needs((3, 11), (3, 12))
    root = workspace(tmp_path)
    folder = root / ".venv"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "todo.txt").write_text("keep me")
    (folder / "bin").mkdir()
    with pytest.raises(KilnError) as caught:
        run(root, ">=3.12", str(tmp_path / "empty-bin"), python=old)
    assert str(folder) in caught.value.message
    assert "not a virtual environment" in caught.value.message
    assert caught.value.hint and "KILN_PROJECT_ENVIRONMENT" in caught.value.hint
    assert (folder / "notes" / "todo.txt").read_text() == "keep me"
    assert (folder / "bin").is_dir()
    assert sorted(p.name for p in folder.iterdir()) == ["bin", "notes"]


def test_kiln_project_environment_at_a_home_directory_is_refused_and_kept(tmp_path: Path):
    root = workspace(tmp_path)
    home = tmp_path / "home" / "user"
    (home / ".config").mkdir(parents=True)
    (home / ".bashrc").write_text("export A=1\n")
    with pytest.raises(KilnError, match="is not a virtual environment"):
        run(root, None, str(tmp_path / "empty-bin"), environ={"KILN_PROJECT_ENVIRONMENT": str(home)})
    assert (home / ".bashrc").read_text() == "export A=1\n"
    assert sorted(p.name for p in home.iterdir()) == [".bashrc", ".config"]


def test_a_file_at_the_environment_path_is_refused_and_kept(tmp_path: Path):
    root = workspace(tmp_path)
    (root / ".venv").write_text("not a directory")
    with pytest.raises(KilnError, match="is not a directory"):
        run(root, None, str(tmp_path / "empty-bin"))
    assert (root / ".venv").read_text() == "not a directory"


def test_an_empty_directory_is_used(tmp_path: Path):
    root = workspace(tmp_path)
    (root / ".venv").mkdir()
    result = run(root, None, str(tmp_path / "empty-bin"))
    assert result.created
    assert (root / ".venv" / "pyvenv.cfg").is_file()


def test_a_broken_virtual_environment_is_made_again(tmp_path: Path):
    root = workspace(tmp_path)
    venv = root / ".venv"
    create_venv(venv, inspect_interpreter(sys.executable))
    (venv / "bin" / "python").unlink()
    for alias in (venv / "bin").glob("python3*"):
        alias.unlink()
    report = Lines()
    result = run(root, None, str(tmp_path / "empty-bin"), report=report)
    assert result.created
    assert (venv / "bin" / "python").exists()
    assert any(line.startswith("Removing virtual environment at: ") for line in report.lines)


def test_an_environment_holding_the_workspace_is_never_removed(tmp_path: Path):
    old, _new = needs((3, 11), (3, 12))
    outer = tmp_path / "outer"
    create_venv(outer, inspect_interpreter(old))
    root = outer / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "ws"\nversion = "1"\n')
    with pytest.raises(KilnError, match="holds the workspace"):
        run(root, ">=3.12", bin_with(tmp_path, (3, 12)), environ={"KILN_PROJECT_ENVIRONMENT": ".."})
    assert (outer / "pyvenv.cfg").is_file()
    assert (root / "pyproject.toml").is_file()


def test_a_linked_environment_is_used_but_never_removed_through_the_link(tmp_path: Path):
    old, new = needs((3, 11), (3, 12))
    root = workspace(tmp_path)
    target = tmp_path / "shared-env"
    create_venv(target, inspect_interpreter(old))
    (root / ".venv").symlink_to(target)
    used = run(root, ">=3.11", str(tmp_path / "empty-bin"))
    assert not used.created
    assert used.path == root / ".venv"
    with pytest.raises(KilnError, match="symbolic link") as caught:
        run(root, ">=3.12", str(tmp_path / "empty-bin"), python=new)
    assert str(target) in caught.value.message
    assert (root / ".venv").is_symlink()
    assert (target / "pyvenv.cfg").is_file()
    assert (target / "lib" / "python3.11" / "site-packages").is_dir()


def test_a_dangling_link_is_an_error(tmp_path: Path):
    root = workspace(tmp_path)
    (root / ".venv").symlink_to(tmp_path / "gone")
    with pytest.raises(KilnError, match="does not exist"):
        run(root, None, str(tmp_path / "empty-bin"))
    assert (root / ".venv").is_symlink()
    assert not (tmp_path / "gone").exists()


def test_active_uses_virtual_env(tmp_path: Path):
    root = workspace(tmp_path)
    active = tmp_path / "active-env"
    create_venv(active, inspect_interpreter(sys.executable))
    warnings = Lines()
    result = run(
        root, None, str(tmp_path / "empty-bin"), active=True, warn=warnings,
        environ={"VIRTUAL_ENV": str(active)},
    )
    assert result.path == active
    assert not result.created
    assert result.env.prefix == active
    assert not (root / ".venv").exists()
    assert warnings.lines == []


def test_a_different_virtual_env_is_ignored_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = workspace(tmp_path)
    monkeypatch.chdir(root)
    active = tmp_path / "active-env"
    create_venv(active, inspect_interpreter(sys.executable))
    warnings = Lines()
    result = run(root, None, str(tmp_path / "empty-bin"), warn=warnings, environ={"VIRTUAL_ENV": str(active)})
    assert result.path == root / ".venv"
    assert (root / ".venv" / "pyvenv.cfg").is_file()
    assert warnings.lines == [
        f"`VIRTUAL_ENV={active}` is not the project environment `.venv` and is ignored; "
        "pass `--active` to use the active environment instead"
    ]
    # VIRTUAL_ENV naming the project environment itself (relative to the working
    # directory) is no reason to warn.
    assert environment_location(root, environ={"VIRTUAL_ENV": ".venv"}).warning is None
    quiet = Lines()
    run(root, None, str(tmp_path / "empty-bin"), warn=quiet, environ={"VIRTUAL_ENV": str(root / ".venv")})
    assert quiet.lines == []


def test_dry_run_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = bin_with(tmp_path, (3, 12))
    root = workspace(tmp_path)
    monkeypatch.chdir(root)
    report = Lines()
    result = run(root, ">=3.12", path, dry_run=True, report=report)
    assert result.created
    assert result.path == root / ".venv"
    assert result.env.prefix == root / ".venv"
    assert result.env.interpreter.version[:2] == (3, 12)
    assert result.env.site_packages == root / ".venv" / "lib" / "python3.12" / "site-packages"
    assert report.lines == ["Would create project environment at: .venv"]
    assert not (root / ".venv").exists()
    assert sorted(p.name for p in root.iterdir()) == ["pyproject.toml"]


def test_dry_run_leaves_an_environment_to_replace_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    old, _new = needs((3, 11), (3, 12))
    path = bin_with(tmp_path, (3, 12))
    root = workspace(tmp_path)
    monkeypatch.chdir(root)
    create_venv(root / ".venv", inspect_interpreter(old))
    report = Lines()
    result = run(root, ">=3.12", path, dry_run=True, report=report)
    assert result.created
    assert len(report.lines) == 1
    assert report.lines[0].startswith("Would replace project environment at: .venv (its Python 3.11.")
    assert python_version_of(root / ".venv") == "3.11"
    used = Lines()
    assert not run(root, ">=3.11", path, dry_run=True, report=used).created
    assert used.lines == ["Would use project environment at: .venv"]


_RACE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from kiln.core.operations.projectenv import project_environment
    result = project_environment(Path(sys.argv[1]), None, environ={"PATH": ""})
    print("created" if result.created else "reused")
    """
)


def test_two_processes_at_once_make_the_environment_once(tmp_path: Path):
    root = workspace(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("VIRTUAL_ENV", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, str(root)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for _ in range(2)
    ]
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outcomes.append(out.strip())
    assert sorted(outcomes) == ["created", "reused"]
    assert (root / ".venv" / "pyvenv.cfg").is_file()
