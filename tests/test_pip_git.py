"""`kiln pip install "pkg @ git+file://..."`: tags, commits, branches and subdirectories.

The repositories are made by the test and hold small kiln_build projects; everything runs
through the real CLI with ``--no-index`` (a git requirement needs no index).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pip_helpers import base_env, kiln, make_venv, ok, run_python

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
BUILD_SYSTEM = '[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n'


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
        env={**os.environ, **GIT_ENV},
    )
    return result.stdout.strip()


def write_project(root: Path, name: str, version: str) -> None:
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True, exist_ok=True)
    (root / "src" / module / "__init__.py").write_text(f"VERSION = {version!r}\n")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\n\n{BUILD_SYSTEM}'
    )


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """main: v1.0 (tagged) then 2.0; branch `feature` at 1.5; `sub/` holds a second project."""
    repo = tmp_path_factory.mktemp("git") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_project(repo, "gitpkg", "1.0")
    write_project(repo / "sub", "subpkg", "0.3")
    tagged = commit_all(repo, "release 1.0")
    git(repo, "tag", "-a", "v1.0", "-m", "version 1.0")
    git(repo, "checkout", "-q", "-b", "feature")
    write_project(repo, "gitpkg", "1.5")
    feature = commit_all(repo, "feature work")
    git(repo, "checkout", "-q", "main")
    write_project(repo, "gitpkg", "2.0")
    head = commit_all(repo, "release 2.0")
    return {"path": str(repo), "url": f"git+{repo.as_uri()}", "plain_url": repo.as_uri(),
            "tagged": tagged, "feature": feature, "head": head}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def install(
    venv: Path, env: dict[str, str], *requirements: str
) -> subprocess.CompletedProcess[str]:
    return kiln("pip", "install", *requirements, "--no-index", "--python", venv, env=env)


def direct_url(venv: Path, dist_info: str) -> dict[str, object]:
    site = next((venv / "lib").glob("python*/site-packages"))
    data: dict[str, object] = json.loads((site / dist_info / "direct_url.json").read_text())
    return data


def test_install_from_a_tag_records_the_commit_in_direct_url(
    tmp_path: Path, env: dict[str, str], origin: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(install(venv, env, f"gitpkg @ {origin['url']}@v1.0"))
    assert " + gitpkg==1.0" in result.stderr
    assert run_python(venv, "import gitpkg; print(gitpkg.VERSION)") == "1.0"
    assert direct_url(venv, "gitpkg-1.0.dist-info") == {
        "url": origin["plain_url"],
        "vcs_info": {"vcs": "git", "commit_id": origin["tagged"], "requested_revision": "v1.0"},
    }
    freeze = ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout.splitlines()
    assert freeze == [f"gitpkg @ git+{origin['plain_url']}@{origin['tagged']}"]


def test_install_from_a_full_commit_hash(
    tmp_path: Path, env: dict[str, str], origin: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(install(venv, env, f"gitpkg @ {origin['url']}@{origin['feature']}"))
    assert run_python(venv, "import gitpkg; print(gitpkg.VERSION)") == "1.5"
    vcs = direct_url(venv, "gitpkg-1.5.dist-info")["vcs_info"]
    assert vcs == {"vcs": "git", "commit_id": origin["feature"],
                   "requested_revision": origin["feature"]}


def test_install_from_a_branch_takes_its_tip(
    tmp_path: Path, env: dict[str, str], origin: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(install(venv, env, f"gitpkg @ {origin['url']}@feature"))
    assert " + gitpkg==1.5" in result.stderr
    vcs = direct_url(venv, "gitpkg-1.5.dist-info")["vcs_info"]
    assert vcs == {"vcs": "git", "commit_id": origin["feature"], "requested_revision": "feature"}


def test_install_without_a_revision_takes_the_default_branch(
    tmp_path: Path, env: dict[str, str], origin: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(install(venv, env, f"gitpkg @ {origin['url']}"))
    vcs = direct_url(venv, "gitpkg-2.0.dist-info")["vcs_info"]
    assert vcs == {"vcs": "git", "commit_id": origin["head"]}


def test_install_a_project_in_a_subdirectory(
    tmp_path: Path, env: dict[str, str], origin: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(install(venv, env, f"subpkg @ {origin['url']}@v1.0#subdirectory=sub"))
    assert " + subpkg==0.3" in result.stderr
    assert run_python(venv, "import subpkg; print(subpkg.VERSION)") == "0.3"
    assert direct_url(venv, "subpkg-0.3.dist-info") == {
        "url": origin["plain_url"],
        "vcs_info": {"vcs": "git", "commit_id": origin["tagged"], "requested_revision": "v1.0"},
        "subdirectory": "sub",
    }


def test_a_second_install_of_the_same_commit_reuses_the_cached_checkout(
    tmp_path: Path, env: dict[str, str], origin: dict[str, str]
) -> None:
    repo = tmp_path / "movable"
    shutil.copytree(origin["path"], repo)
    requirement = f"gitpkg @ git+{repo.as_uri()}@{origin['tagged']}"
    ok(install(make_venv(tmp_path / "first", env), env, requirement))
    checkouts = Path(env["KILN_CACHE_DIR"]) / "git-v1" / "checkouts"
    assert [p.name for p in checkouts.iterdir()] == [origin["tagged"]]
    marker = checkouts / origin["tagged"] / "kept-from-first-install"
    marker.write_text("")
    # The repository is gone: the second install can only succeed from the cache.
    shutil.rmtree(repo)
    second = make_venv(tmp_path / "second", env)
    result = ok(install(second, env, requirement))
    assert " + gitpkg==1.0" in result.stderr
    assert marker.exists()
    assert [p.name for p in checkouts.iterdir()] == [origin["tagged"]]
    assert direct_url(second, "gitpkg-1.0.dist-info")["vcs_info"] == {
        "vcs": "git", "commit_id": origin["tagged"], "requested_revision": origin["tagged"],
    }


def test_an_unknown_reference_is_a_clear_error(
    tmp_path: Path, env: dict[str, str], origin: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = install(venv, env, f"gitpkg @ {origin['url']}@no-such-ref")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[1].startswith("error: ")  # after `Using Python ...`
    assert "`no-such-ref` not found in git repository" in result.stderr
    assert origin["plain_url"] in result.stderr
    assert "hint: " in result.stderr
    site = next((venv / "lib").glob("python*/site-packages"))
    assert not list(site.glob("gitpkg*"))
