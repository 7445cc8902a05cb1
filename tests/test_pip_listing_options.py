"""uv's options of `pip list`, `freeze`, `show` and `tree`, with uv's meaning.

One environment, installed by kiln from a loopback index, is read by kiln and by the uv of the
test environment side by side: for each option, both print the same standard output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_sdist, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok

UV = Path(sys.executable).parent / "uv"


class World:
    def __init__(self, root: Path, server: IndexServer, venv: Path, env: dict[str, str]) -> None:
        self.root = root
        self.server = server
        self.venv = venv
        self.env = env

    def kiln(self, *args: str | Path, venv: Path | None = None) -> subprocess.CompletedProcess[str]:
        result = kiln("pip", *args, "--python", venv or self.venv, env=self.env)
        assert "Traceback" not in result.stderr
        return result

    def uv(self, *args: str | Path, venv: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))},
            "UV_CACHE_DIR": str(self.root / "uv-cache"),
            "UV_NO_CONFIG": "1",
            "NO_COLOR": "1",
        }
        return subprocess.run(
            [str(UV), "pip", *map(str, args), "--python", str(venv or self.venv)],
            capture_output=True, text=True, env=env, timeout=120,
        )

    def same(self, *args: str | Path, venv: Path | None = None) -> str:
        """kiln's standard output, checked to be uv's."""
        ours = self.kiln(*args, venv=venv)
        theirs = self.uv(*args, venv=venv)
        assert theirs.returncode == 0, theirs.stderr
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout, f"kiln:\n{ours.stdout}\nuv:\n{theirs.stdout}"
        return ours.stdout


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("listing")
    wheels = root / "w"
    server = IndexServer()
    server.add(build_wheel(wheels, "top", "1.0", requires_dist=["mid>=1", "leaf"]))
    server.add(build_wheel(wheels, "top", "2.0", requires_dist=["mid>=1", "leaf"]))
    server.add(build_wheel(wheels, "mid", "1.2", requires_dist=["leaf<2", "base"]))
    server.add(build_wheel(wheels, "leaf", "1.1", requires_dist=["base>=1"]))
    server.add(build_wheel(wheels, "leaf", "1.3", requires_dist=["base>=1"]))
    # Newer, but not for this environment: a pre-release, a yanked release, a wheel for
    # another platform and a release for another Python.
    server.add(build_wheel(wheels, "leaf", "2.0b1"))
    server.add(build_wheel(wheels, "leaf", "1.4"), yanked="broken")
    server.add(build_wheel(wheels, "leaf", "1.5", tag="cp27-cp27m-win32"))
    server.add(build_wheel(wheels, "leaf", "1.6", requires_python=">=4"), requires_python=">=4")
    server.add(build_wheel(wheels, "base", "1.0"))
    server.add(build_wheel(wheels, "loner", "0.3"))
    server.add(build_sdist(wheels, "loner", "0.4"))
    server.add(build_wheel(wheels, "cyc-a", "1.0", requires_dist=["cyc-b"]))
    server.add(build_wheel(wheels, "cyc-b", "1.0", requires_dist=["cyc-a"]))
    env = base_env(root / "cache")
    venv = make_venv(root / "venv", env)
    server.start()
    ok(kiln("pip", "install", "top==1.0", "leaf==1.1", "loner==0.3", "cyc-a", "--python", venv,
            "--default-index", server.url, env=env))
    yield World(root, server, venv, env)
    server.stop()


def test_list_and_freeze_leave_out_excluded_packages(world: World) -> None:
    listed = world.same("list", "--exclude", "Top", "--exclude", "cyc_a", "--exclude", "cyc-b")
    assert listed.splitlines()[2:] == [
        "base    1.0", "leaf    1.1", "loner   0.3", "mid     1.2",
    ]
    frozen = world.same("freeze", "--exclude", "leaf", "--exclude", "base")
    assert frozen == "cyc-a==1.0\ncyc-b==1.0\nloner==0.3\nmid==1.2\ntop==1.0\n"


def test_list_outdated_shows_the_newest_installable_release(world: World) -> None:
    index = ("--default-index", world.server.url)
    table = world.same("list", "--outdated", *index)
    assert table == (
        "Package Version Latest Type\n"
        "------- ------- ------ -----\n"
        "leaf    1.1     1.3    wheel\n"
        "loner   0.3     0.4    sdist\n"
        "top     1.0     2.0    wheel\n"
    )
    assert json.loads(world.same("list", "--outdated", "--format", "json", *index)) == [
        {"name": "leaf", "version": "1.1", "latest_version": "1.3", "latest_filetype": "wheel"},
        {"name": "loner", "version": "0.3", "latest_version": "0.4", "latest_filetype": "sdist"},
        {"name": "top", "version": "1.0", "latest_version": "2.0", "latest_filetype": "wheel"},
    ]
    # Filters apply before the index is asked.
    assert world.same("list", "--outdated", "--exclude", "leaf", "--exclude", "loner", *index) \
        .splitlines()[2:] == ["top     1.0     2.0    wheel"]


@pytest.fixture(scope="module")
def dated(world: World) -> Iterator[IndexServer]:
    """The installed releases (January 2024) and the newer `top` 2.0 and `leaf` 1.3 (June)."""
    server = IndexServer()
    for path in sorted((world.root / "w").iterdir()):
        newer = path.name.startswith(("top-2.0-", "leaf-1.3-"))
        installed = path.name.startswith(
            ("top-1.0-", "leaf-1.1-", "mid-", "base-", "loner-0.3-", "cyc_")
        )
        if newer or installed:
            server.add(path, upload_time="2024-06-01T00:00:00Z" if newer else "2024-01-01T00:00:00Z")
    with server:
        yield server


@pytest.mark.parametrize(
    ("cutoff", "listed"),
    [
        ((), ["leaf    1.1     1.3    wheel", "top     1.0     2.0    wheel"]),
        (("--exclude-newer", "2024-03-01"), []),
        (("--exclude-newer", "2024-03-01", "--exclude-newer-package", "top=2024-07-01"),
         ["top     1.0     2.0    wheel"]),
        (("--exclude-newer-package", "leaf=2024-03-01"), ["top     1.0     2.0    wheel"]),
    ],
)
def test_exclude_newer_limits_what_outdated_counts_as_the_newest_release(
    world: World, dated: IndexServer, cutoff: tuple[str, ...], listed: list[str]
) -> None:
    table = world.same("list", "--outdated", "--default-index", dated.url, *cutoff)
    assert table.splitlines()[2:] == listed


def test_exclude_newer_limits_what_tree_outdated_marks(world: World, dated: IndexServer) -> None:
    args = ("tree", "--package", "top", "--depth", "0", "--outdated", "--default-index", dated.url)
    assert world.same(*args) == "top v1.0 (latest: v2.0)\n"
    assert world.same(*args, "--exclude-newer-package", "top=2024-03-01") == "top v1.0\n"
    assert world.same(*args, "--exclude-newer", "2024-03-01T00:00:00Z") == "top v1.0\n"


def test_list_outdated_reads_a_find_links_mirror_without_an_index(world: World) -> None:
    mirror = world.root / "mirror"
    mirror.mkdir()
    shutil.copy(world.root / "w" / "top-2.0-py3-none-any.whl", mirror)
    result = world.kiln("list", "--outdated", "--no-index", "--find-links", mirror)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:] == ["top     1.0     2.0    wheel"]


def test_list_outdated_refuses_the_freeze_format_as_uv_does(world: World) -> None:
    result = world.kiln("list", "--outdated", "--format", "freeze")
    assert result.returncode == 2
    assert result.stderr.startswith("error: `--outdated` cannot be used with `--format freeze`\n")
    assert world.uv("list", "--outdated", "--format", "freeze").returncode != 0


def test_show_files_lists_the_record_of_each_package(world: World) -> None:
    out = world.same("show", "--files", "top", "leaf")
    assert out.count("Files:\n") == 2
    lines = out.splitlines()
    for path in ("leaf/__init__.py", "leaf-1.1.dist-info/RECORD", "top/__init__.py"):
        assert f"  {path}" in lines


def test_show_files_names_a_missing_record(world: World, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    shutil.copytree(world.venv, venv, symlinks=True)
    (next(venv.glob("lib/python*/site-packages/base-1.0.dist-info")) / "RECORD").unlink()
    result = world.kiln("show", "--files", "base", venv=venv)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot read `")
    assert "base-1.0.dist-info/RECORD`" in result.stderr
    assert "hint: reinstall `base`" in result.stderr


def test_tree_options_draw_what_uv_draws(world: World) -> None:
    assert world.same("tree") == (
        "cyc-a v1.0\n"
        "└── cyc-b v1.0\n"
        "    └── cyc-a v1.0 (*)\n"
        "loner v0.3\n"
        "top v1.0\n"
        "├── leaf v1.1\n"
        "│   └── base v1.0\n"
        "└── mid v1.2\n"
        "    ├── base v1.0\n"
        "    └── leaf v1.1 (*)\n"
        "(*) Package tree already displayed\n"
    )
    assert world.same("tree", "--package", "mid", "--show-version-specifiers") == (
        "mid v1.2\n"
        "├── base v1.0 [required: *]\n"
        "└── leaf v1.1 [required: <2]\n"
        "    └── base v1.0 [required: >=1]\n"
    )
    assert world.same("tree", "--invert", "--package", "base", "--show-version-specifiers") == (
        "base v1.0\n"
        "├── leaf v1.1 [requires: base >=1]\n"
        "│   ├── mid v1.2 [requires: leaf <2]\n"
        "│   │   └── top v1.0 [requires: mid >=1]\n"
        "│   └── top v1.0 [requires: leaf *]\n"
        "└── mid v1.2 [requires: base *] (*)\n"
        "(*) Package tree already displayed\n"
    )
    assert world.same("tree", "--package", "top", "--prune", "leaf") == (
        "top v1.0\n└── mid v1.2\n    └── base v1.0\n"
    )
    assert world.same("tree", "--package", "top", "--no-dedupe") == (
        "top v1.0\n"
        "├── leaf v1.1\n"
        "│   └── base v1.0\n"
        "└── mid v1.2\n"
        "    ├── base v1.0\n"
        "    └── leaf v1.1\n"
        "        └── base v1.0\n"
    )
    assert world.same("tree", "--package", "top", "--depth", "1") == (
        "top v1.0\n├── leaf v1.1\n└── mid v1.2\n"
    )
    assert world.same("tree", "--package", "cyc-a", "--no-dedupe") == (
        "cyc-a v1.0\n└── cyc-b v1.0\n    └── cyc-a v1.0 (*)\n"
        "(*) Package tree is a cycle and cannot be shown\n"
    )


def test_tree_outdated_marks_the_first_occurrence_of_each_package(world: World) -> None:
    out = world.same("tree", "--package", "top", "--outdated", "--default-index", world.server.url)
    assert out == (
        "top v1.0 (latest: v2.0)\n"
        "├── leaf v1.1 (latest: v1.3)\n"
        "│   └── base v1.0\n"
        "└── mid v1.2\n"
        "    ├── base v1.0\n"
        "    └── leaf v1.1 (*)\n"
        "(*) Package tree already displayed\n"
    )


def test_tree_depth_must_be_a_number_of_levels(world: World) -> None:
    result = world.kiln("tree", "--depth", "-1")
    assert result.returncode == 2
    assert "expected a number of levels, got `-1`" in result.stderr


def test_freeze_path_reads_the_given_directories_only(world: World, tmp_path: Path) -> None:
    site = next(world.venv.glob("lib/python*/site-packages"))
    other = tmp_path / "other"
    other.mkdir()
    shutil.copytree(site / "base-1.0.dist-info", other / "base-1.0.dist-info")
    frozen = world.same("freeze", "--path", other, "--path", tmp_path / "absent")
    assert frozen == "base==1.0\n"
    strict = world.kiln("freeze", "--path", site, "--exclude", "loner", "--strict")
    assert strict.stdout.startswith("base==1.0\ncyc-a==1.0\n")
    assert "warning" not in strict.stderr


def test_strict_warns_about_unmet_requirements_after_the_listing(
    world: World, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    shutil.copytree(world.venv, venv, symlinks=True)
    ok(kiln("pip", "uninstall", "base", "--python", venv, env=world.env))
    warnings = [
        "warning: The package `leaf` requires `base>=1`, but `base` is not installed",
        "warning: The package `mid` requires `base`, but `base` is not installed",
    ]
    for command in (("list",), ("freeze",), ("show", "leaf"), ("tree",)):
        plain = world.kiln(*command, venv=venv)
        strict = world.kiln(*command, "--strict", venv=venv)
        assert strict.returncode == 0, strict.stderr
        assert strict.stdout == plain.stdout
        assert [line for line in strict.stderr.splitlines() if line.startswith("warning")] == warnings
        uv = world.uv(*command, "--strict", venv=venv)
        assert uv.stdout == strict.stdout
        assert uv.stderr.count("warning: ") == len(warnings)
    assert "warning" not in world.kiln("list", "--strict").stderr
