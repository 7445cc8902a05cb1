"""`kiln pip download` and `kiln pip wheel` against a loopback index (issue #19).

The index holds `app` 1.0 (a wheel needing `lib`), `lib` 1.0 as an sdist only (a kiln_build
project, so `kiln pip wheel` builds it through the build service) and `lib` 2.0 for
Python 3.13 and newer only.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer
from pip_helpers import base_env, kiln, kiln_project, ok
from wheelbuilder import make_wheel


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("served")
    project = kiln_project(root / "lib-src", "lib", "1.0")
    sdists = root / "sdists"
    ok(kiln("build", "--sdist", "-o", sdists, project, env=base_env(root / "cache")))
    (root / "app").mkdir()
    (root / "lib2").mkdir()
    return {
        "app": make_wheel(root / "app", "app", "1.0", {"app/__init__.py": ""}, requires=("lib",)),
        "lib1": sdists / "lib-1.0.tar.gz",
        "lib2": make_wheel(root / "lib2", "lib", "2.0", {"lib/__init__.py": ""},
                           requires_python=">=3.13"),
    }


@pytest.fixture(scope="module")
def index(files: dict[str, Path]) -> Iterator[IndexServer]:
    server = IndexServer()
    server.add(files["app"])
    server.add(files["lib1"])
    server.add(files["lib2"], requires_python=">=3.13")
    with server:
        yield server


def test_download_saves_the_chosen_files_with_their_dependencies(
    tmp_path: Path, index: IndexServer, files: dict[str, Path]
) -> None:
    env = base_env(tmp_path / "cache")
    result = ok(kiln("pip", "download", "app", "-d", tmp_path / "out", "--python-version", "3.10",
                     "--index-url", index.url, env=env, cwd=tmp_path))
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["app-1.0-py3-none-any.whl", "lib-1.0.tar.gz"]
    assert digest(out / "lib-1.0.tar.gz") == digest(files["lib1"])
    assert digest(out / "app-1.0-py3-none-any.whl") == digest(files["app"])
    assert result.stdout.split() == ["out/app-1.0-py3-none-any.whl", "out/lib-1.0.tar.gz"]


def test_download_for_another_python_version_picks_what_it_can_run(
    tmp_path: Path, index: IndexServer
) -> None:
    env = base_env(tmp_path / "cache")
    ok(kiln("pip", "download", "lib", "--dest", tmp_path / "new", "--python-version", "3.13",
            "--index-url", index.url, env=env))
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["lib-2.0-py3-none-any.whl"]


def test_download_no_deps_saves_the_requirements_only(
    tmp_path: Path, index: IndexServer
) -> None:
    env = base_env(tmp_path / "cache")
    ok(kiln("pip", "download", "--no-deps", "app", "-d", tmp_path, "--index-url", index.url,
            "--python-version", "3.10", env=env))
    assert sorted(p.name for p in tmp_path.glob("*.whl")) == ["app-1.0-py3-none-any.whl"]
    assert not list(tmp_path.glob("*.tar.gz"))


def test_a_file_whose_hash_does_not_match_is_not_saved(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    server = IndexServer()
    server.add(files["app"], advertised_sha256="0" * 64)
    env = base_env(tmp_path / "cache")
    with server:
        result = kiln("pip", "download", "--no-deps", "app", "-d", tmp_path / "out",
                      "--index-url", server.url, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "sha256" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_requirement_hash_is_checked(
    tmp_path: Path, index: IndexServer, files: dict[str, Path]
) -> None:
    env = base_env(tmp_path / "cache")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"app==1.0 --hash=sha256:{'1' * 64}\n")
    result = kiln("pip", "download", "--no-deps", "-r", requirements, "-d", tmp_path / "out",
                  "--index-url", index.url, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    requirements.write_text(f"app==1.0 --hash=sha256:{digest(files['app'])}\n")
    ok(kiln("pip", "download", "--no-deps", "-r", requirements, "-d", tmp_path / "out",
            "--index-url", index.url, env=env))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["app-1.0-py3-none-any.whl"]


def test_wheel_builds_sdists_and_downloads_wheels(tmp_path: Path, index: IndexServer) -> None:
    env = base_env(tmp_path / "cache")
    result = ok(kiln("pip", "wheel", "app", "-w", tmp_path / "wheels", "--python-version",
                     "3.10", "--index-url", index.url, env=env))
    wheels = tmp_path / "wheels"
    assert sorted(p.name for p in wheels.iterdir()) == [
        "app-1.0-py3-none-any.whl", "lib-1.0-py3-none-any.whl",
    ]
    with zipfile.ZipFile(wheels / "lib-1.0-py3-none-any.whl") as archive:
        assert "lib/__init__.py" in archive.namelist()
    assert "Saved wheels of 2 packages" in result.stderr


def test_wheel_of_a_local_project_is_built(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "proj", "proj", "2.5")
    env = base_env(tmp_path / "cache")
    ok(kiln("pip", "wheel", "--no-index", "--wheel-dir", tmp_path / "w", project, env=env))
    assert [p.name for p in (tmp_path / "w").iterdir()] == ["proj-2.5-py3-none-any.whl"]


def test_download_offline_with_nothing_cached_asks_nothing(
    tmp_path: Path, index: IndexServer
) -> None:
    env = base_env(tmp_path / "cache")
    seen = len(index.requests())
    result = kiln("--offline", "pip", "download", "app", "-d", tmp_path / "out",
                  "--index-url", index.url, env=env)
    assert result.returncode == 1 and "offline mode is on" in result.stderr
    assert len(index.requests()) == seen


def test_nothing_to_save_is_a_usage_error(tmp_path: Path) -> None:
    result = kiln("pip", "wheel", env=base_env(tmp_path / "cache"))
    assert result.returncode == 2 and "no requirements given" in result.stderr

