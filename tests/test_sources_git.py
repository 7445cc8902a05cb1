"""Fetching git sources into the cache, with real repositories made by the test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kiln.core.sources.git import fetch, repository_key
from kiln.core.sources.model import GitSource
from kiln.errors import KilnError

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return result.stdout.strip()


def commit_file(repo: Path, name: str, text: str) -> str:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"write {name}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A repository: main (3 commits, tag v1 on the first), branch `feature`, a subdirectory."""
    repo = tmp_path_factory.mktemp("origin") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit_file(repo, "version.txt", "1\n")
    git(repo, "tag", "-a", "v1", "-m", "release 1")
    second = commit_file(repo, "sub/pkg/pyproject.toml", '[project]\nname = "pkg"\n')
    git(repo, "checkout", "-q", "-b", "feature")
    feature = commit_file(repo, "version.txt", "feature\n")
    git(repo, "checkout", "-q", "main")
    third = commit_file(repo, "version.txt", "3\n")
    return {
        "path": str(repo),
        "url": repo.as_uri(),
        "first": first,
        "second": second,
        "feature": feature,
        "third": third,
    }


def test_a_tag_resolves_to_its_commit_and_is_checked_out(origin: dict[str, str], tmp_path: Path):
    checkout = fetch(GitSource(url=origin["url"], tag="v1"), cache_dir=tmp_path)
    assert checkout.commit == origin["first"]
    assert (checkout.root / "version.txt").read_text() == "1\n"
    assert checkout.root == tmp_path / "checkouts" / origin["first"]
    assert not (checkout.root / ".git").exists()


def test_a_branch_resolves_to_its_tip(origin: dict[str, str], tmp_path: Path):
    checkout = fetch(GitSource(url=origin["url"], branch="feature"), cache_dir=tmp_path)
    assert checkout.commit == origin["feature"]
    assert (checkout.root / "version.txt").read_text() == "feature\n"


def test_no_reference_means_the_default_branch(origin: dict[str, str], tmp_path: Path):
    checkout = fetch(GitSource(url=origin["url"]), cache_dir=tmp_path)
    assert checkout.commit == origin["third"]


def test_a_full_commit_hash_is_checked_out(origin: dict[str, str], tmp_path: Path):
    checkout = fetch(GitSource(url=origin["url"], rev=origin["second"]), cache_dir=tmp_path)
    assert checkout.commit == origin["second"]
    assert (checkout.root / "version.txt").read_text() == "1\n"


def test_an_abbreviated_hash_and_a_ref_name_work_as_rev(origin: dict[str, str], tmp_path: Path):
    short = fetch(GitSource(url=origin["url"], rev=origin["second"][:10]), cache_dir=tmp_path)
    assert short.commit == origin["second"]
    named = fetch(GitSource(url=origin["url"], rev="feature"), cache_dir=tmp_path)
    assert named.commit == origin["feature"]


def test_subdirectory_points_into_the_checkout(origin: dict[str, str], tmp_path: Path):
    checkout = fetch(
        GitSource(url=origin["url"], rev=origin["third"], subdirectory="sub/pkg"),
        cache_dir=tmp_path,
    )
    assert checkout.project == checkout.root / "sub" / "pkg"
    assert (checkout.project / "pyproject.toml").is_file()


def test_a_missing_subdirectory_is_an_error(origin: dict[str, str], tmp_path: Path):
    with pytest.raises(KilnError) as caught:
        fetch(GitSource(url=origin["url"], tag="v1", subdirectory="sub/pkg"), cache_dir=tmp_path)
    assert caught.value.message == (
        f'`subdirectory = "sub/pkg"` does not exist in `{origin["url"]}` at commit '
        f"`{origin['first']}`"
    )


def test_a_second_fetch_reuses_the_mirror_and_the_checkout(
    origin: dict[str, str], tmp_path: Path
):
    copy = tmp_path / "copy"
    shutil.copytree(origin["path"], copy)
    source = GitSource(url=copy.as_uri(), tag="v1")
    first = fetch(source, cache_dir=tmp_path / "cache")
    mirrors = list((tmp_path / "cache" / "db").iterdir())
    assert [m.name for m in mirrors] == [repository_key(copy.as_uri())]
    marker = first.root / "kept.txt"
    marker.write_text("same directory")
    shutil.rmtree(copy)  # the repository is gone: only the cache can answer now
    second = fetch(source, cache_dir=tmp_path / "cache")
    assert second.commit == first.commit
    assert marker.read_text() == "same directory"
    same_repository = GitSource(url=copy.as_uri() + ".git/", tag="v1")
    offline = fetch(same_repository, cache_dir=tmp_path / "cache", offline=True)
    assert offline.root == first.root


def test_offline_without_a_mirror_is_an_error(origin: dict[str, str], tmp_path: Path):
    with pytest.raises(KilnError) as caught:
        fetch(GitSource(url=origin["url"], tag="v1"), cache_dir=tmp_path, offline=True)
    assert caught.value.message == f"git repository `{origin['url']}` is not in the cache"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"tag": "v9"}, "tag `v9` not found in git repository"),
        ({"branch": "nope"}, "branch `nope` not found in git repository"),
        ({"rev": "deadbeef"}, "rev `deadbeef` not found in git repository"),
        ({"rev": "d" * 40}, f"rev `{'d' * 40}` not found in git repository"),
    ],
)
def test_an_unknown_reference_is_an_error(
    origin: dict[str, str], tmp_path: Path, source: dict[str, str], message: str
):
    with pytest.raises(KilnError) as caught:
        fetch(GitSource(url=origin["url"], **source), cache_dir=tmp_path)
    assert caught.value.message == f"{message} `{origin['url']}`"


def test_an_unreachable_repository_is_an_error_without_credentials(tmp_path: Path):
    url = "file://user:s3cret@localhost" + str(tmp_path / "missing")
    with pytest.raises(KilnError) as caught:
        fetch(GitSource(url=url, tag="v1"), cache_dir=tmp_path)
    text = f"{caught.value.message}\n{caught.value.hint}"
    assert caught.value.message.startswith("cannot fetch git repository `file://user:****@")
    assert "s3cret" not in text


def test_the_default_cache_is_under_kiln_cache_dir(
    origin: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path))
    checkout = fetch(GitSource(url=origin["url"], tag="v1"))
    assert checkout.root == tmp_path / "git-v1" / "checkouts" / origin["first"]
