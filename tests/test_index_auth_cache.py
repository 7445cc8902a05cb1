"""Credentials for protected indexes, the HTTP cache, offline mode and parallel downloads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from packaging.utils import canonicalize_name

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.core.index.source import IndexPackageSource
from kiln.core.types import DistFile
from kiln.errors import KilnError
from kiln.project.indexes import index_config

DEMO = canonicalize_name("demo")
PASSWORD = "s3cret-pa55"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("w"), "demo", "1.0", requires_dist=["dep"])


def _named_source(
    tmp_path: Path, url: str, environ: dict[str, str], **options: object
) -> IndexPackageSource:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        f'[[tool.kiln.index]]\nname = "private-repo"\nurl = "{url}"\ndefault = true\n',
        encoding="utf-8",
    )
    locations = resolve_locations(
        IndexOptions(), index_config(pyproject), environ=environ, cwd=tmp_path)
    return IndexPackageSource(
        locations, ClientOptions(cache_dir=tmp_path / "cache", retries=0, **options),  # type: ignore[arg-type]
        environ=environ,
    )


def test_credentials_from_env_vars(tmp_path: Path, wheel: Path) -> None:
    env = {"KILN_INDEX_PRIVATE_REPO_USERNAME": "alice",
           "KILN_INDEX_PRIVATE_REPO_PASSWORD": PASSWORD}
    server = IndexServer(auth=("alice", PASSWORD))
    server.add(wheel)
    with server, _named_source(tmp_path, server.url, env) as source:
        (file,) = source.files(DEMO)
        assert source.download(file).read_bytes() == wheel.read_bytes()
        assert source.metadata(file).name == "demo"


def test_credentials_from_url_userinfo(tmp_path: Path, wheel: Path) -> None:
    server = IndexServer(auth=("alice", PASSWORD))
    server.add(wheel)
    with server:
        url = server.url.replace("http://", f"http://alice:{PASSWORD}@")
        with _named_source(tmp_path, url, {}) as source:
            (file,) = source.files(DEMO)
            assert source.download(file).is_file()


def test_missing_credentials_find_nothing(tmp_path: Path, wheel: Path) -> None:
    server = IndexServer(auth=("alice", PASSWORD))
    server.add(wheel)
    with server, _named_source(tmp_path, server.url, {}) as source:
        assert source.files(DEMO) == []


def test_credentials_from_netrc(tmp_path: Path, wheel: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login alice password {PASSWORD}\n", encoding="utf-8")
    netrc.chmod(0o600)
    server = IndexServer(auth=("alice", PASSWORD))
    server.add(wheel)
    with server, _named_source(tmp_path, server.url, {"NETRC": str(netrc)}) as source:
        assert len(source.files(DEMO)) == 1


def test_always_without_credentials_is_a_clear_error(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[[tool.kiln.index]]\nname = "corp"\nurl = "http://127.0.0.1:9/simple"\n'
        'authenticate = "always"\n', encoding="utf-8")
    locations = resolve_locations(IndexOptions(), index_config(pyproject), environ={},
                                  cwd=tmp_path)
    with IndexPackageSource(locations, ClientOptions(cache_dir=tmp_path / "c"),
                            environ={}) as source, pytest.raises(KilnError) as info:
        source.files(DEMO)
    assert "missing credentials" in info.value.message
    assert info.value.hint is not None and "KILN_INDEX_CORP_PASSWORD" in info.value.hint


def test_password_never_appears_in_errors(tmp_path: Path, wheel: Path) -> None:
    server = IndexServer(auth=("alice", PASSWORD))
    server.add(wheel)
    server.status_override["/simple/demo/"] = 500
    with server:
        url = server.url.replace("http://", f"http://alice:{PASSWORD}@")
        with _named_source(tmp_path, url, {}) as source, pytest.raises(KilnError) as info:
            source.files(DEMO)
    text = f"{info.value.message} {info.value.hint}"
    assert PASSWORD not in text
    assert "alice:****@" in text
    unreachable = "http://alice:" + PASSWORD + "@127.0.0.1:9/simple"
    with _named_source(tmp_path, unreachable, {}) as source, pytest.raises(KilnError) as info:
        source.files(DEMO)
    assert PASSWORD not in f"{info.value.message} {info.value.hint} {info.value!r}"


def test_second_fetch_is_a_conditional_request_and_offline_uses_the_cache(
    tmp_path: Path, wheel: Path
) -> None:
    server = IndexServer()
    server.add(wheel)
    with server:
        with _named_source(tmp_path, server.url, {}) as source:
            (file,) = source.files(DEMO)
            source.download(file)
        with _named_source(tmp_path, server.url, {}) as source:
            assert len(source.files(DEMO)) == 1
        first, second = server.requests("/simple/demo/")
        assert first.status == 200 and "If-None-Match" not in first.headers
        assert second.status == 304 and second.headers.get("If-None-Match")
    # The server is gone: offline mode answers from the cache alone.
    with _named_source(tmp_path, server.url, {}, offline=True) as source:
        (file,) = source.files(DEMO)
        assert source.download(file).read_bytes() == wheel.read_bytes()
        assert source.metadata(file).name == "demo"
        with pytest.raises(KilnError, match="offline mode is on"):
            source.files(canonicalize_name("never-fetched"))


def test_fresh_pages_are_not_requested_again(tmp_path: Path, wheel: Path) -> None:
    server = IndexServer(cache_control="max-age=600")
    server.add(wheel)
    with server:
        for _ in range(2):
            with _named_source(tmp_path, server.url, {}) as source:
                assert len(source.files(DEMO)) == 1
        assert len(server.requests("/simple/demo/")) == 1
        with _named_source(tmp_path, server.url, {}, refresh=True) as source:
            source.files(DEMO)
        assert server.requests("/simple/demo/")[-1].status == 304


def test_page_without_validators_is_rewritten_only_when_it_changes(
    tmp_path: Path, wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiln.core.index.cache import HttpCache

    server = IndexServer(validators=False)
    server.add(wheel)
    with server:
        with _named_source(tmp_path, server.url, {}) as source:
            assert len(source.files(DEMO)) == 1
        (entry,) = (tmp_path / "cache" / "simple-v1").glob("*/*")
        written = entry.stat().st_mtime_ns

        def no_body(*args: object) -> None:
            raise AssertionError("the stored page was read although it is downloaded again")

        with monkeypatch.context() as patched:
            patched.setattr(HttpCache, "get", no_body)
            with _named_source(tmp_path, server.url, {}) as source:
                assert len(source.files(DEMO)) == 1
        assert entry.stat().st_mtime_ns == written  # same bytes: not written again
        server.add(build_wheel(tmp_path / "more", "demo", "2.0"))
        with _named_source(tmp_path, server.url, {}) as source:
            assert len(source.files(DEMO)) == 2
        assert entry.stat().st_mtime_ns != written
        requests = server.requests("/simple/demo/")
        assert len(requests) == 3
        assert all("If-None-Match" not in r.headers for r in requests)
    # What was stored last is what offline mode serves.
    with _named_source(tmp_path, server.url, {}, offline=True) as source:
        assert [str(f.version) for f in source.files(DEMO)] == ["1.0", "2.0"]


def test_no_cache_leaves_nothing_behind(tmp_path: Path, wheel: Path) -> None:
    server = IndexServer()
    server.add(wheel)
    with server, _named_source(tmp_path, server.url, {}, no_cache=True) as source:
        (file,) = source.files(DEMO)
        path = source.download(file)
        assert path.is_file()
    assert not path.exists()
    assert not (tmp_path / "cache").exists()


def test_concurrent_downloads_report_progress(tmp_path: Path) -> None:
    server = IndexServer()
    names = [f"pkg{n}" for n in range(8)]
    for name in names:
        server.add(build_wheel(tmp_path / "w", name, "1.0", padding=50_000))
    seen: list[tuple[str, int, int]] = []
    threads: set[int] = set()
    lock = threading.Lock()

    def progress(file: DistFile, done: int, total: int) -> None:
        with lock:
            seen.append((file.filename, done, total))
            threads.add(threading.get_ident())

    with server, _named_source(tmp_path, server.url, {}) as source:
        files = [source.files(canonicalize_name(n))[0] for n in names]
        paths = source.download_many(files, progress=progress)
    assert [p.name for p in paths] == [f.filename for f in files]
    assert all(p.read_bytes() == (tmp_path / "w" / p.name).read_bytes() for p in paths)
    assert sorted(done for _f, done, _t in seen) == list(range(1, 9))
    assert {total for _f, _d, total in seen} == {8}


def test_credentials_from_keyring(tmp_path: Path, wheel: Path) -> None:
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend
    from keyring.credentials import SimpleCredential

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.asked: list[str] = []
            self.entries: dict[str, tuple[str, str]] = {}

        def get_password(self, service: str, username: str) -> str | None:
            found = self.entries.get(service)
            return found[1] if found and found[0] == username else None

        def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
            self.asked.append(service)
            found = self.entries.get(service)
            return SimpleCredential(*found) if found else None

        def set_password(self, service: str, username: str, password: str) -> None:
            self.entries[service] = (username, password)

        def delete_password(self, service: str, username: str) -> None:
            self.entries.pop(service, None)

    server = IndexServer(auth=("alice", PASSWORD))
    server.add(wheel)
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        with server:
            memory.set_password(server.url.split("/")[2], "alice", PASSWORD)
            with _named_source(tmp_path, server.url, {}) as source:
                (file,) = source.files(DEMO)
                assert source.download(file).read_bytes() == wheel.read_bytes()
    finally:
        keyring.set_keyring(previous)
    assert memory.asked  # the password came from the keyring, not from anywhere else
