"""`kiln sync` options that uv has (issue #19): `--check`, `--output-format json`,
`--no-install-local`, `--no-editable-package`, `--python-platform`, and `--upgrade-group` of
`kiln lock` and `kiln sync`; real `kiln` processes against a loopback index."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import KILN_BUILD_SYSTEM, base_env, kiln, ok


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    for version in ("2.31.0", "2.32.3"):
        server.add(build_wheel(files, "requests", version, requires_dist=["idna>=3"]))
    for version in ("3.6", "3.7"):
        server.add(build_wheel(files, "idna", version))
    for version in ("0.4.0", "0.5.0"):
        server.add(build_wheel(files, "ruff", version))
    server.add(build_wheel(files, "six", "1.16.0"))
    server.add(build_wheel(files, "winonly", "1.0", tag="py3-none-win_amd64"))
    server.add(build_wheel(files, "native", "1.0", tag="py3-none-any"))
    server.add(build_wheel(files, "native", "1.0", tag="py3-none-win_amd64"))
    with server:
        yield server


PROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["requests"]

[dependency-groups]
dev = ["ruff"]
"""


def project(root: Path, text: str = PROJECT) -> Path:
    name = text.split('name = "', 1)[1].split('"', 1)[0]
    module = root / "src" / name.replace("-", "_")
    module.mkdir(parents=True, exist_ok=True)
    (module / "__init__.py").write_text(f"NAME = {name!r}\n")
    (root / "pyproject.toml").write_text(textwrap.dedent(text) + "\n" + KILN_BUILD_SYSTEM)
    return root


def run(command: str, root: Path, index: IndexServer, *args: str | Path,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = kiln(command, "--default-index", index.url, *args,
                  env=base_env(root.parent / "cache"), cwd=cwd or root)
    assert "Traceback" not in result.stderr
    return result


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def installed(venv: Path) -> dict[str, str]:
    found = {}
    for entry in site_packages(venv).glob("*.dist-info"):
        name, version = entry.name[: -len(".dist-info")].rsplit("-", 1)
        found[name.lower().replace("_", "-")] = version
    return found


def direct_url(venv: Path, dist: str) -> object:
    (path,) = site_packages(venv).glob(f"{dist}-*.dist-info/direct_url.json")
    return json.loads(path.read_text())


# -- --check ---------------------------------------------------------------------------------


def test_check_changes_nothing_and_fails_until_the_environment_is_in_sync(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    fresh = run("sync", root, index, "--check")
    assert fresh.returncode == 1
    assert "Would install 4 packages" in fresh.stderr and " + requests==2.32.3" in fresh.stderr
    assert "error: `pylock.toml` does not exist; the environment does not exist; the " \
        "environment is not in sync with the lock" in fresh.stderr
    assert "hint: run `kiln sync`" in fresh.stderr
    assert not (root / ".venv").exists() and not (root / "pylock.toml").exists()
    ok(run("sync", root, index))
    lock = (root / "pylock.toml").read_bytes()
    in_sync = ok(run("sync", root, index, "--check"))
    assert "error" not in in_sync.stderr
    # The environment differs from what the options select: the `dev` group would go.
    fewer = run("sync", root, index, "--check", "--no-dev")
    assert fewer.returncode == 1
    assert " - ruff==0.5.0" in fewer.stderr
    assert "error: the environment is not in sync with the lock" in fewer.stderr
    assert "ruff" in installed(root / ".venv")
    # The lock is stale: named, and neither it nor the environment changes.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["requests"]', '["requests", "six"]'))
    stale = run("sync", root, index, "--check")
    assert stale.returncode == 1
    assert "add `six` 1.16.0" in stale.stderr and " + six==1.16.0" in stale.stderr
    assert "error: `pylock.toml` is not up to date; the environment is not in sync" in (
        stale.stderr)
    assert (root / "pylock.toml").read_bytes() == lock
    assert "six" not in installed(root / ".venv")


# -- --output-format json ------------------------------------------------------------------------


def test_json_reports_the_environment_the_lock_and_the_changes(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    planned = json.loads(ok(run("sync", root, index, "--output-format", "json", "--no-dev",
                                "--dry-run")).stdout)
    assert planned["sync"]["action"] == "create" and planned["lock"]["action"] == "create"
    assert planned["sync"]["environment"]["python"]["path"].startswith(str(root / ".venv"))
    # The project is not built yet: its version is not known, and left out as uv does.
    assert planned["sync"]["changes"][0] == {"name": "demo", "action": "installed"}
    assert not (root / ".venv").exists()
    first = ok(run("sync", root, index, "--output-format", "json", "--no-dev"))
    report = json.loads(first.stdout)
    venv = root / ".venv"
    assert report["schema"] == {"version": "preview"}
    assert report["target"] == "project" and "script" not in report
    assert report["project"] == {"path": str(root), "workspace": {"path": str(root)}}
    environment = report["sync"]["environment"]
    assert environment["path"] == str(venv)
    assert Path(environment["python"]["path"]).parent.parent == venv
    assert environment["python"]["implementation"] == "cpython"
    assert report["sync"]["action"] == "create"
    assert report["sync"]["changes"] == [
        {"name": "demo", "version": "0.1.0", "action": "installed"},
        {"name": "idna", "version": "3.7", "action": "installed"},
        {"name": "requests", "version": "2.32.3", "action": "installed"},
    ]
    assert report["lock"] == {"path": str(root / "pylock.toml"), "action": "create"}
    assert report["dry_run"] is False
    # The human summary stays on stderr.
    assert "Installed 3 packages" in first.stderr
    again = json.loads(ok(run("sync", root, index, "--output-format", "json",
                              "--no-dev")).stdout)
    assert again["sync"]["action"] == "check" and again["sync"]["changes"] == []
    assert again["lock"]["action"] == "check"
    dry = json.loads(ok(run("sync", root, index, "--output-format", "json",
                            "--dry-run")).stdout)
    assert dry["dry_run"] is True
    assert dry["sync"]["changes"] == [{"name": "ruff", "version": "0.5.0",
                                       "action": "installed"}]
    frozen = json.loads(ok(run("sync", root, index, "--output-format", "json", "--frozen",
                               "--no-dev")).stdout)
    assert frozen["lock"]["action"] == "use"
    member = json.loads(ok(run("sync", root, index, "--output-format", "json",
                               "--no-dev", cwd=root / "src")).stdout)
    assert member["project"]["path"] == str(root)
    # An environment that cannot be used is made anew: `replace` in a dry run, `update` after.
    (root / ".venv" / "bin" / "python").unlink()
    replace = json.loads(ok(run("sync", root, index, "--output-format", "json", "--no-dev",
                                "--dry-run")).stdout)
    assert replace["sync"]["action"] == "replace"
    update = json.loads(ok(run("sync", root, index, "--output-format", "json",
                               "--no-dev")).stdout)
    assert update["sync"]["action"] == "update"


def test_json_of_a_script_names_the_script_and_its_environment(
    tmp_path: Path, index: IndexServer
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    script = work / "fetch.py"
    script.write_text("# /// script\n# requires-python = \">=3.10\"\n"
                      "# dependencies = [\"six\"]\n# ///\nimport six\n")
    result = ok(run("sync", work, index, "--script", script, "--output-format", "json"))
    report = json.loads(result.stdout)
    assert report["target"] == "script" and "project" not in report
    assert report["script"] == {"path": str(script)}
    assert report["lock"] is None  # a script without its lock is resolved, not locked
    assert report["sync"]["changes"] == [{"name": "six", "version": "1.16.0",
                                          "action": "installed"}]
    venv = Path(report["sync"]["environment"]["path"])
    assert installed(venv) == {"six": "1.16.0"}
    ok(run("lock", work, index, "--script", script))
    locked = json.loads(ok(run("sync", work, index, "--script", script, "--output-format",
                               "json")).stdout)
    assert locked["lock"] == {"path": str(work / "pylock.fetch.toml"), "action": "check"}


# -- what is installed ----------------------------------------------------------------------


WORKSPACE = """\
[project]
name = "app"
version = "1.0"
requires-python = ">=3.10"
dependencies = ["lib-b", "local-wheel", "six"]

[tool.kiln.sources]
lib-b = { path = "packages/b", editable = true }
local-wheel = { path = "wheels/local_wheel-2.0-py3-none-any.whl" }
"""


def workspace(root: Path) -> Path:
    project(root, WORKSPACE)
    project(root / "packages" / "b", '[project]\nname = "lib-b"\nversion = "0.2"\n'
            'dependencies = ["idna"]\n')
    build_wheel(root / "wheels", "local-wheel", "2.0")
    return root


def test_no_install_local_leaves_out_the_project_and_path_dependencies(
    tmp_path: Path, index: IndexServer
) -> None:
    root = workspace(tmp_path / "ws")
    ok(run("sync", root, index, "--no-install-local"))
    assert installed(root / ".venv") == {"six": "1.16.0", "idna": "3.7"}
    ok(run("sync", root, index))
    assert set(installed(root / ".venv")) == {"app", "lib-b", "local-wheel", "six", "idna"}
    # Installed already, they are left alone (as `--no-install-package` leaves its packages).
    ok(run("sync", root, index, "--no-install-local"))
    assert set(installed(root / ".venv")) == {"app", "lib-b", "local-wheel", "six", "idna"}


def test_no_editable_package_installs_that_package_alone_as_a_wheel(
    tmp_path: Path, index: IndexServer
) -> None:
    root = workspace(tmp_path / "ws")
    venv = root / ".venv"
    ok(run("sync", root, index, "--no-editable-package", "LIB_B"))
    assert direct_url(venv, "lib_b") == {"url": (root / "packages" / "b").as_uri(),
                                         "dir_info": {}}
    assert (site_packages(venv) / "lib_b" / "__init__.py").is_file()
    assert direct_url(venv, "app") == {"url": root.as_uri(), "dir_info": {"editable": True}}
    again = ok(run("sync", root, index))  # editable again: reinstalled
    assert " - lib-b==0.2\n + lib-b==0.2\n" in again.stderr
    assert direct_url(venv, "lib_b") == {"url": (root / "packages" / "b").as_uri(),
                                         "dir_info": {"editable": True}}


def test_python_platform_chooses_the_lock_entries_of_that_platform(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", PROJECT.replace(
        '["requests"]', '["native", "winonly; sys_platform == \'win32\'"]'))
    venv = root / ".venv"
    ok(run("sync", root, index, "--no-dev", "--python-platform", "windows"))
    assert installed(venv) == {"demo": "0.1.0", "native": "1.0", "winonly": "1.0"}
    wheel = site_packages(venv) / "native-1.0.dist-info" / "WHEEL"
    assert "Tag: py3-none-win_amd64" in wheel.read_text()
    # The environment's own platform: the Windows-only package goes (`native` 1.0 is
    # installed already, so it stays as it is).
    ok(run("sync", root, index, "--no-dev"))
    assert installed(venv) == {"demo": "0.1.0", "native": "1.0"}
    dry = ok(run("sync", root, index, "--no-dev", "--dry-run", "--python-platform", "win32"))
    assert " + winonly==1.0" in dry.stderr
    fresh = project(tmp_path / "fresh", PROJECT.replace('["requests"]', '["native"]'))
    ok(run("sync", fresh, index, "--no-dev"))
    assert "Tag: py3-none-any" in (
        site_packages(fresh / ".venv") / "native-1.0.dist-info" / "WHEEL").read_text()
    bad = run("sync", root, index, "--python-platform", "amiga")
    assert bad.returncode == 2
    assert "error: unknown Python platform `amiga`" in bad.stderr and "`windows`" in bad.stderr


# -- --upgrade-group -----------------------------------------------------------------------------


def test_upgrade_group_upgrades_what_the_group_requires_and_nothing_else(
    tmp_path: Path, index: IndexServer
) -> None:
    pinned = PROJECT.replace('["requests"]', '["requests<=2.31.0"]').replace(
        '["ruff"]', '["ruff<=0.4.0", "idna<=3.6"]')
    root = project(tmp_path / "demo", pinned)
    ok(run("lock", root, index))
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text().replace(
        "<=2.31.0", "").replace("<=0.4.0", "").replace("<=3.6", ""))
    missing = run("lock", root, index, "--upgrade-group", "docs")
    assert missing.returncode == 1
    assert "error: `--upgrade-group`: group `docs` is not defined" in missing.stderr
    assert "hint: defined groups: `dev`" in missing.stderr
    result = ok(run("lock", root, index, "--upgrade-group", "dev"))
    assert "update `ruff` 0.4.0 -> 0.5.0" in result.stderr
    assert "update `idna` 3.6 -> 3.7" in result.stderr
    assert "requests" not in result.stderr  # not in the group: stays at its locked version
    assert 'name = "requests"\nversion = "2.31.0"' in (root / "pylock.toml").read_text()
    # `kiln sync` takes it too, and installs what it gives.
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text().replace(
        '["ruff", "idna"]', '["ruff", "idna"]\nother = ["requests"]'))
    ok(run("sync", root, index, "--upgrade-group", "other"))
    assert 'name = "requests"\nversion = "2.32.3"' in (root / "pylock.toml").read_text()
    assert installed(root / ".venv")["requests"] == "2.32.3"
