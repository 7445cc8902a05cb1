"""`kiln lock`: the workspace's `pylock.toml`, from a real loopback index, written and checked by
real `kiln` processes, read back with `packaging.pylock` and installed by uv."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import tomllib
from indexserver import IndexServer, build_sdist, build_wheel, sha256_of
from packaging.markers import default_environment
from packaging.pylock import Pylock
from pip_helpers import base_env, kiln, ok

UV = Path(sys.executable).parent / "uv"
UPLOADED = "2024-05-29T15:37:47Z"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "requests", "2.31.0", requires_dist=[
        "idna>=3", "pysocks; extra == 'socks'"]))
    server.add(build_wheel(files, "requests", "2.32.3", requires_dist=[
        "idna>=3", "pysocks; extra == 'socks'"]), upload_time=UPLOADED)
    server.add(build_sdist(files, "requests", "2.32.3", requires_dist=["idna>=3"]))
    server.add(build_wheel(files, "idna", "3.6"))
    server.add(build_wheel(files, "idna", "3.7"))
    server.add(build_wheel(files, "pysocks", "1.7.1"))
    server.add(build_wheel(files, "pytest", "8.0.0", requires_dist=["iniconfig"]))
    server.add(build_wheel(files, "iniconfig", "2.0.0"))
    server.add(build_wheel(files, "ruff", "0.5.0", tag="py3-none-manylinux_2_17_x86_64"))
    server.add(build_wheel(files, "ruff", "0.5.0", tag="py3-none-win_amd64"))
    for version, floor in (("1.26.4", "3.9"), ("2.1.0", "3.12")):
        wheel = build_wheel(files, "numpy", version, requires_python=f">={floor}")
        server.add(wheel, requires_python=f">={floor}")
    # A wheel only for a CPython older than every lock's floor: left out of the lock.
    server.add(build_wheel(files, "numpy", "1.26.4", tag="cp38-cp38-manylinux_2_17_x86_64"),
               requires_python=">=3.9")
    server.add(build_wheel(files, "conflicting", "1.0", requires_dist=["idna<3"]))
    with server:
        yield server


PROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["requests>=2", "numpy"]

[project.optional-dependencies]
socks = ["requests[socks]"]

[dependency-groups]
dev = [{ include-group = "lint" }, { include-group = "test" }]
lint = ["ruff"]
test = ["pytest"]
"""


def project(root: Path, text: str = PROJECT) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(text))
    return root


def lock(root: Path, index: IndexServer, *args: str, env: dict[str, str] | None = None,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    env = env or base_env(root.parent / "cache")
    result = kiln("lock", "--default-index", index.url, *args, env=env, cwd=root)
    assert "Traceback" not in result.stderr
    return ok(result) if check else result


def packages(root: Path) -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for entry in tomllib.loads((root / "pylock.toml").read_text())["packages"]:
        found.setdefault(entry["name"], []).append(entry)
    return found


def selected(root: Path, python: str = "3.11.4", **kwargs: object) -> dict[str, str]:
    """What `packaging.pylock` selects from the lock for Linux with ``python``."""
    pylock = Pylock.from_dict(tomllib.loads((root / "pylock.toml").read_text()))
    environment = {**default_environment(), "sys_platform": "linux",
                   "python_full_version": python, "python_version": python.rsplit(".", 1)[0]}
    return {
        package.name: str(package.version or "")
        for package, _ in pylock.select(environment=environment, **kwargs)  # type: ignore[arg-type]
    }


def test_lock_lists_every_package_with_its_marker_files_and_index(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    lock(root, index)
    data = tomllib.loads((root / "pylock.toml").read_text())
    Pylock.from_dict(data)  # valid PEP 751
    assert {k: v for k, v in data.items() if k not in ("packages", "tool")} == {
        "lock-version": "1.0", "created-by": "kiln", "requires-python": ">=3.10",
        "extras": ["socks"], "dependency-groups": ["dev", "lint", "test"],
        "default-groups": ["dev"],
    }
    found = packages(root)
    assert "demo" not in found  # a project without `[build-system]` is virtual: not installed
    requests = found["requests"]
    assert len(requests) == 1 and requests[0]["version"] == "2.32.3"
    assert "marker" not in requests[0]
    assert requests[0]["index"] == index.url
    served = {f.path.name: f.path for f in index.files}
    wheel = requests[0]["wheels"][0]  # type: ignore[index]
    assert wheel == {
        "url": f"{index.base}/files/requests-2.32.3-py3-none-any.whl",
        "upload-time": datetime(2024, 5, 29, 15, 37, 47, tzinfo=timezone.utc),
        "size": served["requests-2.32.3-py3-none-any.whl"].stat().st_size,
        "hashes": {"sha256": sha256_of(served["requests-2.32.3-py3-none-any.whl"])},
    }
    assert requests[0]["sdist"]["url"].endswith("/files/requests-2.32.3.tar.gz")  # type: ignore[index]
    # Groups and extras select with PEP 751's own marker variables; nested groups included.
    assert found["ruff"][0]["marker"] == '"dev" in dependency_groups or "lint" in dependency_groups'
    assert found["pytest"][0]["marker"] == '"dev" in dependency_groups or "test" in dependency_groups'
    assert found["iniconfig"][0]["marker"] == found["pytest"][0]["marker"]
    assert found["pysocks"][0]["marker"] == '"socks" in extras'
    assert [w["url"].rsplit("/", 1)[1] for w in found["ruff"][0]["wheels"]] == [  # type: ignore[index, union-attr]
        "ruff-0.5.0-py3-none-manylinux_2_17_x86_64.whl", "ruff-0.5.0-py3-none-win_amd64.whl"]
    # The numpy wheel for CPython 3.8 cannot serve `>=3.10`: it is not listed.
    names = [w["url"].rsplit("/", 1)[1] for e in found["numpy"] for w in e["wheels"]]  # type: ignore[union-attr]
    assert not any("cp38" in name for name in names)
    # Selecting with packaging.pylock: default groups, no extras, then each choice.
    assert selected(root) == {"idna": "3.7", "iniconfig": "2.0.0", "numpy": "1.26.4",
                              "pytest": "8.0.0", "requests": "2.32.3", "ruff": "0.5.0"}
    assert selected(root, dependency_groups=["lint"]) == {
        "idna": "3.7", "numpy": "1.26.4", "requests": "2.32.3", "ruff": "0.5.0"}
    assert "pysocks" in selected(root, extras=["socks"], dependency_groups=[])


def test_a_newer_version_needing_a_newer_python_forks_the_lock(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    lock(root, index)
    numpy = packages(root)["numpy"]
    assert [(e["version"], e["marker"], e["requires-python"]) for e in numpy] == [
        ("1.26.4", 'python_full_version < "3.12"', ">=3.9"),
        ("2.1.0", 'python_full_version >= "3.12"', ">=3.12"),
    ]
    assert selected(root, "3.11.4")["numpy"] == "1.26.4"
    assert selected(root, "3.13.0")["numpy"] == "2.1.0"


def test_relocking_an_unchanged_project_leaves_the_file_untouched(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    lock(root, index)
    path = root / "pylock.toml"
    before, stamp = path.read_bytes(), path.stat().st_mtime_ns
    # Offline, with an empty cache: only a lock recognised as current can succeed.
    env = base_env(tmp_path / "empty-cache")
    result = lock(root, index, "--offline", env=env)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp
    assert result.stderr == "Resolved 8 packages in " + result.stderr.split(" in ", 1)[1]
    ok(kiln("lock", "--default-index", index.url, "--check", env=env, cwd=root))
    # A change that leaves the inputs as they were (a comment) renews only the stamps.
    (root / "pyproject.toml").write_text(PROJECT + "# a comment\n")
    lock(root, index, "--offline", env=env)
    assert path.read_text().split("[tool.kiln]")[0] == before.decode().split("[tool.kiln]")[0]


def test_relock_keeps_locked_versions_and_upgrade_package_lifts_one(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", '[project]\nname = "demo"\nversion = "1"\n'
                   'requires-python = ">=3.10"\ndependencies = ["requests<2.32", "idna<3.7"]\n')
    lock(root, index)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1"\n'
                                         'requires-python = ">=3.10"\n'
                                         'dependencies = ["requests", "idna"]\n')
    lock(root, index)
    assert {n: e[0]["version"] for n, e in packages(root).items()} == {
        "idna": "3.6", "requests": "2.31.0"}
    result = lock(root, index, "--upgrade-package", "requests")
    assert {n: e[0]["version"] for n, e in packages(root).items()} == {
        "idna": "3.6", "requests": "2.32.3"}
    assert "update `requests` 2.31.0 -> 2.32.3" in result.stderr
    lock(root, index, "-P", "requests==2.31.0")
    assert packages(root)["requests"][0]["version"] == "2.31.0"
    lock(root, index, "--upgrade")
    assert {n: e[0]["version"] for n, e in packages(root).items()} == {
        "idna": "3.7", "requests": "2.32.3"}


def test_locked_fails_on_a_stale_lock_and_says_what_changed(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    lock(root, index)
    before = (root / "pylock.toml").read_bytes()
    (root / "pyproject.toml").write_text(PROJECT.replace('"numpy"]', '"numpy", "iniconfig"]')
                                         .replace('"requests>=2"', '"requests<2.32"'))
    result = lock(root, index, "--locked", check=False)
    assert result.returncode == 1
    assert "pylock.toml` is not up to date" in result.stderr
    assert "update `requests` 2.32.3 -> 2.31.0" in result.stderr
    assert "change the entry of `iniconfig` 2.0.0: `marker`" in result.stderr
    assert (root / "pylock.toml").read_bytes() == before
    dry = lock(root, index, "--dry-run")
    assert "Would update `pylock.toml`" in dry.stderr
    assert (root / "pylock.toml").read_bytes() == before


def test_a_workspace_locks_every_member_and_path_dependency(
    tmp_path: Path, index: IndexServer
) -> None:
    root = tmp_path / "ws"
    build = '\n[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n'
    project(root, '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.10"\n'
            'dependencies = ["lib-a"]\n\n[tool.kiln.sources]\nlib-a = { workspace = true }\n\n'
            '[tool.kiln.workspace]\nmembers = ["packages/*"]\n' + build)
    project(root / "packages" / "a", '[project]\nname = "lib-a"\nversion = "0.1"\n'
            'dependencies = ["lib-b", "idna"]\n\n[tool.kiln.sources]\n'
            'lib-b = { path = "../b", editable = true }\n' + build)
    project(root / "packages" / "b", '[project]\nname = "lib-b"\nversion = "0.2"\n'
            'dependencies = ["iniconfig"]\n' + build)
    lock(root, index)
    found = packages(root)
    assert {name: entries[0].get("directory") for name, entries in found.items()} == {
        "app": {"path": ".", "editable": True},
        "lib-a": {"path": "packages/a", "editable": True},
        "lib-b": {"path": "packages/b", "editable": True},
        "idna": None, "iniconfig": None,
    }
    Pylock.from_dict(tomllib.loads((root / "pylock.toml").read_text()))
    tool = tomllib.loads((root / "pylock.toml").read_text())["tool"]["kiln"]
    assert [p["path"] for p in tool["projects"]] == [".", "packages/a", "packages/b"]
    # From a member's directory, the workspace's lock is the one checked.
    before = (root / "pylock.toml").read_bytes()
    lock(root / "packages" / "a", index, "--check")
    assert not (root / "packages" / "a" / "pylock.toml").exists()
    # A new member is noticed.
    project(root / "packages" / "c", '[project]\nname = "lib-c"\nversion = "1"\n' + build)
    stale = lock(root, index, "--check", check=False)
    assert stale.returncode == 1 and "add `lib-c`" in stale.stderr
    assert (root / "pylock.toml").read_bytes() == before


def test_uv_installs_the_lock_into_a_fresh_environment(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    lock(root, index)
    env = {**base_env(tmp_path / "cache"), "UV_CACHE_DIR": str(tmp_path / "uv-cache")}

    def install(*args: str) -> set[str]:
        venv = tmp_path / f"venv{len(args)}"
        ok(subprocess.run([str(UV), "venv", "-q", str(venv), "--python", sys.executable],
                          capture_output=True, text=True, env=env, timeout=120))
        ok(subprocess.run([str(UV), "pip", "install", "--python", str(venv / "bin" / "python"),
                           "-r", str(root / "pylock.toml"), *args],
                          capture_output=True, text=True, env=env, timeout=300))
        frozen = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "freeze"],
                                capture_output=True, text=True, timeout=60)
        if frozen.returncode != 0:  # no pip in a uv venv: ask uv
            frozen = ok(subprocess.run([str(UV), "pip", "freeze", "--python",
                                        str(venv / "bin" / "python")],
                                       capture_output=True, text=True, env=env, timeout=60))
        return set(frozen.stdout.split())

    numpy = "2.1.0" if sys.version_info >= (3, 12) else "1.26.4"
    base = {"idna==3.7", f"numpy=={numpy}", "requests==2.32.3"}
    dev = {"iniconfig==2.0.0", "pytest==8.0.0", "ruff==0.5.0"}
    assert install() == base | dev  # the default group, `dev`
    assert install("--extra", "socks", "--group", "lint") == base | {"pysocks==1.7.1",
                                                                    "ruff==0.5.0"}


def test_a_malformed_lock_is_named_by_locked_and_rewritten_by_lock(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo")
    lock(root, index)
    path = root / "pylock.toml"
    good = path.read_text()
    path.write_text(good.replace('name = "idna"', 'nome = "idna"'))
    result = lock(root, index, "--locked", check=False)
    assert result.returncode == 1
    assert f"error: `{path}` is not a valid lockfile at `packages[" in result.stderr
    assert "Missing required value" in result.stderr
    rewritten = lock(root, index)
    assert "warning: " in rewritten.stderr and "writing it anew" in rewritten.stderr
    assert path.read_text() == good
    # A hand edit that keeps the file valid is noticed too.
    path.write_text(good.replace('name = "idna"\n', 'name = "idna"\n# checked by hand\n'))
    edited = lock(root, index, "--locked", check=False)
    assert edited.returncode == 1 and "was changed since kiln wrote it" in edited.stderr
    path.write_text("lock-version = [")
    broken = lock(root, index, "--check", check=False)
    assert broken.returncode == 1 and f"`{path}` is not valid TOML" in broken.stderr


def test_an_unsatisfiable_project_is_explained_and_writes_no_lock(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", '[project]\nname = "demo"\nversion = "1"\n'
                   'requires-python = ">=3.10"\ndependencies = ["requests", "conflicting"]\n')
    result = lock(root, index, check=False)
    assert result.returncode == 1
    assert "conflicting" in result.stderr and "idna" in result.stderr
    assert "error: " in result.stderr
    # One resolution for every environment: no hint naming a part of them.
    assert "environments where" not in result.stderr
    assert not (root / "pylock.toml").exists()


def test_uv_lock_versions_are_kept_when_moving_from_uv(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", '[project]\nname = "demo"\nversion = "1"\n'
                   'requires-python = ">=3.10"\ndependencies = ["requests"]\n')
    (root / "uv.lock").write_text(textwrap.dedent("""\
        version = 1
        requires-python = ">=3.10"

        [[package]]
        name = "idna"
        version = "3.6"
        source = { registry = "https://pypi.org/simple" }

        [[package]]
        name = "requests"
        version = "2.31.0"
        source = { registry = "https://pypi.org/simple" }
    """))
    before = (root / "uv.lock").read_bytes()
    lock(root, index)
    assert {n: e[0]["version"] for n, e in packages(root).items()} == {
        "idna": "3.6", "requests": "2.31.0"}
    assert (root / "uv.lock").read_bytes() == before


def test_index_credentials_never_reach_the_lock(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo", '[project]\nname = "demo"\nversion = "1"\n'
                   'requires-python = ">=3.10"\ndependencies = ["idna"]\n')
    secret_url = index.url.replace("http://", "http://user:s3cret@")
    ok(kiln("lock", "--default-index", secret_url, env=base_env(tmp_path / "cache"), cwd=root))
    text = (root / "pylock.toml").read_text()
    assert "s3cret" not in text and "user@" not in text
    assert packages(root)["idna"][0]["index"] == index.url


def test_frozen_has_nothing_to_do(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo")
    env = base_env(tmp_path / "cache")
    missing = kiln("lock", "--frozen", env=env, cwd=root)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    lock(root, index)
    ok(kiln("lock", "--frozen", env=env, cwd=root))


def test_conflicting_extras_get_one_entry_each(tmp_path: Path, index: IndexServer) -> None:
    text = ('[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.10"\n\n'
            '[project.optional-dependencies]\nold = ["requests==2.31.0"]\n'
            'new = ["requests==2.32.3"]\n')
    root = project(tmp_path / "demo", text)
    failed = lock(root, index, check=False)
    assert failed.returncode == 1 and "no solution found" in failed.stderr
    assert '"new" in extras and "old" in extras' in failed.stderr
    project(root, text + '\n[tool.kiln]\nconflicts = [[{ extra = "old" }, { extra = "new" }]]\n')
    lock(root, index)
    assert [(e["version"], e["marker"]) for e in packages(root)["requests"]] == [
        ("2.31.0", '"old" in extras'), ("2.32.3", '"new" in extras')]
    assert selected(root, extras=["new"])["requests"] == "2.32.3"
    with pytest.raises(Exception, match="Multiple packages with the name 'requests'"):
        selected(root, extras=["new", "old"])


def test_check_exists_is_uvs_name_of_frozen(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1.0"\n')
    env = base_env(tmp_path / "cache")
    missing = kiln("lock", "--check-exists", env=env, cwd=tmp_path)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    (tmp_path / "pylock.toml").write_text("lock-version = '1.0'\n")
    assert kiln("lock", "--check-exists", env=env, cwd=tmp_path).returncode == 0
