"""`kiln pip` against two loopback indexes configured in the project's ``pyproject.toml``.

The PyTorch CPU shape of seed 002: tiny fake ``torch`` wheels, ``2.5.1+cpu`` on an explicit
"pytorch" index that ``torch`` is pinned to and ``2.5.1`` on the default index. Then a
dependency-confusion setup (an internal package name squatted on the public index) and the
index strategies, all through the real CLI run in the project directory.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok, run_python


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheels")
    for index, name, version, requires in [
        ("pytorch", "torch", "2.5.1+cpu", ["filelock"]),
        # The PyTorch index mirrors some common packages; an explicit index must not serve them.
        ("pytorch", "filelock", "99.0", []),
        ("default", "torch", "2.5.1", ["filelock"]),
        ("default", "filelock", "3.16.1", []),
        # Dependency confusion: `corp-utils` is internal; someone squatted the name publicly.
        ("internal", "corp-utils", "1.0", []),
        ("default", "corp-utils", "99.0", []),
    ]:
        build_wheel(root / index, name, version, requires_dist=requires)
    return root


def serve(directory: Path, auth: tuple[str, str] | None = None) -> IndexServer:
    server = IndexServer(auth=auth)
    for path in sorted(directory.iterdir()):
        server.add(path)
    return server


@pytest.fixture(scope="module")
def pytorch(wheels: Path) -> Iterator[IndexServer]:
    with serve(wheels / "pytorch") as server:
        yield server


@pytest.fixture(scope="module")
def default(wheels: Path) -> Iterator[IndexServer]:
    with serve(wheels / "default") as server:
        yield server


@pytest.fixture(scope="module")
def internal(wheels: Path) -> Iterator[IndexServer]:
    with serve(wheels / "internal") as server:
        yield server


@pytest.fixture(scope="module")
def private(wheels: Path) -> Iterator[IndexServer]:
    """The internal index again, behind a password."""
    with serve(wheels / "internal", auth=("build-bot", "t0ps3cret")) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def write_project(directory: Path, dependencies: str, config: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "0.1"\ndependencies = [{dependencies}]\n\n{config}'
    )
    return directory


def torch_project(directory: Path, pytorch: IndexServer, default: IndexServer,
                  *, pinned: bool = True) -> Path:
    sources = '[tool.kiln.sources]\ntorch = { index = "pytorch" }\n\n' if pinned else ""
    return write_project(directory, '"torch==2.5.1"', f"""\
{sources}[[tool.kiln.index]]
name = "pytorch"
url = "{pytorch.url}"
explicit = true

[[tool.kiln.index]]
name = "main"
url = "{default.url}"
default = true
""")


def confusion_project(directory: Path, internal: IndexServer, default: IndexServer) -> Path:
    return write_project(directory, '"corp-utils"', f"""\
[[tool.kiln.index]]
name = "internal"
url = "{internal.url}"

[[tool.kiln.index]]
name = "public"
url = "{default.url}"
default = true
""")


def pip(project: Path, env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return kiln("pip", *args, env=env, cwd=project)


def compiled_pins(result: subprocess.CompletedProcess[str]) -> list[str]:
    ok(result)
    return [line for line in result.stdout.splitlines() if line and line[0].isalnum()]


def test_pinned_explicit_index_supplies_the_cpu_build_of_torch(
    tmp_path: Path, env: dict[str, str], pytorch: IndexServer, default: IndexServer
) -> None:
    project = torch_project(tmp_path / "project", pytorch, default)
    venv = make_venv(tmp_path / "venv", env)
    result = ok(pip(project, env, "install", "torch==2.5.1", "--python", venv))
    assert " + filelock==3.16.1\n + torch==2.5.1+cpu\n" in result.stderr
    assert run_python(venv, "import torch, filelock; print(torch.__version__, "
                      "filelock.__version__)") == "2.5.1+cpu 3.16.1"
    # Only torch was looked up on the explicit index; its mirrored `filelock` was not used.
    asked = {r.path for r in pytorch.requests("/simple/")}
    assert asked == {"/simple/torch/"}


def test_project_requirements_file_uses_the_pinned_index(
    tmp_path: Path, env: dict[str, str], pytorch: IndexServer, default: IndexServer
) -> None:
    project = torch_project(tmp_path / "project", pytorch, default)
    venv = make_venv(tmp_path / "venv", env)
    result = ok(pip(project, env, "install", "-r", "pyproject.toml", "--python", venv))
    assert " + torch==2.5.1+cpu" in result.stderr


def test_without_the_pin_torch_comes_from_the_default_index(
    tmp_path: Path, env: dict[str, str], pytorch: IndexServer, default: IndexServer
) -> None:
    project = torch_project(tmp_path / "project", pytorch, default, pinned=False)
    (project / "requirements.in").write_text("torch==2.5.1\n")
    pins = compiled_pins(pip(project, env, "compile", "requirements.in"))
    assert pins == ["filelock==3.16.1", "torch==2.5.1"]


def test_requiring_the_local_version_without_the_pytorch_index_is_unsatisfiable(
    tmp_path: Path, env: dict[str, str], default: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("torch==2.5.1+cpu\n")
    result = kiln("pip", "compile", "requirements.in", "--default-index", default.url,
                  env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: no solution found when resolving dependencies:\n")
    assert "torch==2.5.1+cpu" in result.stderr
    assert "Traceback" not in result.stderr


def test_first_index_keeps_an_internal_package_from_the_public_squatter(
    tmp_path: Path, env: dict[str, str], internal: IndexServer, default: IndexServer
) -> None:
    project = confusion_project(tmp_path / "project", internal, default)
    venv = make_venv(tmp_path / "venv", env)
    result = ok(pip(project, env, "install", "corp-utils", "--python", venv))
    assert " + corp-utils==1.0" in result.stderr
    assert run_python(venv, "import corp_utils; print(corp_utils.__version__)") == "1.0"
    # A newer public version is not reachable even when asked for.
    refused = pip(project, env, "install", "corp-utils>=2", "--python", venv)
    assert refused.returncode == 1
    assert "only corp-utils<2 is available and you require corp-utils>=2" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_an_index_refusing_access_stops_the_search_instead_of_falling_back(
    tmp_path: Path, env: dict[str, str], private: IndexServer, default: IndexServer
) -> None:
    project = confusion_project(tmp_path / "project", private, default)
    (project / "requirements.in").write_text("corp-utils\n")
    refused = pip(project, env, "compile", "requirements.in")
    assert refused.returncode == 1
    assert "corp-utils==99.0" not in refused.stdout
    assert "corp-utils was not found in the package index" in refused.stderr
    assert "hint: index `internal` answered 401 for `corp-utils` (access denied)" in refused.stderr
    assert "KILN_INDEX_<NAME>_USERNAME" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "t0ps3cret" not in refused.stderr
    with_credentials = {**env, "KILN_INDEX_INTERNAL_USERNAME": "build-bot",
                        "KILN_INDEX_INTERNAL_PASSWORD": "t0ps3cret"}
    result = pip(project, with_credentials, "compile", "requirements.in")
    assert compiled_pins(result) == ["corp-utils==1.0"]
    assert "t0ps3cret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("strategy", "requirement", "expected"),
    [
        ("first-index", "corp-utils", "corp-utils==1.0"),
        ("unsafe-first-match", "corp-utils", "corp-utils==1.0"),
        ("unsafe-first-match", "corp-utils>=2", "corp-utils==99.0"),
        ("unsafe-best-match", "corp-utils", "corp-utils==99.0"),
    ],
)
def test_index_strategy_option_chooses_across_indexes(
    tmp_path: Path, env: dict[str, str], internal: IndexServer, default: IndexServer,
    strategy: str, requirement: str, expected: str,
) -> None:
    project = confusion_project(tmp_path / "project", internal, default)
    (project / "requirements.in").write_text(f"{requirement}\n")
    result = pip(project, env, "compile", "requirements.in", "--index-strategy", strategy)
    assert compiled_pins(result) == [expected]


def test_unsafe_best_match_installs_the_public_version_through_the_cli(
    tmp_path: Path, env: dict[str, str], internal: IndexServer, default: IndexServer
) -> None:
    project = confusion_project(tmp_path / "project", internal, default)
    venv = make_venv(tmp_path / "venv", env)
    result = ok(pip(project, env, "install", "corp-utils", "--python", venv,
                    "--index-strategy", "unsafe-best-match"))
    assert " + corp-utils==99.0" in result.stderr


def test_index_strategy_from_the_environment_variable(
    tmp_path: Path, env: dict[str, str], internal: IndexServer, default: IndexServer
) -> None:
    project = confusion_project(tmp_path / "project", internal, default)
    (project / "requirements.in").write_text("corp-utils\n")
    result = pip(project, {**env, "KILN_INDEX_STRATEGY": "unsafe-best-match"},
                 "compile", "requirements.in")
    assert compiled_pins(result) == ["corp-utils==99.0"]


@pytest.mark.parametrize(
    ("json_api", "metadata_files"),
    [(True, True), (True, False), (False, True), (False, False)],
    ids=["json-metadata", "json-ranges", "html-metadata", "html-ranges"],
)
def test_yanked_and_requires_python_entries_are_honoured_in_both_page_formats(
    tmp_path: Path, env: dict[str, str], json_api: bool, metadata_files: bool
) -> None:
    server = IndexServer(json_api=json_api, metadata_files=metadata_files)
    server.add(build_wheel(tmp_path / "w", "lib", "1.0"))
    server.add(build_wheel(tmp_path / "w", "lib", "2.0"), yanked="broken upload")
    server.add(build_wheel(tmp_path / "w", "lib", "3.0"), requires_python=">=3.99")
    (tmp_path / "newest.in").write_text("lib\n")
    (tmp_path / "pinned.in").write_text("lib==2.0\n")
    (tmp_path / "future.in").write_text("lib>=3\n")
    (tmp_path / "yanked.in").write_text("lib>=2,<3\n")
    with server:
        def compile_(name: str) -> subprocess.CompletedProcess[str]:
            return kiln("pip", "compile", name, "--default-index", server.url,
                        "--python-version", "3.12", env=env, cwd=tmp_path)

        newest = compiled_pins(compile_("newest.in"))
        pinned = compiled_pins(compile_("pinned.in"))
        future = compile_("future.in")
        yanked = compile_("yanked.in")
    assert newest == ["lib==1.0"]
    assert pinned == ["lib==2.0"]
    assert future.returncode == yanked.returncode == 1
    assert "Because lib==3.0 requires Python >=3.99 (the target Python is 3.12.0) and you " \
        "require lib>=3, we can conclude that your requirements are unsatisfiable." in future.stderr
    assert "Because lib==2.0 was yanked (reason: broken upload) and you require lib>=2,<3" \
        in yanked.stderr
    # The requires-python of 3.0 comes from the page: its wheel was never fetched.
    assert not server.requests("/files/lib-3.0", method="GET")


def test_project_settings_apply_from_a_subdirectory(
    tmp_path: Path, env: dict[str, str], pytorch: IndexServer, default: IndexServer
) -> None:
    project = torch_project(tmp_path / "project", pytorch, default)
    subdirectory = project / "scripts"
    subdirectory.mkdir()
    (subdirectory / "requirements.in").write_text("torch==2.5.1\n")
    # `--default-index` keeps the run off PyPI either way; the pin must still apply.
    result = kiln("pip", "compile", "requirements.in", "--default-index", default.url,
                  env=env, cwd=subdirectory)
    pins = compiled_pins(result)
    assert pins == ["filelock==3.16.1", "torch==2.5.1+cpu"]
