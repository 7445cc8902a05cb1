"""`kiln pip install` and `kiln pip sync` options from uv, checked by what they change in a
real virtual environment fed by a loopback index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok

PYPROJECT = """\
[project]
name = "app"
version = "1"
dependencies = ["alpha"]

[project.optional-dependencies]
fast = ["gamma"]

[dependency-groups]
dev = ["delta"]
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "alpha", "1.0", requires_dist=["beta>=1"]),
               upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "beta", "1.0"), upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "beta", "2.0"), upload_time="2024-06-01T00:00:00Z")
    server.add(build_wheel(files, "gamma", "0.1"), upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "gamma", "0.2"), upload_time="2024-06-01T00:00:00Z")
    server.add(build_wheel(files, "delta", "1.0", requires_dist=["gamma"]))
    with server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def pip(venv: Path, env: dict[str, str], index: IndexServer, *args: str | Path,
        cwd: Path | None = None):  # type: ignore[no-untyped-def]
    return kiln("pip", *args, "--python", venv, "--default-index", index.url, env=env, cwd=cwd)


def freeze(venv: Path, env: dict[str, str]) -> list[str]:
    return ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout.splitlines()


def test_install_adds_extras_and_groups_of_a_pyproject(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "--group", "dev", cwd=tmp_path))
    assert freeze(venv, env) == ["delta==1.0", "gamma==0.2"]
    ok(pip(venv, env, index, "install", "-r", "pyproject.toml", "--extra", "fast", cwd=tmp_path))
    assert freeze(venv, env) == ["alpha==1.0", "beta==2.0", "delta==1.0", "gamma==0.2"]
    refused = pip(venv, env, index, "install", "alpha", "--all-extras", cwd=tmp_path)
    assert refused.returncode == 2
    assert "error: `--all-extras` needs a `pyproject.toml` input" in refused.stderr


def test_install_applies_overrides_excludes_resolution_and_exclude_newer(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    (tmp_path / "overrides.txt").write_text("beta==1.0\n")
    (tmp_path / "excludes.txt").write_text("gamma\n")
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "alpha", "delta", "--overrides", "overrides.txt",
           "--excludes", "excludes.txt", cwd=tmp_path))
    assert freeze(venv, env) == ["alpha==1.0", "beta==1.0", "delta==1.0"]

    lowest = make_venv(tmp_path / "lowest", env)
    ok(pip(lowest, env, index, "install", "alpha", "gamma", "--resolution", "lowest-direct"))
    assert freeze(lowest, env) == ["alpha==1.0", "beta==2.0", "gamma==0.1"]

    dated = make_venv(tmp_path / "dated", env)
    ok(pip(dated, env, index, "install", "alpha", "--exclude-newer", "2024-03-01"))
    assert freeze(dated, env) == ["alpha==1.0", "beta==1.0"]


def test_sync_takes_extras_and_exclude_newer(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "sync", "pyproject.toml", "--extra", "fast",
           "--exclude-newer", "2024-03-01T00:00:00Z", cwd=tmp_path))
    assert freeze(venv, env) == ["alpha==1.0", "gamma==0.1"]


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under ``root`` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.lstat().st_size, path.lstat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


def test_dry_run_and_check_say_what_would_change_and_change_nothing(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "beta==1.0", "gamma==0.1"))
    before = snapshot(venv)
    result = ok(pip(venv, env, index, "install", "-U", "alpha", "--dry-run"))
    assert result.stderr.endswith(
        "Would uninstall 1 package\nWould install 2 packages\n"
        " + alpha==1.0\n - beta==1.0\n + beta==2.0\n"
    )
    (tmp_path / "pinned.txt").write_text("alpha==1.0\nbeta==2.0\n")
    synced = ok(pip(venv, env, index, "sync", tmp_path / "pinned.txt", "--dry-run"))
    assert " - gamma==0.1\n" in synced.stderr
    assert "Would uninstall 2 packages\nWould install 2 packages\n" in synced.stderr
    met = ok(pip(venv, env, index, "install", "gamma", "--dry-run"))
    assert met.stderr.endswith("Audited 1 package in 0ms\nWould make no changes\n")
    assert snapshot(venv) == before
    assert freeze(venv, env) == ["beta==1.0", "gamma==0.1"]

    checked = pip(venv, env, index, "install", "alpha", "--check")
    assert checked.returncode == 1
    assert " + alpha==1.0\n" in checked.stderr
    assert pip(venv, env, index, "install", "beta", "--check").returncode == 0
    assert pip(venv, env, index, "sync", tmp_path / "pinned.txt", "--check").returncode == 1
    assert snapshot(venv) == before


def test_output_format_json_lists_the_changes(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "beta==1.0"))
    result = ok(pip(venv, env, index, "install", "alpha", "-U", "--output-format", "json"))
    assert json.loads(result.stdout) == {
        "schema": {"version": "preview"},
        "changes": [
            {"name": "alpha", "version": "1.0", "action": "installed"},
            {"name": "beta", "version": "1.0", "action": "uninstalled"},
            {"name": "beta", "version": "2.0", "action": "installed"},
        ],
        "dry_run": False,
    }
    dry = ok(pip(venv, env, index, "install", "gamma", "--dry-run", "--output-format", "json"))
    assert json.loads(dry.stdout)["dry_run"] is True
    assert json.loads(dry.stdout)["changes"] == [
        {"name": "gamma", "version": "0.2", "action": "installed"}
    ]


def test_exact_uninstalls_what_the_resolution_does_not_need(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "gamma", "beta==1.0"))
    result = ok(pip(venv, env, index, "install", "alpha", "--exact"))
    assert " + alpha==1.0\n - gamma==0.2\n" in result.stderr
    assert freeze(venv, env) == ["alpha==1.0", "beta==1.0"]


def test_strict_warns_about_unmet_dependencies_after_installing(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(pip(venv, env, index, "install", "delta", "--no-deps", "--strict"))
    assert result.stderr.endswith(
        " + delta==1.0\nwarning: The package `delta` requires `gamma`, but `gamma` is not "
        "installed\n"
    )
    quiet = ok(pip(venv, env, index, "install", "gamma", "--strict"))
    assert "warning" not in quiet.stderr


def test_user_is_refused(tmp_path: Path, env: dict[str, str], index: IndexServer) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = pip(venv, env, index, "install", "gamma", "--user")
    assert result.returncode == 2
    assert result.stderr.startswith("error: `--user` is not supported")
    assert freeze(venv, env) == []


def test_sync_of_nothing_changes_nothing_unless_allowed(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "gamma"))
    (tmp_path / "empty.txt").write_text("# nothing\n")
    result = ok(pip(venv, env, index, "sync", tmp_path / "empty.txt"))
    assert "warning: no requirements found, so nothing changes" in result.stderr
    assert freeze(venv, env) == ["gamma==0.2"]
    ok(pip(venv, env, index, "sync", tmp_path / "empty.txt", "--allow-empty-requirements"))
    assert freeze(venv, env) == []


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """Packages whose choice depends on the target's Python and platform."""
    files = tmp_path_factory.mktemp("target-wheels")
    server = IndexServer()
    server.add(build_wheel(files, "modern", "1.0"))
    # As a real index does, the page gives the `Requires-Python` of the file.
    server.add(build_wheel(files, "modern", "2.0", requires_python=">=3.10"),
               requires_python=">=3.10")
    server.add(build_wheel(files, "winonly", "1.0", tag="py3-none-win_amd64"))
    with server:
        yield server


def test_target_and_prefix_install_into_a_directory_that_list_and_uninstall_see(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    target, prefix = tmp_path / "target", tmp_path / "prefix"
    ok(pip(venv, env, index, "install", "alpha", "--target", target))
    assert sorted(p.name for p in target.iterdir()) == [
        "alpha", "alpha-1.0.dist-info", "beta", "beta-2.0.dist-info"
    ]
    assert freeze(venv, env) == []  # the environment itself is untouched
    listed = ok(kiln("pip", "freeze", "--python", venv, "--target", target, env=env))
    assert listed.stdout.splitlines() == ["alpha==1.0", "beta==2.0"]
    dry = ok(kiln("pip", "uninstall", "beta", "--python", venv, "--target", target,
                  "--dry-run", env=env))
    assert dry.stderr.endswith("Would uninstall 1 package\n - beta==2.0\n")
    assert (target / "beta").is_dir()
    ok(kiln("pip", "uninstall", "beta", "--python", venv, "--target", target, env=env))
    assert not (target / "beta").exists()

    ok(pip(venv, env, index, "install", "gamma", "--prefix", prefix))
    site = list(prefix.glob("lib/python3.*/site-packages"))
    assert [sorted(p.name for p in s.iterdir()) for s in site] == [
        ["gamma", "gamma-0.2.dist-info"]
    ]
    shown = ok(kiln("pip", "show", "gamma", "--python", venv, "--prefix", prefix, env=env))
    assert f"Location: {site[0]}" in shown.stdout
    both = kiln("pip", "list", "--python", venv, "--target", target, "--prefix", prefix, env=env)
    assert both.returncode == 2


def test_python_version_and_platform_resolve_and_install_for_another_target(
    tmp_path: Path, env: dict[str, str], targets: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    target = tmp_path / "target"
    ok(pip(venv, env, targets, "install", "modern", "winonly", "--target", target,
           "--python-version", "3.9", "--python-platform", "windows"))
    listed = ok(kiln("pip", "freeze", "--python", venv, "--target", target, env=env))
    assert listed.stdout.splitlines() == ["modern==1.0", "winonly==1.0"]
    # For the environment's own platform, the Windows-only wheel does not fit.
    refused = pip(venv, env, targets, "install", "winonly", "--target", tmp_path / "other")
    assert refused.returncode == 1
    synced = tmp_path / "synced"
    (tmp_path / "pins.txt").write_text("modern\n")
    ok(pip(venv, env, targets, "sync", tmp_path / "pins.txt", "--target", synced,
           "--python-version", "3.9"))
    assert (synced / "modern-1.0.dist-info").is_dir()


def test_check_evaluates_markers_for_another_target(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    site = next((venv / "lib").glob("python*/site-packages"))
    info = site / "needy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: needy\nVersion: 1.0\n"
        "Requires-Dist: pywin; sys_platform == 'win32'\n"
    )
    (info / "RECORD").write_text("")
    ok(kiln("pip", "check", "--python", venv, env=env))
    result = kiln("pip", "check", "--python", venv, "--python-platform", "windows", env=env)
    assert result.returncode == 1
    assert "The package `needy` requires `pywin`, but `pywin` is not installed" in result.stdout


def fake_system_python(root: Path, managed: bool) -> Path:
    """A Python installation of its own at ``root`` (no virtual environment): a copy of a
    real interpreter whose standard library links to the real one, with an empty
    site-packages of its own; ``managed`` adds an ``EXTERNALLY-MANAGED`` marker."""
    import shutil
    import sys

    from pythons import find_python

    found = find_python(sys.version_info[:2])
    if found is None:
        pytest.skip("no pyenv-style interpreter to copy")
    real = Path(found).resolve()
    short = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    stdlib = root / "lib" / short
    stdlib.mkdir(parents=True)
    for entry in (real.parent.parent / "lib" / short).iterdir():
        if entry.name != "site-packages":
            (stdlib / entry.name).symlink_to(entry)
    (stdlib / "site-packages").mkdir()
    if managed:
        (stdlib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\nError=no\n")
    (root / "bin").mkdir()
    shutil.copy2(real, root / "bin" / short)
    return root / "bin" / short


def test_an_externally_managed_python_is_changed_only_when_allowed(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    python = fake_system_python(tmp_path / "system", managed=True)
    site = next((tmp_path / "system" / "lib").glob("python*/site-packages"))
    common = ("--python", python, "--system", "--default-index", index.url)
    refused = kiln("pip", "install", "gamma", *common, env=env)
    assert refused.returncode == 1
    assert "is externally managed" in refused.stderr
    assert "hint: install into a virtual environment" in refused.stderr
    assert list(site.iterdir()) == []
    assert kiln("pip", "uninstall", "gamma", *common[:3], env=env).returncode == 1
    ok(kiln("pip", "install", "gamma", *common, "--break-system-packages", env=env))
    assert (site / "gamma").is_dir()
    # A directory of its own is no part of the managed installation.
    ok(kiln("pip", "install", "beta", *common, "--target", tmp_path / "t", env=env))
    assert (tmp_path / "t" / "beta").is_dir()


def test_no_editable_installs_editable_requirements_as_ordinary_builds(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    from pip_helpers import kiln_project, run_python

    first = kiln_project(tmp_path / "first", "firstpkg")
    second = kiln_project(tmp_path / "second", "secondpkg")
    (tmp_path / "reqs.txt").write_text(f"-e {first}\n-e {second}\n")
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "-r", tmp_path / "reqs.txt",
           "--no-editable-package", "SecondPkg"))
    site = next((venv / "lib").glob("python*/site-packages"))

    def direct(name: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(
            (site / f"{name}-1.0.dist-info" / "direct_url.json").read_text()
        )
        return loaded

    assert direct("firstpkg")["dir_info"] == {"editable": True}
    assert direct("secondpkg")["dir_info"] == {}
    (second / "src" / "secondpkg" / "__init__.py").write_text("VALUE = 'edited'\n")
    assert run_python(venv, "import secondpkg; print(secondpkg.VALUE)") == "secondpkg"

    other = make_venv(tmp_path / "other", env)
    ok(pip(other, env, index, "install", "-e", first, "--no-editable"))
    assert (next((other / "lib").glob("python*/site-packages")) / "firstpkg").is_dir()
