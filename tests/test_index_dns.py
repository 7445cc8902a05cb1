"""Host names are looked up once per HTTP session, however many connections open at once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from packaging.utils import canonicalize_name

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.dns import HostCache
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.core.index.source import IndexPackageSource
from kiln.errors import KilnError

NAMES = [f"pkg{i}" for i in range(12)]


def _source(tmp_path: Path, url: str) -> IndexPackageSource:
    locations = resolve_locations(IndexOptions(default_index=url), None, environ={}, cwd=tmp_path)
    return IndexPackageSource(
        locations, ClientOptions(cache_dir=tmp_path / "cache", retries=0), environ={}
    )


def test_concurrent_page_fetches_look_the_host_up_once(tmp_path: Path) -> None:
    server = IndexServer()
    for name in NAMES:
        server.add(build_wheel(tmp_path / "dists", name, "1.0"))
    found: dict[str, list[str]] = {}
    with server, _source(tmp_path, f"http://localhost:{server.port}/simple") as source:
        def look(name: str) -> None:
            found[name] = [f.filename for f in source.files(canonicalize_name(name))]

        threads = [threading.Thread(target=look, args=(name,)) for name in NAMES]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert source.session.hosts.lookups == 1
    # `localhost` may also resolve to ::1, where nothing listens: the next address is tried.
    assert found == {name: [f"{name}-1.0-py3-none-any.whl"] for name in NAMES}
    assert len(server.requests("/simple/")) == len(NAMES)


def test_failed_lookup_is_a_clear_error_and_is_not_remembered(tmp_path: Path) -> None:
    with _source(tmp_path, "http://kiln-test.invalid/simple") as source:
        for _attempt in range(2):
            with pytest.raises(KilnError, match=r"kiln-test\.invalid"):
                source.files(canonicalize_name("demo"))
        assert source.session.hosts.lookups == 2


def test_host_cache_answers_repeat_questions_from_memory() -> None:
    hosts = HostCache()
    first = hosts.addresses("127.0.0.1", 80)
    assert hosts.addresses("127.0.0.1", 80) == first == [(first[0][0], "127.0.0.1")]
    assert hosts.lookups == 1
