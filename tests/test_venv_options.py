"""uv's options of `kiln venv`: `--seed` from the indexes, `--allow-existing`, `--clear`,
`--relocatable`, with uv's meaning (checked against the uv of the test environment)."""

from __future__ import annotations

import ensurepip
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, ok

UV = Path(sys.executable).parent / "uv"
BUNDLED = Path(ensurepip.__file__).parent / "_bundled"
SEEDS = ["pip"] if sys.version_info >= (3, 12) else ["pip", "setuptools", "wheel"]


def seed_wheels(directory: Path) -> list[Path]:
    """A real pip (the interpreter's bundled wheel), and the other seeds (real when bundled)."""
    directory.mkdir(parents=True, exist_ok=True)
    wheels = []
    for name in SEEDS:
        bundled = sorted(BUNDLED.glob(f"{name}-*.whl"))
        if bundled:
            wheels.append(Path(shutil.copy(bundled[-1], directory)))
        else:
            wheels.append(build_wheel(directory, name, "99.0"))
    return wheels


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    server = IndexServer()
    for wheel in seed_wheels(tmp_path_factory.mktemp("seeds")):
        server.add(wheel)
    with server:
        yield server


def venv(tmp_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**base_env(tmp_path / "cache"), "SHELL": "/bin/bash"}
    return kiln("venv", "--python", sys.executable, *args, env=env, cwd=tmp_path)


def added(stderr: str) -> list[str]:
    return [line[3:].split("==")[0] for line in stderr.splitlines() if line.startswith(" + ")]


def test_seed_installs_from_the_index_options_what_uv_seeds(
    index: IndexServer, tmp_path: Path
) -> None:
    result = venv(tmp_path, "env", "--seed", "--default-index", index.url)
    ok(result)
    assert "Creating virtual environment with seed packages at: env" in result.stderr
    assert added(result.stderr) == SEEDS
    assert index.requests("/simple/pip/")
    version = subprocess.run(
        [tmp_path / "env/bin/pip", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"from {tmp_path / 'env'}/lib/" in version
    uv = subprocess.run(
        [UV, "venv", "uv-env", "--seed", "--python", sys.executable, "--default-index", index.url],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1"},
    )
    assert uv.returncode == 0, uv.stderr
    assert added(uv.stderr) == added(result.stderr)


def test_seed_works_offline_from_a_find_links_directory(tmp_path: Path) -> None:
    seed_wheels(tmp_path / "wheels")
    result = venv(tmp_path, "env", "--seed", "--offline", "--no-index", "--find-links", "wheels")
    ok(result)
    assert added(result.stderr) == SEEDS


def test_a_failed_seed_leaves_no_environment_behind(tmp_path: Path) -> None:
    result = venv(tmp_path, "env", "--seed", "--no-index")
    assert result.returncode == 1
    assert "pip" in result.stderr.splitlines()[-2] + result.stderr.splitlines()[-1]
    assert not (tmp_path / "env").exists()


def test_allow_existing_keeps_the_files_and_packages_there(
    index: IndexServer, tmp_path: Path
) -> None:
    ok(venv(tmp_path, "env", "--seed", "--default-index", index.url))
    (tmp_path / "env" / "notes.txt").write_text("mine\n")
    refused = venv(tmp_path, "env")
    assert refused.returncode == 1
    assert "`--allow-existing` to keep its packages" in refused.stderr
    # `--allow-existing` wins over `--clear`, as in uv.
    for extra in ((), ("--clear",)):
        ok(venv(tmp_path, "env", "--allow-existing", *extra))
        assert (tmp_path / "env" / "notes.txt").read_text() == "mine\n"
        assert (tmp_path / "env/bin/pip").is_file()


def test_allow_existing_replaces_links_instead_of_writing_through_them(tmp_path: Path) -> None:
    target = tmp_path / "not-python"
    target.write_text("keep me\n")
    bin_dir = tmp_path / "env" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(target)
    (tmp_path / "env" / "pyvenv.cfg").symlink_to(target)
    ok(venv(tmp_path, "env", "--allow-existing"))
    assert target.read_text() == "keep me\n"
    assert os.readlink(bin_dir / "python") != str(target)
    assert not (tmp_path / "env" / "pyvenv.cfg").is_symlink()
    check = subprocess.run([bin_dir / "python", "-c", "import sys; print(sys.prefix)"],
                           capture_output=True, text=True, check=True)
    assert check.stdout.strip() == str(tmp_path / "env")


def test_allow_existing_writes_into_a_directory_that_is_not_an_environment(
    tmp_path: Path,
) -> None:
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "data.txt").write_text("x")
    assert venv(tmp_path, "env").returncode == 1
    assert venv(tmp_path, "env", "-c").returncode == 1
    ok(venv(tmp_path, "env", "--allow-existing"))
    assert (tmp_path / "env" / "data.txt").read_text() == "x"
    assert (tmp_path / "env" / "pyvenv.cfg").is_file()


def test_short_clear_replaces_an_environment(tmp_path: Path) -> None:
    ok(venv(tmp_path, "env"))
    (tmp_path / "env" / "old.txt").write_text("x")
    ok(venv(tmp_path, "env", "-c"))
    assert not (tmp_path / "env" / "old.txt").exists()


def test_a_relocatable_environment_works_after_a_move(index: IndexServer, tmp_path: Path) -> None:
    ok(venv(tmp_path, "env", "--relocatable", "--seed", "--default-index", index.url))
    assert "relocatable = true\n" in (tmp_path / "env" / "pyvenv.cfg").read_text()
    assert not (tmp_path / "env/bin/activate.csh").exists()
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    (tmp_path / "env").rename(moved)
    assert str(tmp_path / "env") not in (moved / "bin/pip").read_text()
    version = subprocess.run([moved / "bin/pip", "--version"], capture_output=True, text=True)
    assert version.returncode == 0, version.stderr
    assert f"from {moved}/lib/" in version.stdout
    for shell, script in (("bash", "activate"), ("fish", "activate.fish"), ("zsh", "activate")):
        if shutil.which(shell) is None:
            continue
        line = f"source {moved}/bin/{script}; echo $VIRTUAL_ENV; command -v python"
        out = subprocess.run([shell, "-c", line], capture_output=True, text=True, cwd=tmp_path)
        assert out.stdout.splitlines() == [str(moved), str(moved / "bin/python")], (shell, out)
    # Later installs into it keep the launchers relative: kiln reads `relocatable = true`.
    env = base_env(tmp_path / "cache")
    ok(kiln("pip", "install", "--reinstall", "pip", "--python", moved,
            "--default-index", index.url, env=env))
    assert (moved / "bin/pip").read_text().startswith("#!/bin/sh\n'''exec' \"$(dirname")


def test_kiln_installs_relative_launchers_into_a_relocatable_uv_environment(
    index: IndexServer, tmp_path: Path
) -> None:
    uv = subprocess.run(
        [UV, "venv", "env", "--relocatable", "--python", sys.executable],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1"},
    )
    assert uv.returncode == 0, uv.stderr
    env = base_env(tmp_path / "cache")
    ok(kiln("pip", "install", "pip", "--python", tmp_path / "env", "--default-index", index.url,
            env=env))
    (tmp_path / "env").rename(tmp_path / "moved")
    version = subprocess.run([tmp_path / "moved/bin/pip", "--version"], capture_output=True,
                             text=True)
    assert version.returncode == 0, version.stderr


def test_exclude_newer_leaves_out_seed_packages_uploaded_later(tmp_path: Path) -> None:
    server = IndexServer()
    for wheel in seed_wheels(tmp_path / "wheels"):
        server.add(wheel, upload_time="2024-06-01T00:00:00Z")
    with server:
        early = venv(tmp_path, "early", "--seed", "--default-index", server.url,
                     "--exclude-newer", "2024-01-01")
        assert early.returncode == 1 and "Traceback" not in early.stderr
        assert "pip" in early.stderr
        ok(venv(tmp_path, "late", "--seed", "--default-index", server.url,
                "--exclude-newer", "2024-07-01"))
    assert (tmp_path / "late" / "bin" / "pip").exists()


def test_exclude_newer_package_sets_the_cutoff_of_one_seed_package(tmp_path: Path) -> None:
    server = IndexServer()
    for wheel in seed_wheels(tmp_path / "wheels"):
        server.add(wheel, upload_time="2024-06-01T00:00:00Z")
    with server:
        late = ("--exclude-newer", "2024-07-01")
        early = venv(tmp_path, "early", "--seed", "--default-index", server.url, *late,
                     "--exclude-newer-package", "PIP=2024-01-01")
        assert early.returncode == 1 and "Traceback" not in early.stderr
        assert "pip" in early.stderr
        ok(venv(tmp_path, "late", "--seed", "--default-index", server.url, "--exclude-newer",
                "2024-01-01", *(f"--exclude-newer-package={name}=2024-07-01" for name in SEEDS)))
    assert (tmp_path / "late" / "bin" / "pip").exists()


def test_refresh_package_revalidates_the_cached_page_of_that_seed_package(
    tmp_path: Path,
) -> None:
    server = IndexServer(cache_control="max-age=600")  # fresh for ten minutes
    for wheel in seed_wheels(tmp_path / "wheels"):
        server.add(wheel)
    with server:
        ok(venv(tmp_path, "first", "--seed", "--default-index", server.url))
        asked = len(server.requests("/simple/pip/"))
        ok(venv(tmp_path, "cached", "--seed", "--default-index", server.url))
        ok(venv(tmp_path, "other", "--seed", "--default-index", server.url,
                "--refresh-package", "not-a-seed"))
        assert len(server.requests("/simple/pip/")) == asked
        ok(venv(tmp_path, "fresh", "--seed", "--default-index", server.url,
                "--refresh-package", "PIP"))
        assert len(server.requests("/simple/pip/")) > asked
