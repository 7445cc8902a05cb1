"""`kiln pip list/freeze/show/check/tree` on a real environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok, run_python


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("inspect")
    env = base_env(root / "cache")
    server = IndexServer()
    server.add(build_wheel(root / "w", "top", "1.0", requires_dist=["mid>=1", "leaf"]))
    server.add(build_wheel(root / "w", "mid", "1.2", requires_dist=["leaf<2"]))
    server.add(build_wheel(root / "w", "leaf", "1.1"))
    server.add(build_wheel(root / "w", "loner", "0.3"))
    path = make_venv(root / "venv", env)
    with server:
        ok(kiln("pip", "install", "top", "loner", "--python", path,
                "--default-index", server.url, env=env))
    return path, env


def pip(venv: tuple[Path, dict[str, str]], *args: str) -> tuple[int, str, str]:
    path, env = venv
    result = kiln("pip", *args, "--python", path, env=env)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def test_list_columns(venv: tuple[Path, dict[str, str]]) -> None:
    assert pip(venv, "list")[1] == (
        "Package Version\n"
        "------- -------\n"
        "leaf    1.1\n"
        "loner   0.3\n"
        "mid     1.2\n"
        "top     1.0\n"
    )


def test_list_json_and_freeze_formats(venv: tuple[Path, dict[str, str]]) -> None:
    assert json.loads(pip(venv, "list", "--format", "json")[1]) == [
        {"name": "leaf", "version": "1.1"},
        {"name": "loner", "version": "0.3"},
        {"name": "mid", "version": "1.2"},
        {"name": "top", "version": "1.0"},
    ]
    expected = "leaf==1.1\nloner==0.3\nmid==1.2\ntop==1.0\n"
    assert pip(venv, "list", "--format", "freeze")[1] == expected
    assert pip(venv, "freeze")[1] == expected


def test_show_prints_requires_and_required_by(venv: tuple[Path, dict[str, str]]) -> None:
    path, _ = venv
    site = next((path / "lib").glob("python*/site-packages"))
    code, out, _ = pip(venv, "show", "leaf", "mid")
    assert code == 0
    assert out == (
        f"Name: leaf\nVersion: 1.1\nLocation: {site}\nRequires:\nRequired-by: mid, top\n"
        f"---\n"
        f"Name: mid\nVersion: 1.2\nLocation: {site}\nRequires: leaf\nRequired-by: top\n"
    )
    code, out, err = pip(venv, "show", "absent")
    assert code == 1
    assert "warning: Package(s) not found for: `absent`" in err


def test_tree_shows_roots_and_dependencies(venv: tuple[Path, dict[str, str]]) -> None:
    assert pip(venv, "tree")[1] == (
        "loner v0.3\n"
        "top v1.0\n"
        "├── leaf v1.1\n"
        "└── mid v1.2\n"
        "    └── leaf v1.1\n"
    )
    assert pip(venv, "tree", "--depth", "1", "--package", "top", "--show-version-specifiers")[1] == (
        "top v1.0\n├── leaf v1.1 [required: *]\n└── mid v1.2 [required: >=1]\n"
    )


def test_check_reports_compatible_then_missing(
    venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    code, _, err = pip(venv, "check")
    assert code == 0
    assert "Checked 4 packages in " in err
    assert "All installed packages are compatible" in err


def test_check_finds_a_missing_dependency(tmp_path: Path) -> None:
    env = base_env(tmp_path / "cache")
    server = IndexServer()
    server.add(build_wheel(tmp_path / "w", "needy", "1.0", requires_dist=["gone>=1"]))
    server.add(build_wheel(tmp_path / "w", "gone", "1.0"))
    path = make_venv(tmp_path / "venv", env)
    with server:
        ok(kiln("pip", "install", "needy", "--python", path, "--default-index", server.url,
                env=env))
    ok(kiln("pip", "uninstall", "gone", "--python", path, env=env))
    result = kiln("pip", "check", "--python", path, env=env)
    assert result.returncode == 1
    assert "Found 1 incompatibility" in result.stderr
    assert result.stdout == (
        "The package `needy` requires `gone>=1`, but `gone` is not installed\n"
    )


def test_listings_print_canonical_names_as_uv_does(tmp_path: Path) -> None:
    """A distribution whose METADATA spells its name `Mixed_Case.Name` is listed as `mixed-case-name`."""
    env = base_env(tmp_path / "cache")
    server = IndexServer()
    server.add(build_wheel(tmp_path / "w", "Mixed_Case.Name", "1.0", requires_dist=["Other_Dep"]))
    server.add(build_wheel(tmp_path / "w", "Other_Dep", "2.0"))
    path = make_venv(tmp_path / "venv", env)
    with server:
        ok(kiln("pip", "install", "Mixed_Case.Name", "--python", path, "--default-index", server.url, env=env))
    venv = (path, env)
    assert pip(venv, "freeze")[1] == "mixed-case-name==1.0\nother-dep==2.0\n"
    assert pip(venv, "list")[1].splitlines()[2:] == ["mixed-case-name 1.0", "other-dep       2.0"]
    assert pip(venv, "tree")[1] == "mixed-case-name v1.0\n└── other-dep v2.0\n"
    assert "Name: mixed-case-name\n" in pip(venv, "show", "Mixed_Case.Name")[1]
    removed = kiln("pip", "uninstall", "other_dep", "--python", path, env=env)
    assert removed.stderr.endswith(" - other-dep==2.0\n")


def test_commands_that_change_an_environment_name_it_unless_it_is_dot_venv(tmp_path: Path) -> None:
    env = base_env(tmp_path / "cache")
    server = IndexServer()
    server.add(build_wheel(tmp_path / "w", "leaf", "1.1"))
    (tmp_path / "project").mkdir()
    default = make_venv(tmp_path / "project" / ".venv", env)
    other = make_venv(tmp_path / "project" / "other", env)
    version = run_python(default, "import platform; print(platform.python_version())")
    with server:
        index = ("--default-index", server.url)
        quiet = ok(kiln("pip", "install", "leaf", *index, env=env, cwd=tmp_path / "project"))
        named = ok(kiln("pip", "install", "leaf", "--python", other, *index, env=env, cwd=tmp_path / "project"))
        away = ok(kiln("pip", "uninstall", "leaf", "--python", other, env=env, cwd=tmp_path))
    assert "environment at" not in quiet.stderr
    assert named.stderr.startswith(f"Using Python {version} environment at: other\n")
    assert away.stderr.startswith(f"Using Python {version} environment at: project/other\n")
    assert pip((default, env), "freeze")[1] == "leaf==1.1\n"
