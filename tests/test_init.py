"""`kiln init`: every kind and backend, names, Python pins, git, authors, workspaces, scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomllib

from kiln import __version__
from kiln.cli.main import main

Run = Callable[..., tuple[int, str, str]]
PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user or system git config, and no repository above the test directory."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return config


@pytest.fixture
def kiln(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `kiln init ...` in-process with tmp_path as the working directory."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["init", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def tree(root: Path) -> set[str]:
    """Every path under root, relative; the inside of `.git` is left out."""
    paths = {p.relative_to(root).as_posix() for p in root.rglob("*")}
    return {p for p in paths if not p.startswith(".git/")}


def load(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


# --- kinds -------------------------------------------------------------------------------


def test_default_is_flat_app_with_main_py_and_no_build_system(kiln, tmp_path: Path) -> None:
    code, out, err = kiln("example-app")
    project = tmp_path / "work" / "example-app"
    assert code == 0
    assert out == ""
    assert err == f"Initialized project `example-app` at `{project}`\n"
    assert tree(project) == {".git", ".gitignore", ".python-version", "README.md", "main.py", "pyproject.toml"}
    assert (project / "pyproject.toml").read_text() == (
        "[project]\n"
        'name = "example-app"\n'
        'version = "0.1.0"\n'
        'description = "Add your description here"\n'
        'readme = "README.md"\n'
        f'requires-python = ">={PY}"\n'
        "dependencies = []\n"
    )
    assert (project / ".python-version").read_text() == f"{PY}\n"
    assert "__pycache__/" in (project / ".gitignore").read_text()
    run = subprocess.run([sys.executable, "main.py"], cwd=project, capture_output=True, text=True)
    assert run.stdout == "Hello from example-app!\n"


def test_app_flag_is_the_flat_app(kiln, tmp_path: Path) -> None:
    assert kiln("--app", "a", "--vcs", "none")[0] == 0
    assert tree(tmp_path / "work" / "a") == {".python-version", "README.md", "main.py", "pyproject.toml"}


def test_package_has_src_layout_console_script_and_kiln_backend(kiln, tmp_path: Path) -> None:
    assert kiln("--package", "example-pkg", "--vcs", "none")[0] == 0
    project = tmp_path / "work" / "example-pkg"
    assert tree(project) == {
        ".python-version", "README.md", "pyproject.toml", "src", "src/example_pkg", "src/example_pkg/__init__.py",
    }
    assert (project / "pyproject.toml").read_text() == (
        "[project]\n"
        'name = "example-pkg"\n'
        'version = "0.1.0"\n'
        'description = "Add your description here"\n'
        'readme = "README.md"\n'
        f'requires-python = ">={PY}"\n'
        "dependencies = []\n"
        "\n"
        "[project.scripts]\n"
        'example-pkg = "example_pkg:main"\n'
        "\n"
        "[build-system]\n"
        'requires = ["kiln-build>=0.1.0,<0.2"]\n'
        'build-backend = "kiln_build"\n'
    )
    assert (project / "src/example_pkg/__init__.py").read_text() == (
        'def main() -> None:\n    print("Hello from example-pkg!")\n'
    )


def test_lib_has_py_typed_and_hello(kiln, tmp_path: Path) -> None:
    assert kiln("--lib", "example-lib", "--vcs", "none")[0] == 0
    project = tmp_path / "work" / "example-lib"
    assert (project / "src/example_lib/py.typed").read_text() == ""
    assert (project / "src/example_lib/__init__.py").read_text() == (
        'def hello() -> str:\n    return "Hello from example-lib!"\n'
    )
    data = load(project / "pyproject.toml")
    assert "scripts" not in data["project"]
    assert data["build-system"] == {"requires": ["kiln-build>=0.1.0,<0.2"], "build-backend": "kiln_build"}


def test_bare_writes_only_pyproject(kiln, tmp_path: Path) -> None:
    assert kiln("--bare", "example")[0] == 0
    project = tmp_path / "work" / "example"
    assert tree(project) == {"pyproject.toml"}
    assert (project / "pyproject.toml").read_text() == (
        f'[project]\nname = "example"\nversion = "0.1.0"\nrequires-python = ">={PY}"\ndependencies = []\n'
    )


def test_bare_lib_adds_only_the_build_system_table(kiln, tmp_path: Path) -> None:
    assert kiln("--bare", "--lib", "--build-backend", "hatchling", "--description", "tiny", "x")[0] == 0
    project = tmp_path / "work" / "x"
    assert tree(project) == {"pyproject.toml"}
    data = load(project / "pyproject.toml")
    assert data["project"]["description"] == "tiny"
    assert data["build-system"] == {"requires": ["hatchling"], "build-backend": "hatchling.build"}


def test_bare_opt_ins_pin_python_and_git(kiln, tmp_path: Path) -> None:
    assert kiln("--bare", "--pin-python", "--vcs", "git", "x")[0] == 0
    assert tree(tmp_path / "work" / "x") == {".git", ".gitignore", ".python-version", "pyproject.toml"}


def test_bare_native_backend_keeps_its_tool_table_but_writes_no_sources(kiln, tmp_path: Path) -> None:
    assert kiln("--bare", "--build-backend", "maturin", "x")[0] == 0
    project = tmp_path / "work" / "x"
    assert tree(project) == {"pyproject.toml"}
    assert load(project / "pyproject.toml")["tool"]["maturin"]["module-name"] == "x._core"


def test_build_backend_alone_implies_package(kiln, tmp_path: Path) -> None:
    assert kiln("--build-backend", "flit", "--vcs", "none", "tool")[0] == 0
    data = load(tmp_path / "work/tool/pyproject.toml")
    assert data["project"]["scripts"] == {"tool": "tool:main"}
    assert data["build-system"]["build-backend"] == "flit_core.buildapi"


def test_compatible_kiln_build_range_follows_the_running_version() -> None:
    from kiln.init.backends import lookup

    minor = int(__version__.split(".")[1])
    assert lookup("kiln").requires == (f"kiln-build>={__version__},<0.{minor + 1}",)


# --- backends ----------------------------------------------------------------------------

BUILD_SYSTEMS = {
    "kiln": (["kiln-build>=0.1.0,<0.2"], "kiln_build"),
    "uv": (["uv_build>=0.13.0,<0.14"], "uv_build"),
    "hatchling": (["hatchling"], "hatchling.build"),
    "flit-core": (["flit_core>=3.11,<5"], "flit_core.buildapi"),
    "pdm-backend": (["pdm-backend"], "pdm.backend"),
    "setuptools": (["setuptools>=61"], "setuptools.build_meta"),
    "poetry-core": (["poetry-core>=2,<3"], "poetry.core.masonry.api"),
    "maturin": (["maturin>=1.0,<2.0"], "maturin"),
    "scikit-build-core": (["scikit-build-core>=0.10", "pybind11"], "scikit_build_core.build"),
}


@pytest.mark.parametrize("kind", ["--package", "--lib"])
@pytest.mark.parametrize("backend", sorted(BUILD_SYSTEMS))
def test_every_backend_gets_its_build_system_table(kiln, tmp_path: Path, backend: str, kind: str) -> None:
    assert kiln(kind, "--build-backend", backend, "--vcs", "none", "my-proj")[0] == 0
    project = tmp_path / "work" / "my-proj"
    data = load(project / "pyproject.toml")
    requires, build_backend = BUILD_SYSTEMS[backend]
    assert data["build-system"] == {"requires": requires, "build-backend": build_backend}
    init = (project / "src/my_proj/__init__.py").read_text()
    assert ("def hello() -> str:" in init) == (kind == "--lib")
    assert ("def main() -> None:" in init) == (kind == "--package")


@pytest.mark.parametrize("alias", ["hatch", "flit", "pdm", "poetry", "scikit", "uv_build", "kiln-build"])
def test_backend_aliases_are_accepted(kiln, alias: str) -> None:
    assert kiln("--lib", "--build-backend", alias, "--vcs", "none", "p")[0] == 0


def test_maturin_project_has_cargo_toml_lib_rs_and_stub(kiln, tmp_path: Path) -> None:
    assert kiln("--lib", "--build-backend", "maturin", "--vcs", "none", "example-ext")[0] == 0
    project = tmp_path / "work" / "example-ext"
    assert {"Cargo.toml", "src/lib.rs", "src/example_ext/_core.pyi", "src/example_ext/__init__.py"} <= tree(project)
    cargo = load(project / "Cargo.toml")
    assert cargo["package"]["name"] == "example_ext"
    assert cargo["lib"] == {"name": "_core", "crate-type": ["cdylib"]}
    assert "pyo3" in cargo["dependencies"]
    lib_rs = (project / "src/lib.rs").read_text()
    assert "use pyo3::prelude::*;" in lib_rs
    assert '"Hello from example-ext!".to_string()' in lib_rs
    assert "fn _core(m: &Bound<'_, PyModule>)" in lib_rs
    assert load(project / "pyproject.toml")["tool"] == {
        "maturin": {"module-name": "example_ext._core", "python-packages": ["example_ext"], "python-source": "src"}
    }
    assert (project / "src/example_ext/_core.pyi").read_text() == "def hello_from_bin() -> str: ...\n"
    assert (project / "src/example_ext/__init__.py").read_text() == (
        "from example_ext._core import hello_from_bin\n\n\ndef hello() -> str:\n    return hello_from_bin()\n"
    )


def test_scikit_build_core_project_has_cmake_and_pybind11_source(kiln, tmp_path: Path) -> None:
    assert kiln("--package", "--build-backend", "scikit-build-core", "--vcs", "none", "example-ext")[0] == 0
    project = tmp_path / "work" / "example-ext"
    cmake = (project / "CMakeLists.txt").read_text()
    assert "find_package(pybind11 CONFIG REQUIRED)" in cmake
    assert "pybind11_add_module(_core MODULE src/main.cpp)" in cmake
    assert "install(TARGETS _core DESTINATION example_ext)" in cmake
    cpp = (project / "src/main.cpp").read_text()
    assert "PYBIND11_MODULE(_core, m)" in cpp
    assert '"Hello from example-ext!"' in cpp
    assert load(project / "pyproject.toml")["tool"] == {
        "scikit-build": {"minimum-version": "build-system.requires", "build-dir": "build/{wheel_tag}"}
    }
    assert "print(hello_from_bin())" in (project / "src/example_ext/__init__.py").read_text()


def _build_wheel(project: Path, outdir: Path, backend: str) -> Path:
    """Build with `kiln build --wheel`: in-process for kiln_build, isolated for the others."""
    result = subprocess.run(
        [sys.executable, "-m", "kiln", "build", "--wheel", "--out-dir", str(outdir), str(project)],
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = outdir.glob(f"{project.name.replace('-', '_')}-0.1.0-*.whl")
    assert result.stdout.strip().endswith(wheel.name), result.stdout
    return wheel


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["kiln", "uv", "hatchling", "flit-core", "pdm-backend", "setuptools"])
def test_generated_package_and_lib_build_install_and_run(kiln, tmp_path: Path, backend: str) -> None:
    assert kiln("--package", "--build-backend", backend, "--vcs", "none", "greet-app")[0] == 0
    assert kiln("--lib", "--build-backend", backend, "--vcs", "none", "greet-lib")[0] == 0
    work, dist = tmp_path / "work", tmp_path / "dist"
    wheels = [_build_wheel(work / name, dist / name, backend) for name in ("greet-app", "greet-lib")]

    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(python),
         "install", "--no-index", "--no-deps", *map(str, wheels)],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    script = subprocess.run([str(env_dir / "bin" / "greet-app")], capture_output=True, text=True, cwd=tmp_path)
    assert script.stdout == "Hello from greet-app!\n"
    hello = subprocess.run(
        [str(python), "-c", "import greet_lib; print(greet_lib.hello())"], capture_output=True, text=True, cwd=tmp_path
    )
    assert hello.stdout == "Hello from greet-lib!\n"
    typed = subprocess.run(
        [str(python), "-c", "import importlib.resources as r; print(r.files('greet_lib').joinpath('py.typed').is_file())"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert typed.stdout == "True\n"


# --- names -------------------------------------------------------------------------------


def test_name_option_is_normalised_and_gives_the_module(kiln, tmp_path: Path) -> None:
    assert kiln("--package", "--name", "Foo.Bar__Baz", "--vcs", "none", "dir")[0] == 0
    project = tmp_path / "work" / "dir"
    assert load(project / "pyproject.toml")["project"]["scripts"] == {"foo-bar-baz": "foo_bar_baz:main"}
    assert (project / "src/foo_bar_baz/__init__.py").is_file()


def test_directory_name_with_spaces_becomes_dashes(kiln, tmp_path: Path) -> None:
    assert kiln("--lib", "--vcs", "none", "baz bop")[0] == 0
    assert load(tmp_path / "work/baz bop/pyproject.toml")["project"]["name"] == "baz-bop"
    assert (tmp_path / "work/baz bop/src/baz_bop/py.typed").is_file()


def test_invalid_directory_name_is_an_error_and_nothing_is_written(kiln, tmp_path: Path) -> None:
    code, _, err = kiln(".hidden")
    assert code == 1
    assert err == (
        "error: the target directory (`.hidden`) is not a valid package name\n"
        "hint: choose a name with `--name NAME`\n"
    )
    assert not (tmp_path / "work" / ".hidden").exists()


def test_invalid_name_option_is_an_error(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--name", "püthon", "x")
    assert code == 1
    assert err.startswith("error: `püthon` is not a valid package name\nhint: ")
    assert not (tmp_path / "work" / "x").exists()


def test_name_that_is_not_an_identifier_is_rejected_for_packages_only(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--lib", "3d-tools")
    assert code == 1
    assert "module name `3d_tools`" in err
    assert not (tmp_path / "work" / "3d-tools").exists()
    assert kiln("--app", "--vcs", "none", "3d-tools")[0] == 0


def test_dot_uses_the_working_directory_name(kiln, tmp_path: Path) -> None:
    target = tmp_path / "work" / "here"
    target.mkdir()
    os.chdir(target)
    code, _, err = kiln("--vcs", "none", ".")
    assert code == 0
    assert load(target / "pyproject.toml")["project"]["name"] == "here"
    assert err == f"Initialized project `here` at `{target}`\n"


def test_dot_dot_names_the_parent_directory(kiln, tmp_path: Path) -> None:
    (tmp_path / "work" / "sub").mkdir()
    os.chdir(tmp_path / "work" / "sub")
    assert kiln("--vcs", "none", "..")[0] == 0
    assert load(tmp_path / "work" / "pyproject.toml")["project"]["name"] == "work"


def test_no_path_initialises_the_working_directory(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--vcs", "none")
    assert code == 0
    assert err == "Initialized project `work`\n"
    assert (tmp_path / "work" / "main.py").is_file()


# --- refusals ----------------------------------------------------------------------------


def test_existing_pyproject_is_an_error_and_nothing_changes(kiln, tmp_path: Path) -> None:
    project = tmp_path / "work" / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text("# mine\n")
    code, _, err = kiln("--lib", "p")
    assert code == 1
    assert err.startswith(f"error: `{project}` already has a `pyproject.toml`\nhint: ")
    assert tree(project) == {"pyproject.toml"}
    assert (project / "pyproject.toml").read_text() == "# mine\n"


def test_unknown_backend_is_an_error_and_nothing_is_written(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--build-backend", "bazel", "p")
    assert code == 1
    assert err.startswith("error: unknown build backend `bazel`\nhint: choose one of `kiln`, `uv`")
    assert not (tmp_path / "work" / "p").exists()


def test_app_with_build_backend_is_refused(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--app", "--build-backend", "uv", "p")
    assert code == 1
    assert "`--build-backend` does not apply" in err
    assert not (tmp_path / "work" / "p").exists()


def test_no_package_is_the_flat_app(kiln, tmp_path: Path) -> None:
    assert kiln("--no-package", "--vcs", "none", "a")[0] == 0
    assert kiln("--app", "--no-package", "--vcs", "none", "b")[0] == 0
    for name in ("a", "b"):
        assert tree(tmp_path / "work" / name) == {".python-version", "README.md", "main.py", "pyproject.toml"}
        assert "build-system" not in load(tmp_path / "work" / name / "pyproject.toml")


@pytest.mark.parametrize("other", [["--lib"], ["--package"], ["--build-backend", "uv"]])
def test_no_package_with_a_build_system_option_is_a_usage_error(kiln, tmp_path: Path, other: list[str]) -> None:
    code, _, err = kiln("--no-package", *other, "p")
    assert code == 2
    assert err.startswith(f"error: `--no-package` cannot be combined with `{other[0]}`\n")
    assert not (tmp_path / "work" / "p").exists()


def test_no_description_leaves_the_key_out(kiln, tmp_path: Path) -> None:
    assert kiln("--no-description", "--vcs", "none", "a")[0] == 0
    assert "description" not in load(tmp_path / "work" / "a" / "pyproject.toml")["project"]
    # The last of `--description` and `--no-description` wins, as in uv.
    assert kiln("--description", "x", "--no-description", "--vcs", "none", "b")[0] == 0
    assert "description" not in load(tmp_path / "work" / "b" / "pyproject.toml")["project"]
    assert kiln("--no-description", "--description", "x", "--vcs", "none", "c")[0] == 0
    assert load(tmp_path / "work" / "c" / "pyproject.toml")["project"]["description"] == "x"


def test_kind_flags_are_mutually_exclusive(kiln) -> None:
    code, _, err = kiln("--app", "--lib", "p")
    assert code == 2
    assert "not allowed with argument" in err


def test_existing_files_are_kept(kiln, tmp_path: Path) -> None:
    project = tmp_path / "work" / "p"
    project.mkdir()
    (project / "main.py").write_text("print('mine')\n")
    (project / "README.md").write_text("mine\n")
    assert kiln("--vcs", "none", "p")[0] == 0
    assert (project / "main.py").read_text() == "print('mine')\n"
    assert (project / "README.md").read_text() == "mine\n"


# --- metadata options --------------------------------------------------------------------


def test_description_with_quotes_stays_valid_toml(kiln, tmp_path: Path) -> None:
    assert kiln("--description", 'say "hi" \\ bye', "--vcs", "none", "p")[0] == 0
    assert load(tmp_path / "work/p/pyproject.toml")["project"]["description"] == 'say "hi" \\ bye'


def test_no_readme_omits_file_and_key(kiln, tmp_path: Path) -> None:
    assert kiln("--lib", "--no-readme", "--vcs", "none", "p")[0] == 0
    assert not (tmp_path / "work/p/README.md").exists()
    assert "readme" not in load(tmp_path / "work/p/pyproject.toml")["project"]


def test_python_version_sets_requires_python_and_pin(kiln, tmp_path: Path) -> None:
    assert kiln("--python", "3.10", "--vcs", "none", "p")[0] == 0
    assert load(tmp_path / "work/p/pyproject.toml")["project"]["requires-python"] == ">=3.10"
    assert (tmp_path / "work/p/.python-version").read_text() == "3.10\n"


def test_python_specifier_is_kept_verbatim(kiln, tmp_path: Path) -> None:
    assert kiln("--python", ">=3.9,<4", "--vcs", "none", "p")[0] == 0
    assert load(tmp_path / "work/p/pyproject.toml")["project"]["requires-python"] == ">=3.9,<4"
    assert (tmp_path / "work/p/.python-version").read_text() == f"{PY}\n"


def test_invalid_python_is_an_error(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--python", "snake", "p")
    assert code == 1
    assert err.startswith("error: `--python snake` is neither a Python version nor a version specifier\n")
    assert not (tmp_path / "work/p").exists()


def test_existing_python_version_file_is_kept(kiln, tmp_path: Path) -> None:
    (tmp_path / "work" / "p").mkdir()
    (tmp_path / "work" / "p" / ".python-version").write_text("3.9\n")
    assert kiln("--python", "3.12", "--vcs", "none", "p")[0] == 0
    assert (tmp_path / "work/p/.python-version").read_text() == "3.9\n"


def test_no_pin_python_skips_python_version_file(kiln, tmp_path: Path) -> None:
    assert kiln("--no-pin-python", "--vcs", "none", "p")[0] == 0
    assert not (tmp_path / "work/p/.python-version").exists()


# --- git and authors ---------------------------------------------------------------------


def test_vcs_none_skips_git(kiln, tmp_path: Path) -> None:
    assert kiln("--vcs", "none", "p")[0] == 0
    assert not (tmp_path / "work/p/.git").exists()
    assert not (tmp_path / "work/p/.gitignore").exists()


def test_inside_a_git_work_tree_no_repository_or_gitignore_is_made(kiln, tmp_path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", str(tmp_path / "work")], check=True)
    assert kiln("p")[0] == 0
    assert not (tmp_path / "work/p/.git").exists()
    assert not (tmp_path / "work/p/.gitignore").exists()


def test_vcs_git_without_git_on_path_is_an_error(kiln, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, _, err = kiln("--vcs", "git", "p")
    assert code == 1
    assert err.startswith("error: `--vcs git` needs `git`, which is not on PATH\n")
    assert not (tmp_path / "work/p").exists()


def test_without_git_the_default_silently_skips_vcs(kiln, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert kiln("p") == (0, "", f"Initialized project `p` at `{tmp_path / 'work' / 'p'}`\n")
    assert not (tmp_path / "work/p/.git").exists()


def test_packaged_projects_take_the_author_from_git(kiln, tmp_path: Path, isolated_git: Path) -> None:
    isolated_git.write_text('[user]\n\tname = Tony \\"Iron Man\\" Stark\n\temail = ironman@example.com\n')
    assert kiln("--lib", "--vcs", "none", "p")[0] == 0
    assert load(tmp_path / "work/p/pyproject.toml")["project"]["authors"] == [
        {"name": 'Tony "Iron Man" Stark', "email": "ironman@example.com"}
    ]


def test_author_from_none_and_flat_apps_have_no_authors(kiln, tmp_path: Path, isolated_git: Path) -> None:
    isolated_git.write_text("[user]\n\tname = Alice\n")
    assert kiln("--lib", "--author-from", "none", "--vcs", "none", "a")[0] == 0
    assert kiln("--vcs", "none", "b")[0] == 0
    assert kiln("--author-from", "git", "--vcs", "none", "c")[0] == 0
    assert "authors" not in load(tmp_path / "work/a/pyproject.toml")["project"]
    assert "authors" not in load(tmp_path / "work/b/pyproject.toml")["project"]
    assert load(tmp_path / "work/c/pyproject.toml")["project"]["authors"] == [{"name": "Alice"}]


# --- workspaces --------------------------------------------------------------------------

ROOT_PYPROJECT = """\
# The workspace root: keep this comment.
[project]
name = "root"
version = "0.1.0"
requires-python = ">=3.10"  # shared by every member

[tool.{tool}.workspace]
# Members are listed by hand.
members = ["libs/core"]
exclude = ["scratch/*"]
"""


@pytest.mark.parametrize("tool", ["kiln", "uv"])
def test_init_inside_workspace_adds_member_and_keeps_comments(kiln, tmp_path: Path, tool: str) -> None:
    root = tmp_path / "work"
    (root / "pyproject.toml").write_text(ROOT_PYPROJECT.format(tool=tool))
    code, _, err = kiln("--lib", "--vcs", "none", "packages/new-lib")
    assert code == 0
    assert err.splitlines()[0] == f"added `packages/new-lib` to the members of the workspace at `{root}`"
    assert (root / "pyproject.toml").read_text() == ROOT_PYPROJECT.format(tool=tool).replace(
        'members = ["libs/core"]', 'members = [\n    "libs/core",\n    "packages/new-lib",\n]'
    )
    member = load(root / "packages/new-lib/pyproject.toml")
    assert member["project"]["requires-python"] == ">=3.10"


def test_member_already_matched_by_glob_leaves_root_alone(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    text = ROOT_PYPROJECT.format(tool="kiln").replace('["libs/core"]', '["libs/*"]')
    (root / "pyproject.toml").write_text(text)
    code, _, err = kiln("--vcs", "none", "libs/extra")
    assert code == 0
    assert "`extra` is already a member of the workspace" in err
    assert (root / "pyproject.toml").read_text() == text


def test_excluded_directory_is_not_added(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    text = ROOT_PYPROJECT.format(tool="kiln")
    (root / "pyproject.toml").write_text(text)
    code, _, err = kiln("--vcs", "none", "scratch/try")
    assert code == 0
    assert "`try` is excluded from the workspace" in err
    assert (root / "pyproject.toml").read_text() == text


def test_no_workspace_leaves_root_alone(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    text = ROOT_PYPROJECT.format(tool="kiln")
    (root / "pyproject.toml").write_text(text)
    assert kiln("--no-workspace", "--vcs", "none", "other") == (
        0, "", f"Initialized project `other` at `{root / 'other'}`\n"
    )
    assert (root / "pyproject.toml").read_text() == text


def test_workspace_without_members_key_gets_one(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    (root / "pyproject.toml").write_text("[tool.kiln.workspace]\n")
    assert kiln("--vcs", "none", "a")[0] == 0
    assert load(root / "pyproject.toml") == {"tool": {"kiln": {"workspace": {"members": ["a"]}}}}


def test_parent_project_without_workspace_table_becomes_the_root(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    (root / "pyproject.toml").write_text('# solo\n[project]\nname = "solo"\nversion = "1"\n')
    code, _, err = kiln("--vcs", "none", "a")
    assert code == 0
    assert err.splitlines()[0] == (
        f"added `a` to the members of the workspace at `{root}` "
        "(a new `[tool.kiln.workspace]` table)"
    )
    assert (root / "pyproject.toml").read_text() == (
        '# solo\n[project]\nname = "solo"\nversion = "1"\n\n'
        '[tool.kiln.workspace]\nmembers = [\n    "a",\n]\n'
    )
    # The second project joins the same list.
    assert kiln("--vcs", "none", "b")[0] == 0
    assert load(root / "pyproject.toml")["tool"]["kiln"]["workspace"]["members"] == ["a", "b"]


def test_parent_uv_project_gets_a_uv_workspace_table(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    text = '[project]\nname = "solo"\nversion = "1"\n\n[tool.uv]\ndev-dependencies = []\n'
    (root / "pyproject.toml").write_text(text)
    code, _, err = kiln("--vcs", "none", "a")
    assert code == 0
    assert "(a new `[tool.uv.workspace]` table)" in err
    assert (root / "pyproject.toml").read_text() == (
        text + '\n[tool.uv.workspace]\nmembers = [\n    "a",\n]\n'
    )


def test_new_table_keeps_a_blank_line_before_the_tables_after_it(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    (root / "pyproject.toml").write_text(
        '[project]\nname = "solo"\n\n[tool.kiln]\ndefault-groups = []\n\n[tool.uv]\nmanaged = true\n'
    )
    assert kiln("--vcs", "none", "a")[0] == 0
    assert (root / "pyproject.toml").read_text() == (
        '[project]\nname = "solo"\n\n[tool.kiln]\ndefault-groups = []\n\n'
        '[tool.kiln.workspace]\nmembers = [\n    "a",\n]\n\n[tool.uv]\nmanaged = true\n'
    )


def test_project_inside_a_member_joins_the_root_not_the_member(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    (root / "pyproject.toml").write_text('[project]\nname = "root"\nversion = "1"\n')
    assert kiln("--vcs", "none", "foo")[0] == 0
    member = load(root / "foo" / "pyproject.toml")
    assert "tool" not in member
    code, _, err = kiln("--vcs", "none", "foo/bar")
    assert code == 0
    assert err.splitlines()[0] == f"added `foo/bar` to the members of the workspace at `{root}`"
    assert load(root / "pyproject.toml")["tool"]["kiln"]["workspace"]["members"] == ["foo", "foo/bar"]
    assert load(root / "foo" / "pyproject.toml") == member


def test_project_inside_a_project_the_workspace_does_not_list_joins_that_project(
    kiln, tmp_path: Path
) -> None:
    root = tmp_path / "work"
    text = ROOT_PYPROJECT.format(tool="kiln")
    (root / "pyproject.toml").write_text(text)
    tool = root / "tools" / "gen"
    tool.mkdir(parents=True)
    (tool / "pyproject.toml").write_text('[project]\nname = "gen"\nversion = "1"\n')
    code, _, err = kiln("--vcs", "none", "tools/gen/plugin")
    assert code == 0
    assert f"added `plugin` to the members of the workspace at `{tool}`" in err
    assert load(tool / "pyproject.toml")["tool"]["kiln"]["workspace"]["members"] == ["plugin"]
    assert (root / "pyproject.toml").read_text() == text


def test_parent_file_with_only_tool_settings_is_passed_over(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    (root / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    code, _, err = kiln("--vcs", "none", "a")
    assert code == 0
    assert err == f"Initialized project `a` at `{root / 'a'}`\n"
    assert (root / "pyproject.toml").read_text() == "[tool.ruff]\nline-length = 100\n"


def test_unmanaged_parent_project_is_left_alone(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    text = '[project]\nname = "solo"\nversion = "1"\n\n[tool.uv]\nmanaged = false\n'
    (root / "pyproject.toml").write_text(text)
    assert kiln("--vcs", "none", "a")[0] == 0
    assert (root / "pyproject.toml").read_text() == text


def test_no_workspace_leaves_a_parent_project_alone(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    (root / "pyproject.toml").write_text('[project]\nname = "solo"\n')
    assert kiln("--no-workspace", "--vcs", "none", "a")[0] == 0
    assert (root / "pyproject.toml").read_text() == '[project]\nname = "solo"\n'


def test_broken_workspace_root_is_an_error_and_nothing_is_written(kiln, tmp_path: Path) -> None:
    root = tmp_path / "work"
    (root / "pyproject.toml").write_text("[tool.kiln.workspace\n")
    code, _, err = kiln("a")
    assert code == 1
    assert err.startswith(f"error: `{root / 'pyproject.toml'}` is not valid TOML")
    assert "hint: fix the file, or pass `--no-workspace`" in err
    assert not (root / "a").exists()


# --- scripts -----------------------------------------------------------------------------


def test_script_is_created_with_inline_metadata(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--script", "tools/hello.py")
    assert code == 0
    assert err == "Created script `tools/hello.py`\n"
    script = tmp_path / "work/tools/hello.py"
    assert script.read_text() == (
        "# /// script\n"
        f'# requires-python = ">={PY}"\n'
        "# dependencies = []\n"
        "# ///\n"
        "\n\n"
        "def main() -> None:\n"
        '    print("Hello from hello.py!")\n'
        "\n\n"
        'if __name__ == "__main__":\n'
        "    main()\n"
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.stdout == "Hello from hello.py!\n"


def test_bare_script_has_only_the_metadata_block(kiln, tmp_path: Path) -> None:
    assert kiln("--script", "--bare", "--python", "3.12", "s.py")[0] == 0
    assert (tmp_path / "work/s.py").read_text() == (
        '# /// script\n# requires-python = ">=3.12"\n# dependencies = []\n# ///\n'
    )


def test_existing_script_gets_metadata_after_its_shebang(kiln, tmp_path: Path) -> None:
    script = tmp_path / "work/run.py"
    script.write_text("#!/usr/bin/env python3\nprint('hi')\n")
    code, _, err = kiln("--script", "run.py")
    assert code == 0
    assert err.startswith("warning: the shebang `#!/usr/bin/env python3` runs the script without")
    assert err.endswith("Added inline metadata to `run.py`\n")
    assert script.read_text() == (
        "#!/usr/bin/env python3\n#\n# /// script\n"
        f'# requires-python = ">={PY}"\n'
        "# dependencies = []\n# ///\n\nprint('hi')\n"
    )


def test_script_with_metadata_is_refused_unchanged(kiln, tmp_path: Path) -> None:
    script = tmp_path / "work/s.py"
    original = "# /// script\n# dependencies = []\n# ///\n"
    script.write_text(original)
    code, _, err = kiln("--script", "s.py")
    assert code == 1
    assert err.startswith("error: `s.py` already has a `# /// script` metadata block\n")
    assert script.read_text() == original


def test_script_conflicts_with_project_options(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--script", "--name", "x", "s.py")
    assert code == 2
    assert err.startswith("error: `--script` cannot be combined with `--name`\n")
    assert not (tmp_path / "work/s.py").exists()


def test_script_warns_about_options_without_effect(kiln) -> None:
    code, _, err = kiln("--script", "--no-readme", "--no-workspace", "--no-package", "s.py")
    assert code == 0
    assert "warning: `--no-readme` has no effect on a script\n" in err
    assert "warning: `--no-workspace` has no effect on a script\n" in err
    assert "warning: `--no-package` has no effect on a script\n" in err


def test_script_refuses_no_description(kiln, tmp_path: Path) -> None:
    code, _, err = kiln("--script", "--no-description", "s.py")
    assert code == 2
    assert err.startswith("error: `--script` cannot be combined with `--no-description`\n")
    assert not (tmp_path / "work/s.py").exists()
