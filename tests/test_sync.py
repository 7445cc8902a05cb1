"""`kiln sync`: the project environment made to match `pylock.toml`, from a real loopback index,
by real `kiln` processes into real virtual environments; checked against uv installing the same
lock."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import KILN_BUILD_SYSTEM, base_env, kiln, ok, run_python

UV = Path(sys.executable).parent / "uv"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "requests", "2.31.0", requires_dist=[
        "idna>=3", "pysocks; extra == 'socks'"]))
    server.add(build_wheel(files, "requests", "2.32.3", requires_dist=[
        "idna>=3", "pysocks; extra == 'socks'"]))
    server.add(build_wheel(files, "idna", "3.6"))
    server.add(build_wheel(files, "idna", "3.7"))
    server.add(build_wheel(files, "pysocks", "1.7.1"))
    server.add(build_wheel(files, "pytest", "8.0.0", requires_dist=["iniconfig"]))
    server.add(build_wheel(files, "iniconfig", "2.0.0"))
    server.add(build_wheel(files, "ruff", "0.5.0"))
    server.add(build_wheel(files, "six", "1.16.0"))
    with server:
        yield server


PROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["requests>=2"]

[project.optional-dependencies]
socks = ["requests[socks]"]

[dependency-groups]
dev = [{ include-group = "lint" }, { include-group = "test" }]
lint = ["ruff"]
test = ["pytest"]
"""


def project(root: Path, text: str = PROJECT, *, package: bool = True) -> Path:
    """A project as `kiln init --lib` lays it out (a package unless ``package`` is false)."""
    name = text.split('name = "', 1)[1].split('"', 1)[0]
    module = root / "src" / name.replace("-", "_")
    module.mkdir(parents=True, exist_ok=True)
    (module / "__init__.py").write_text(f"NAME = {name!r}\n")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(text) + ("\n" + KILN_BUILD_SYSTEM if package else "")
    )
    return root


def sync(root: Path, index: IndexServer, *args: str,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    result = kiln("sync", "--default-index", index.url, *args,
                  env=base_env(root.parent / "cache"), cwd=root)
    assert "Traceback" not in result.stderr
    return ok(result) if check else result


def site_packages(root: Path) -> Path:
    return next((root / ".venv" / "lib").glob("python*/site-packages"))


def installed(root: Path) -> dict[str, str]:
    """name -> version of every distribution in the project environment."""
    found = {}
    for entry in site_packages(root).glob("*.dist-info"):
        name, version = entry.name[: -len(".dist-info")].rsplit("-", 1)
        found[name.lower().replace("_", "-")] = version
    return found


BASE = {"demo": "0.1.0", "requests": "2.32.3", "idna": "3.7"}
DEV = {"pytest": "8.0.0", "iniconfig": "2.0.0", "ruff": "0.5.0"}


def test_sync_makes_the_environment_with_the_project_editable_and_its_dependencies(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    result = sync(root, index)
    assert "Creating virtual environment at: .venv" in result.stderr
    assert "Resolved 7 packages in " in result.stderr
    assert "Installed 6 packages in " in result.stderr
    assert " + demo==0.1.0\n" in result.stderr and " + requests==2.32.3\n" in result.stderr
    assert (root / "pylock.toml").is_file()
    assert installed(root) == BASE | DEV  # the default group `dev`, with its nested groups
    direct = json.loads((site_packages(root) / "demo-0.1.0.dist-info" / "direct_url.json")
                        .read_text())
    assert direct == {"url": root.as_uri(), "dir_info": {"editable": True}}
    # Editable: a change to the source shows without syncing again.
    (root / "src" / "demo" / "__init__.py").write_text("NAME = 'changed'\n")
    assert run_python(root / ".venv", "import demo; print(demo.NAME)") == "changed"


def test_a_second_sync_touches_nothing_and_loads_no_resolver(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index)
    records = {p: p.stat() for p in site_packages(root).glob("*.dist-info/RECORD")}
    again = sync(root, index)
    assert again.stderr.splitlines()[-1].startswith("Audited 6 packages in ")
    assert "Installed" not in again.stderr and "Prepared" not in again.stderr
    for path, before in records.items():
        after = path.stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        f"code = main(['sync', '--default-index', {index.url!r}])\n"
        "heavy = [m for m in ('kiln.core.resolver.pubgrub', 'kiln.core.install.installer',"
        " 'kiln.core.index.http', 'kiln.project.pyproject', 'packaging.pylock', 'ssl')"
        " if m in sys.modules]\n"
        "print('LOADED', heavy, code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=root, env=base_env(tmp_path / "cache"), timeout=120)
    assert "LOADED [] 0" in result.stderr, result.stderr


def test_a_dependency_removed_from_pyproject_is_relocked_and_uninstalled(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace('dependencies = ["requests>=2"]',
                                                      'dependencies = ["six"]'))
    result = sync(root, index)
    assert " - requests==2.32.3\n" in result.stderr and " - idna==3.7\n" in result.stderr
    assert " + six==1.16.0\n" in result.stderr
    assert "marker = '\"socks\" in extras'" in (root / "pylock.toml").read_text()
    assert installed(root) == {"demo": "0.1.0", "six": "1.16.0"} | DEV


def test_a_version_change_in_the_lock_downgrades_in_place(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace('"requests>=2"', '"requests<2.32"'))
    result = sync(root, index)
    assert " - requests==2.32.3\n + requests==2.31.0\n" in result.stderr
    assert installed(root)["requests"] == "2.31.0"


def test_exact_removes_what_the_lock_does_not_select_and_inexact_keeps_it(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index)
    env = base_env(tmp_path / "cache")
    ok(kiln("pip", "install", "--python", root / ".venv", "six", "--default-index", index.url,
            env=env, cwd=root))
    kept = sync(root, index, "--inexact")
    assert "six" not in kept.stderr and installed(root)["six"] == "1.16.0"
    removed = sync(root, index)
    assert " - six==1.16.0\n" in removed.stderr and "six" not in installed(root)


@pytest.mark.parametrize(("args", "expected"), [
    (["--extra", "socks"], BASE | DEV | {"pysocks": "1.7.1"}),
    (["--all-extras", "--no-dev"], BASE | {"pysocks": "1.7.1"}),
    (["--no-dev"], BASE),
    (["--no-default-groups", "--group", "test"], BASE | {"pytest": "8.0.0", "iniconfig": "2.0.0"}),
    (["--no-group", "dev", "--group", "lint"], BASE | {"ruff": "0.5.0"}),
    (["--all-groups", "--no-group", "lint", "--no-group", "dev"],
     BASE | {"pytest": "8.0.0", "iniconfig": "2.0.0"}),
    (["--only-group", "lint"], {"ruff": "0.5.0"}),
    (["--only-dev"], DEV),
    (["--no-install-project"], {k: v for k, v in (BASE | DEV).items() if k != "demo"}),
    (["--no-install-package", "IDNA", "--no-dev"], {"demo": "0.1.0", "requests": "2.32.3"}),
])
def test_extras_and_groups_choose_what_is_installed(
    tmp_path: Path, index: IndexServer, args: list[str], expected: dict[str, str]
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index, *args)
    assert installed(root) == expected


def test_default_groups_come_from_the_project(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo", PROJECT + '\n[tool.kiln]\ndefault-groups = ["lint"]\n')
    sync(root, index)
    assert installed(root) == BASE | {"ruff": "0.5.0"}
    sync(root, index, "--no-default-groups")
    assert installed(root) == BASE


def test_an_unknown_group_or_extra_is_an_error(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo")
    result = sync(root, index, "--group", "docs", check=False)
    assert result.returncode == 1
    assert "error: group `docs` is not defined in any `[dependency-groups]`" in result.stderr
    assert "hint: defined groups: `dev`, `lint`, `test`" in result.stderr
    result = sync(root, index, "--extra", "nope", check=False)
    assert result.returncode == 1 and "extra `nope` is not defined" in result.stderr


def test_a_workspace_syncs_the_current_member_one_package_or_all(
    tmp_path: Path, index: IndexServer
) -> None:
    root = tmp_path / "ws"
    project(root, '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.10"\n'
            'dependencies = ["lib-a"]\n\n[tool.kiln.sources]\nlib-a = { workspace = true }\n\n'
            '[tool.kiln.workspace]\nmembers = ["packages/*"]\n')
    project(root / "packages" / "a", '[project]\nname = "lib-a"\nversion = "0.1"\n'
            'dependencies = ["lib-b", "idna"]\n\n[tool.kiln.sources]\n'
            'lib-b = { path = "../b", editable = true }\n')
    project(root / "packages" / "b", '[project]\nname = "lib-b"\nversion = "0.2"\n'
            'dependencies = ["requests[socks]"]\n')
    project(root / "packages" / "c", '[project]\nname = "lib-c"\nversion = "0.3"\n'
            'dependencies = ["six"]\n\n[dependency-groups]\ndev = ["ruff"]\n')
    app = {"app": "1.0", "lib-a": "0.1", "lib-b": "0.2", "idna": "3.7", "requests": "2.32.3",
           "pysocks": "1.7.1"}
    sync(root, index)
    assert installed(root) == app  # the root member and what it needs
    sync(root, index, "--package", "lib-c")
    assert installed(root) == {"lib-c": "0.3", "six": "1.16.0", "ruff": "0.5.0"}
    sync(root, index, "--all-packages")
    assert installed(root) == app | {"lib-c": "0.3", "six": "1.16.0", "ruff": "0.5.0"}
    # From a member's directory, that member is the project.
    ok(kiln("sync", "--default-index", index.url, "--no-dev", env=base_env(tmp_path / "cache"),
            cwd=root / "packages" / "c"))
    assert installed(root) == {"lib-c": "0.3", "six": "1.16.0"}
    # Members are then neither installed nor removed: `lib-c` stays, `app` is not added.
    sync(root, index, "--all-packages", "--no-install-workspace")
    assert installed(root) == {"idna": "3.7", "requests": "2.32.3", "pysocks": "1.7.1",
                               "six": "1.16.0", "ruff": "0.5.0", "lib-c": "0.3"}
    unknown = sync(root, index, "--package", "nope", check=False)
    assert unknown.returncode == 1 and "package `nope` is not a member" in unknown.stderr


def test_a_virtual_member_a_project_depends_on_brings_its_dependencies(
    tmp_path: Path, index: IndexServer
) -> None:
    root = tmp_path / "ws"
    project(root, '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.10"\n'
            'dependencies = ["shared[net]; python_version >= \'3.10\'"]\n\n'
            '[tool.kiln.sources]\nshared = { workspace = true }\n\n'
            '[tool.kiln.workspace]\nmembers = ["packages/*"]\n')
    project(root / "packages" / "shared", '[project]\nname = "shared"\nversion = "0.1"\n'
            'dependencies = ["six"]\n\n[project.optional-dependencies]\nnet = ["idna"]\n'
            'unused = ["ruff"]\n', package=False)
    project(root / "packages" / "other", '[project]\nname = "other"\nversion = "0.2"\n'
            'dependencies = ["pytest"]\n')
    sync(root, index)
    # `shared` is virtual: never installed, but what it needs (with the extra asked) is
    assert installed(root) == {"app": "1.0", "six": "1.16.0", "idna": "3.7"}


def test_a_virtual_project_is_not_installed_but_its_dependencies_are(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", package=False)
    sync(root, index, "--no-dev")
    assert installed(root) == {"requests": "2.32.3", "idna": "3.7"}
    forced = project(tmp_path / "forced", PROJECT + "\n[tool.kiln]\npackage = false\n")
    sync(forced, index, "--no-dev")
    assert installed(forced) == {"requests": "2.32.3", "idna": "3.7"}


def test_no_editable_installs_the_project_as_a_regular_wheel(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index, "--no-editable", "--no-dev")
    direct = json.loads((site_packages(root) / "demo-0.1.0.dist-info" / "direct_url.json")
                        .read_text())
    assert direct == {"url": root.as_uri(), "dir_info": {}}
    assert (site_packages(root) / "demo" / "__init__.py").is_file()
    switched = sync(root, index, "--no-dev")  # editable again: reinstalled
    assert " - demo==0.1.0\n + demo==0.1.0\n" in switched.stderr


def test_a_changed_pyproject_rebuilds_the_editable_project(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index)
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace('version = "0.1.0"', 'version = "0.2.0"'))
    result = sync(root, index)
    assert " - demo==0.1.0\n + demo==0.2.0\n" in result.stderr


def test_locked_fails_on_a_stale_lock_naming_the_change(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index, "--no-dev")
    before = (root / "pylock.toml").read_bytes()
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace('"requests>=2"', '"requests>=2", "six"'))
    result = sync(root, index, "--locked", check=False)
    assert result.returncode == 1
    assert "pylock.toml` is not up to date" in result.stderr and "add `six`" in result.stderr
    assert (root / "pylock.toml").read_bytes() == before
    assert "six" not in installed(root)
    # --frozen installs the lock as it is, without the new dependency.
    sync(root, index, "--frozen", "--no-dev")
    assert "six" not in installed(root)


def test_frozen_needs_a_lock_and_a_malformed_one_is_named(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    missing = sync(root, index, "--frozen", check=False)
    assert missing.returncode == 1
    assert f"error: `--frozen` was given, but `{root / 'pylock.toml'}` does not exist" in (
        missing.stderr)
    assert not (root / ".venv").exists()
    sync(root, index, "--no-dev")
    path = root / "pylock.toml"
    path.write_text(path.read_text().replace('name = "idna"', 'nome = "idna"'))
    for flag in ("--frozen", "--locked"):
        bad = sync(root, index, flag, check=False)
        assert bad.returncode == 1
        assert f"error: `{path}` is not a valid lockfile at `packages[" in bad.stderr
    relocked = sync(root, index, "--no-dev")  # a plain sync writes it anew
    assert "writing it anew" in relocked.stderr
    assert 'nome = "idna"' not in path.read_text()


def test_a_distribution_without_record_is_reinstalled(tmp_path: Path, index: IndexServer) -> None:
    """An install that was cut off before its last file (RECORD) is repaired."""
    root = project(tmp_path / "demo")
    sync(root, index, "--no-dev")
    (site_packages(root) / "idna-3.7.dist-info" / "RECORD").unlink()
    result = sync(root, index, "--no-dev")
    assert " - idna==3.7\n + idna==3.7\n" in result.stderr
    assert (site_packages(root) / "idna-3.7.dist-info" / "RECORD").is_file()


def test_dry_run_changes_nothing(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo")
    result = sync(root, index, "--dry-run")
    assert "Would create project environment at: .venv" in result.stderr
    assert "Would install 6 packages" in result.stderr and " + requests==2.32.3" in result.stderr
    assert not (root / ".venv").exists() and not (root / "pylock.toml").exists()


def test_a_dry_run_in_a_workspace_lists_only_what_the_member_needs(
    tmp_path: Path, index: IndexServer
) -> None:
    root = tmp_path / "ws"
    project(root, '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.10"\n'
            'dependencies = ["requests"]\n\n[tool.kiln.workspace]\nmembers = ["packages/*"]\n')
    project(root / "packages" / "c", '[project]\nname = "lib-c"\nversion = "0.3"\n'
            'dependencies = ["six"]\n')
    result = sync(root, index, "--dry-run")
    assert "Would install 3 packages" in result.stderr
    for line in (" + app", " + requests==2.32.3", " + idna==3.7"):
        assert line in result.stderr
    assert "six" not in result.stderr and "lib-c" not in result.stderr
    assert not (root / ".venv").exists()


def test_an_unmanaged_project_is_refused(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo", PROJECT + "\n[tool.kiln]\nmanaged = false\n")
    result = sync(root, index, check=False)
    assert result.returncode == 1
    assert "is not managed by kiln: `tool.kiln.managed = false`" in result.stderr
    assert not (root / ".venv").exists()


def test_uv_pip_sync_of_the_lock_gives_what_kiln_sync_gives(
    tmp_path: Path, index: IndexServer
) -> None:
    # A virtual project: uv would build a `directory` entry of the project with kiln_build,
    # which the loopback index does not serve.
    root = project(tmp_path / "demo", package=False)
    sync(root, index, "--extra", "socks")
    env = {**base_env(tmp_path / "cache"), "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    venv = tmp_path / "uv-venv"
    ok(subprocess.run([str(UV), "venv", "-q", str(venv), "--python", sys.executable],
                      capture_output=True, text=True, env=env, timeout=120))
    ok(subprocess.run([str(UV), "pip", "sync", "--python", str(venv / "bin" / "python"),
                       str(root / "pylock.toml"), "--extra", "socks"],
                      capture_output=True, text=True, env=env, timeout=300))

    def freeze(python: Path) -> set[str]:
        result = ok(subprocess.run([str(UV), "pip", "freeze", "--python", str(python)],
                                   capture_output=True, text=True, env=env, timeout=60))
        return {line for line in result.stdout.splitlines() if not line.startswith("-e ")}

    theirs = freeze(venv / "bin" / "python")
    ours = freeze(root / ".venv" / "bin" / "python")
    assert ours == theirs
    assert "pysocks==1.7.1" in ours and "ruff==0.5.0" in ours
    assert not any(line.startswith("demo") for line in ours)


def test_kiln_pip_installs_and_syncs_a_pylock_file(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo", package=False)
    sync(root, index, "--no-dev")  # writes pylock.toml
    env = base_env(tmp_path / "cache")
    venv = tmp_path / "venv"
    ok(kiln("venv", venv, env=env))
    ok(kiln("pip", "install", "--python", venv, "six", "--default-index", index.url, env=env))
    lock = root / "pylock.toml"
    added = ok(kiln("pip", "install", "--python", venv, "-r", lock, env=env))
    assert " + requests==2.32.3\n" in added.stderr
    frozen = ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout.split()
    # The lock's default group `dev` is installed, next to what was there.
    assert sorted(frozen) == ["idna==3.7", "iniconfig==2.0.0", "pytest==8.0.0",
                              "requests==2.32.3", "ruff==0.5.0", "six==1.16.0"]
    named = tmp_path / "pylock.dev.toml"
    named.write_text(lock.read_text())
    synced = ok(kiln("pip", "sync", "--python", venv, named, env=env))
    assert " - six==1.16.0\n" in synced.stderr
    assert "six" not in ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout
    mixed = kiln("pip", "install", "--python", venv, "-r", lock, "six", env=env)
    assert mixed.returncode == 1 and "cannot be combined with other requirements" in mixed.stderr
    # `--extra` and `--group` choose the lock's extras and groups, as with uv
    chosen = ok(kiln("pip", "sync", "--python", venv, lock, "--all-extras",
                     "--group", "lint", "--dry-run", env=env))
    assert " + pysocks==1.7.1\n" in chosen.stderr
    assert " - pytest==8.0.0\n" in chosen.stderr and " - ruff" not in chosen.stderr
    assert "pysocks" not in ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout


def test_a_file_that_does_not_match_the_locks_sha256_is_not_installed(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    sync(root, index, "--no-dev", "--no-install-package", "idna")
    path = root / "pylock.toml"
    text = path.read_text()
    entry = text.index('name = "idna"')
    start = text.index('sha256 = "', entry) + len('sha256 = "')
    path.write_text(text[:start] + "0" * 64 + text[start + 64:])
    result = sync(root, index, "--no-dev", "--frozen", check=False)
    assert result.returncode == 1
    assert "hash mismatch for `idna-3.7-py3-none-any.whl`" in result.stderr
    assert "idna" not in installed(root)
