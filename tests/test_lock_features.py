"""`kiln lock` beyond the basics: per-group `requires-python`, index pins of members and by
marker or extra, `required-environments`, `git` and `url` sources, the workspace layout of
uv's docs. Real `kiln` processes against real loopback indexes; the locks are read back with
`packaging.pylock`."""

from __future__ import annotations

import hashlib
import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib
from indexserver import IndexServer, build_sdist, build_wheel
from packaging.markers import default_environment
from packaging.pylock import Pylock
from packaging.version import Version
from pip_helpers import base_env, kiln, ok

BUILD = '\n[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n'


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    for name, version in (("idna", "3.7"), ("iniconfig", "2.0.0"), ("filelock", "3.16.1"),
                          ("tqdm", "4.66.5"), ("torch", "2.5.1")):
        server.add(build_wheel(files / "pypi", name, version,
                               requires_dist=["filelock"] if name == "torch" else []))
    server.add(build_wheel(files / "pypi", "pytest", "8.0.0", requires_dist=["iniconfig"]))
    server.add(build_wheel(files / "pypi", "ruff", "0.5.0", tag="py3-none-manylinux_2_17_x86_64"))
    server.add(build_wheel(files / "pypi", "ruff", "0.5.0", tag="py3-none-win_amd64"))
    server.add(build_wheel(files / "pypi", "ruff", "0.4.0", tag="py3-none-win_amd64"))
    server.add(build_sdist(files / "pypi", "ruff", "0.4.0"))
    # The PyTorch indexes: each build of a release under its own local version.
    for local in ("cpu", "cu124"):
        server.add(build_wheel(files / local, "torch", f"2.5.1+{local}",
                               requires_dist=["filelock"]), root=f"/whl/{local}")
    server.add(build_wheel(files / "cpu", "torch", "2.4.0+cpu", requires_dist=["filelock"]),
               root="/whl/cpu")
    # A library whose newest version has only Linux wheels.
    server.add(build_wheel(files / "pypi", "fastlib", "2.0", tag="py3-none-manylinux_2_17_x86_64"))
    server.add(build_wheel(files / "pypi", "fastlib", "1.0"))
    # A wheel a `url` source points at.
    server.add(build_wheel(files / "direct", "archpkg", "1.0", requires_dist=["idna"]),
               root="/direct")
    # Private indexes with versions PyPI does not have.
    server.add(build_wheel(files / "internal", "idna", "3.99"), root="/internal")
    server.add(build_wheel(files / "internal", "iniconfig", "9.0"), root="/internal")
    server.add(build_wheel(files / "member", "idna", "3.98"), root="/member")
    with server:
        yield server


def project(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(text))
    return root


def lock(root: Path, index: IndexServer, *args: str,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    result = kiln("lock", "--default-index", index.url, *args,
                  env=base_env(root.parent / "cache"), cwd=root)
    assert "Traceback" not in result.stderr
    return ok(result) if check else result


def read(root: Path) -> dict[str, object]:
    data = tomllib.loads((root / "pylock.toml").read_text())
    Pylock.from_dict(data)  # valid PEP 751
    return data


def packages(root: Path) -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for entry in read(root)["packages"]:  # type: ignore[attr-defined]
        found.setdefault(entry["name"], []).append(entry)
    return found


def selected(root: Path, python: str = "3.11.4", platform: str = "linux",
             **kwargs: object) -> dict[str, str]:
    """What `packaging.pylock` selects from the lock for ``platform`` and ``python``."""
    pylock = Pylock.from_dict(tomllib.loads((root / "pylock.toml").read_text()))
    environment = {**default_environment(), "sys_platform": platform,
                   "python_full_version": python, "python_version": python.rsplit(".", 1)[0]}
    return {
        package.name: str(package.version or "")
        for package, _ in pylock.select(environment=environment, **kwargs)  # type: ignore[arg-type]
    }


# -- per-group requires-python ---------------------------------------------------------------


@pytest.mark.parametrize("tool", ["kiln", "uv"])
def test_a_group_with_its_own_requires_python_is_locked_only_for_those_pythons(
    tmp_path: Path, index: IndexServer, tool: str
) -> None:
    root = project(tmp_path / "demo", f"""\
        [project]
        name = "demo"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["idna"]

        [dependency-groups]
        dev = ["pytest"]
        lint = ["ruff"]

        [tool.{tool}.dependency-groups]
        dev = {{ requires-python = ">=3.12" }}
        """)
    lock(root, index)
    found = packages(root)
    assert read(root)["requires-python"] == ">=3.10"  # the project's, not the group's
    marker = 'python_full_version >= "3.12" and "dev" in dependency_groups'
    assert found["pytest"][0]["marker"] == marker
    assert found["iniconfig"][0]["marker"] == marker  # what the group's packages need too
    assert found["ruff"][0]["marker"] == '"lint" in dependency_groups'
    assert "marker" not in found["idna"][0]
    assert "pytest" not in selected(root, "3.11.4", dependency_groups=["dev"])
    assert selected(root, "3.12.1", dependency_groups=["dev"])["pytest"] == "8.0.0"


# -- index pins ------------------------------------------------------------------------------


def test_members_pin_packages_to_their_own_or_the_roots_indexes(
    tmp_path: Path, index: IndexServer
) -> None:
    """Root sources apply to every member unless a member overrides them; a member's pin may
    name an index that only the member declares."""
    root = project(tmp_path / "ws", f"""\
        [project]
        name = "root"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["a", "b"]

        [tool.kiln.sources]
        a = {{ workspace = true }}
        b = {{ workspace = true }}
        iniconfig = {{ index = "internal" }}
        idna = {{ index = "internal" }}

        [tool.kiln.workspace]
        members = ["packages/*"]

        [[tool.kiln.index]]
        name = "internal"
        url = "{index.base}/internal"
        explicit = true
        """)
    project(root / "packages" / "a", """\
        [project]
        name = "a"
        version = "0.1.0"
        dependencies = ["iniconfig"]
        """)
    project(root / "packages" / "b", f"""\
        [project]
        name = "b"
        version = "0.1.0"
        dependencies = ["idna"]

        [[tool.kiln.index]]
        name = "member-index"
        url = "{index.base}/member"
        explicit = true

        [tool.kiln.sources]
        idna = {{ index = "member-index" }}
        """)
    lock(root, index)
    found = packages(root)
    # `a` takes the root's pin; `b` overrides it with its own index.
    assert [(e["version"], e["index"]) for e in found["iniconfig"]] == [
        ("9.0", f"{index.base}/internal")]
    assert [(e["version"], e["index"]) for e in found["idna"]] == [
        ("3.98", f"{index.base}/member")]
    assert found["idna"][0]["wheels"][0]["url"].endswith("/idna-3.98-py3-none-any.whl")  # type: ignore[index]


TORCH_INDEXES = """
[[tool.kiln.index]]
name = "pytorch-cpu"
url = "{base}/whl/cpu"
explicit = true

[[tool.kiln.index]]
name = "pytorch-cu124"
url = "{base}/whl/cu124"
explicit = true
"""


def test_sources_by_marker_fork_the_lock_one_index_per_platform(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", """\
        [project]
        name = "demo"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["torch>=2.5", "tqdm"]

        [tool.kiln.sources]
        torch = [
          { index = "pytorch-cpu", marker = "sys_platform != 'linux'" },
          { index = "pytorch-cu124", marker = "sys_platform == 'linux'" },
        ]
        """ + TORCH_INDEXES.format(base=index.base))
    lock(root, index)
    found = packages(root)
    assert [(e["version"], e["marker"], e["index"]) for e in found["torch"]] == [
        ("2.5.1+cpu", 'sys_platform != "linux"', f"{index.base}/whl/cpu"),
        ("2.5.1+cu124", 'sys_platform == "linux"', f"{index.base}/whl/cu124"),
    ]
    # Each entry lists the files of its own index.
    assert [e["wheels"][0]["url"].rsplit("/", 1)[1] for e in found["torch"]] == [  # type: ignore[index]
        "torch-2.5.1+cpu-py3-none-any.whl", "torch-2.5.1+cu124-py3-none-any.whl"]
    # What both builds need comes once, for every platform, from the default index.
    assert "marker" not in found["filelock"][0] and found["filelock"][0]["index"] == index.url
    assert selected(root, platform="linux")["torch"] == "2.5.1+cu124"
    assert selected(root, platform="darwin")["torch"] == "2.5.1+cpu"
    assert selected(root, platform="win32")["tqdm"] == "4.66.5"
    # `--no-sources` ignores the pins: one torch, from the default index.
    lock(root, index, "--no-sources")
    assert [(e["version"], e.get("marker"), e["index"]) for e in packages(root)["torch"]] == [
        ("2.5.1", None, index.url)]


def test_sources_by_extra_lock_one_build_per_conflicting_extra(
    tmp_path: Path, index: IndexServer
) -> None:
    text = """\
        [project]
        name = "project"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = []

        [project.optional-dependencies]
        cpu = ["torch>=2.4"]
        gpu = ["torch>=2.4"]

        [tool.kiln]
        conflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]

        [tool.kiln.sources]
        torch = [
          { index = "pytorch-cpu", extra = "cpu" },
          { index = "pytorch-cu124", extra = "gpu" },
        ]
        """ + TORCH_INDEXES.format(base=index.base)
    root = project(tmp_path / "project", text)
    lock(root, index)
    found = packages(root)
    assert [(e["version"], e["marker"], e["index"]) for e in found["torch"]] == [
        ("2.5.1+cpu", '"cpu" in extras', f"{index.base}/whl/cpu"),
        ("2.5.1+cu124", '"gpu" in extras', f"{index.base}/whl/cu124"),
    ]
    assert found["filelock"][0]["marker"] == '"cpu" in extras or "gpu" in extras'
    assert selected(root, extras=["cpu"])["torch"] == "2.5.1+cpu"
    assert selected(root, extras=["gpu"])["torch"] == "2.5.1+cu124"
    assert "torch" not in selected(root)
    # Without the conflict the two pins overlap (both extras at once): a clear error.
    project(root, text.replace('conflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]', ""))
    failed = lock(root, index, check=False)
    assert failed.returncode == 1
    assert ("error: `torch` is pinned to more than one index (`pytorch-cpu`, `pytorch-cu124`) "
            "where `\"cpu\" in extras and \"gpu\" in extras`") in failed.stderr
    assert "conflicts" in failed.stderr


# -- required-environments -------------------------------------------------------------------


def test_required_environments_need_a_wheel_or_an_sdist_of_every_version(
    tmp_path: Path, index: IndexServer
) -> None:
    text = """\
        [project]
        name = "demo"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["fastlib", "tqdm"]

        [tool.kiln]
        required-environments = ["sys_platform == 'darwin' and platform_machine == 'arm64'"]
        """
    root = project(tmp_path / "demo", text)
    lock(root, index)
    # fastlib 2.0 has only a Linux wheel: the Mac arm64 machines get 1.0, the others 2.0.
    found = packages(root)
    assert [(e["version"], e["marker"]) for e in found["fastlib"]] == [
        ("1.0", 'platform_machine == "arm64" and sys_platform == "darwin"'),
        ("2.0", 'platform_machine != "arm64" or sys_platform != "darwin"'),
    ]
    assert "marker" not in found["tqdm"][0]
    # ruff 0.5.0 has Linux and Windows wheels only; 0.4.0 has a source distribution.
    project(root, text.replace('"tqdm"', '"ruff"'))
    lock(root, index)
    assert [(e["version"], e["marker"]) for e in packages(root)["ruff"]] == [
        ("0.4.0", 'platform_machine == "arm64" and sys_platform == "darwin"'),
        ("0.5.0", 'platform_machine != "arm64" or sys_platform != "darwin"'),
    ]
    # No version of ruff that serves the environment: the lock fails, naming each.
    project(root, text.replace('"tqdm"', '"ruff>=0.5"'))
    before = (root / "pylock.toml").read_bytes()
    failed = lock(root, index, check=False)
    assert failed.returncode == 1
    assert ("Because ruff==0.5.0 has neither a wheel for the required environment "
            '`sys_platform == "darwin" and platform_machine == "arm64"` nor a source '
            "distribution and you require ruff>=0.5") in failed.stderr
    assert (root / "pylock.toml").read_bytes() == before
    # Required environments that every version serves change nothing.
    project(root, text.replace('"tqdm"', '"ruff>=0.5"').replace(
        "sys_platform == 'darwin' and platform_machine == 'arm64'",
        "sys_platform == 'linux'\", \"sys_platform == 'win32'"))
    lock(root, index)
    assert [(e["version"], e.get("marker")) for e in packages(root)["ruff"]] == [
        ("0.5.0", None)]


@pytest.mark.parametrize(("platform", "environment", "served"), [
    ("macosx_11_0_universal2", "sys_platform == 'darwin' and platform_machine == 'arm64'", True),
    ("macosx_11_0_x86_64", "sys_platform == 'darwin' and platform_machine == 'arm64'", False),
    ("manylinux2014_aarch64", "sys_platform == 'linux' and platform_machine == 'aarch64'", True),
    ("musllinux_1_2_x86_64", "sys_platform == 'linux' and platform_machine == 'aarch64'", False),
    ("win32", "sys_platform == 'win32' and platform_machine == 'ARM64'", True),
    ("win_amd64", "platform_system == 'Linux'", False),
    ("some_future_platform", "sys_platform == 'emscripten'", True),  # unknown: never refused
])
def test_which_required_environments_a_wheel_platform_serves(
    platform: str, environment: str, served: bool
) -> None:
    from packaging.markers import Marker
    from packaging.tags import Tag

    from kiln.core.markers import marker_set
    from kiln.core.resolver.platforms import serves
    from kiln.core.types import DistFile

    wheel = DistFile("x", Version("1"), f"x-1-py3-none-{platform}.whl", "https://x.invalid/x",
                     tags=frozenset({Tag("py3", "none", platform)}))
    assert serves([wheel], marker_set(Marker(environment))) is served


# -- git and url sources -----------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True, env=env).stdout.strip()


def commit_project(repo: Path, version: str) -> str:
    (repo / "src" / "gitpkg").mkdir(parents=True, exist_ok=True)
    (repo / "src" / "gitpkg" / "__init__.py").write_text(f"VERSION = {version!r}\n")
    (repo / "pyproject.toml").write_text(
        f'[project]\nname = "gitpkg"\nversion = "{version}"\ndependencies = ["tqdm"]\n{BUILD}')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"version {version}")
    return git(repo, "rev-parse", "HEAD")


def test_git_and_url_sources_are_vcs_and_archive_entries(
    tmp_path: Path, index: IndexServer
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit_project(repo, "1.0")
    wheel = next(f.path for f in index.files if f.path.name.startswith("archpkg-"))
    archive_url = f"{index.base}/files/{wheel.name}"
    text = f"""\
        [project]
        name = "demo"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["gitpkg", "archpkg"]

        [tool.kiln.sources]
        gitpkg = {{ git = "{repo.as_uri()}", branch = "main" }}
        archpkg = {{ url = "{archive_url}" }}
        """
    root = project(tmp_path / "demo", text)
    lock(root, index)
    found = packages(root)
    assert found["gitpkg"] == [{"name": "gitpkg", "version": "1.0", "vcs": {
        "type": "git", "url": repo.as_uri(), "requested-revision": "main", "commit-id": first}}]
    assert found["archpkg"] == [{"name": "archpkg", "version": "1.0", "archive": {
        "url": archive_url, "size": wheel.stat().st_size,
        "hashes": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}}}]
    # Their dependencies come from the index.
    assert found["tqdm"][0]["version"] == "4.66.5" and found["idna"][0]["version"] == "3.7"
    # A new commit on the branch: a relock for another reason keeps the locked commit...
    second = commit_project(repo, "2.0")
    project(root, text.replace('"archpkg"]', '"archpkg", "iniconfig"]'))
    lock(root, index)
    assert packages(root)["gitpkg"][0]["vcs"]["commit-id"] == first  # type: ignore[index]
    assert "iniconfig" in packages(root)
    # ... until the package is upgraded.
    result = lock(root, index, "-P", "gitpkg")
    entry = packages(root)["gitpkg"][0]
    assert (entry["version"], entry["vcs"]["commit-id"]) == ("2.0", second)  # type: ignore[index]
    assert "gitpkg" in result.stderr


# -- the workspace layout of uv's documentation ----------------------------------------------


def test_the_albatross_workspace_locks_its_two_members(
    tmp_path: Path, index: IndexServer
) -> None:
    """albatross (virtual: no build system) with packages/bird-feeder; packages/seeds matches
    `members` but is excluded."""
    root = project(tmp_path / "albatross", """\
        [project]
        name = "albatross"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["bird-feeder", "tqdm>=4,<5"]

        [tool.uv.sources]
        bird-feeder = { workspace = true }

        [tool.uv.workspace]
        members = ["packages/*"]
        exclude = ["packages/seeds"]
        """)
    (root / "README.md").write_text("albatross\n")
    (root / "src" / "albatross").mkdir(parents=True)
    (root / "src" / "albatross" / "main.py").write_text("print('hi')\n")
    uv_build = ('\n[build-system]\nrequires = ["uv_build>=0.8.20,<0.9.0"]\n'
                'build-backend = "uv_build"\n')
    for name, module, dependencies in (("bird-feeder", "bird_feeder", '["iniconfig"]'),
                                       ("seeds", "seeds", '["idna"]')):
        member = project(root / "packages" / name, f"""\
            [project]
            name = "{name}"
            version = "0.1.0"
            requires-python = ">=3.12"
            dependencies = {dependencies}
            """ + uv_build)
        (member / "src" / module).mkdir(parents=True)
        (member / "src" / module / "__init__.py").write_text("")
    lock(root, index)
    data = read(root)
    assert data["requires-python"] == ">=3.12"
    found = packages(root)
    # albatross is virtual (not listed), bird-feeder is installed editable, seeds is not a
    # member: neither it nor its dependency is locked.
    assert found == {
        "bird-feeder": [{"name": "bird-feeder",
                         "directory": {"path": "packages/bird-feeder", "editable": True}}],
        "iniconfig": found["iniconfig"],
        "tqdm": found["tqdm"],
    }
    assert found["iniconfig"][0]["version"] == "2.0.0" and found["tqdm"][0]["version"] == "4.66.5"
    projects = data["tool"]["kiln"]["projects"]  # type: ignore[index]
    assert [(p["path"], p["name"], p["package"]) for p in projects] == [
        (".", "albatross", False), ("packages/bird-feeder", "bird-feeder", True)]
    # The same lock from inside a member; changing the excluded project changes nothing.
    lock(root / "packages" / "bird-feeder", index, "--check")
    (root / "packages" / "seeds" / "pyproject.toml").write_text(
        (root / "packages" / "seeds" / "pyproject.toml").read_text().replace('"idna"', '"ruff"'))
    lock(root, index, "--check")
