"""`kiln cache dir|clean|prune` over a real cache filled by `kiln pip install`."""

from __future__ import annotations

from pathlib import Path

from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok


def filled_cache(tmp_path: Path) -> dict[str, str]:
    env = base_env(tmp_path / "cache")
    server = IndexServer(cache_control="max-age=600")
    server.add(build_wheel(tmp_path / "w", "keepme", "1.0"))
    server.add(build_wheel(tmp_path / "w", "dropme", "1.0"))
    venv = make_venv(tmp_path / "venv", env)
    with server:
        ok(kiln("pip", "install", "keepme", "dropme", "--python", venv,
                "--default-index", server.url, env=env))
    return env


def cached_names(cache: Path) -> set[str]:
    return {p.name for p in (cache / "files-v1").rglob("*.whl")}


def test_cache_dir_prints_the_cache_root(tmp_path: Path) -> None:
    env = base_env(tmp_path / "cache")
    result = ok(kiln("cache", "dir", env=env))
    assert result.stdout == f"{tmp_path / 'cache'}\n"


def test_cache_clean_package_removes_only_its_entries(tmp_path: Path) -> None:
    env = filled_cache(tmp_path)
    cache = tmp_path / "cache"
    assert cached_names(cache) == {"keepme-1.0-py3-none-any.whl", "dropme-1.0-py3-none-any.whl"}
    assert {p.name for p in (cache / "pages-v1").iterdir()} == {"keepme", "dropme"}
    result = ok(kiln("cache", "clean", "dropme", env=env))
    assert "Removed " in result.stderr
    assert cached_names(cache) == {"keepme-1.0-py3-none-any.whl"}
    assert {p.name for p in (cache / "pages-v1").iterdir()} == {"keepme"}
    assert not any(
        p.name.startswith("dropme") for p in (cache / "wheels-v1").rglob("*.dist-info")
    )


def test_cache_clean_removes_everything(tmp_path: Path) -> None:
    env = filled_cache(tmp_path)
    cache = tmp_path / "cache"
    result = ok(kiln("cache", "clean", env=env))
    assert f"Clearing cache at: {cache}" in result.stderr
    assert [p.name for p in cache.iterdir()] == [".lock"]
    again = ok(kiln("cache", "clean", env=env))
    assert "No cache entries found" in again.stderr


def test_cache_prune_removes_leftovers_only(tmp_path: Path) -> None:
    env = filled_cache(tmp_path)
    cache = tmp_path / "cache"
    (cache / "files-v1" / ".download-abc").write_bytes(b"partial")
    (cache / "build-envs-v1" / "unfinished").mkdir(parents=True)
    before = cached_names(cache)
    # The metadata cache of earlier kiln_build versions: no kiln reads it any more.
    (cache / "build-backend").mkdir()
    (cache / "build-backend" / "0123abcd.json").write_text("{}")
    # Build requirements' url sources of earlier kiln versions: now in files-v1.
    (cache / "build-sources-v1" / "url" / "0123").mkdir(parents=True)
    (cache / "build-sources-v1" / "url" / "0123" / "x-1.0-py3-none-any.whl").write_bytes(b"x")
    result = ok(kiln("cache", "prune", env=env))
    assert "Removed 3 files" in result.stderr
    assert not (cache / "files-v1" / ".download-abc").exists()
    assert not (cache / "build-envs-v1" / "unfinished").exists()
    assert not (cache / "build-backend").exists()
    assert not (cache / "build-sources-v1").exists()
    assert cached_names(cache) == before


def test_cache_prune_ci_removes_wheels_and_keeps_pages_and_sdists(tmp_path: Path) -> None:
    env = filled_cache(tmp_path)
    cache = tmp_path / "cache"
    sdist = cache / "files-v1" / "ab" / "c0ffee"
    sdist.mkdir(parents=True)
    (sdist / "kept-1.0.tar.gz").write_bytes(b"sdist")
    snapshot = cache / "sync-snapshots-v1" / "ab" / "abcd.json"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text("{}")
    ok(kiln("cache", "prune", env=env))
    assert cached_names(cache)  # a plain prune keeps complete entries
    assert snapshot.is_file()
    ok(kiln("cache", "prune", "--ci", env=env))
    assert cached_names(cache) == set()
    assert not list((cache / "wheels-v1").iterdir())
    assert not (cache / "sync-snapshots-v1").exists()  # they link the removed unpacked wheels
    assert (sdist / "kept-1.0.tar.gz").read_bytes() == b"sdist"
    assert {p.name for p in (cache / "pages-v1").iterdir()} == {"keepme", "dropme"}
