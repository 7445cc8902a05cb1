"""The index client's transport: the proxy the environment names (and NO_PROXY), redirects
(credentials stay with their origin) and retries."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import pytest
from indexserver import IndexServer, build_wheel
from packaging.utils import canonicalize_name

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.core.index.proxies import proxy_for
from kiln.core.index.source import IndexPackageSource


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


ServerT = TypeVar("ServerT", bound="Loopback")


class Loopback:
    """An HTTP server on 127.0.0.1 with ``handler``, serving inside a ``with`` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self: ServerT) -> ServerT:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class ForwardingProxy(Loopback):
    """A plain HTTP proxy: forwards absolute-URI GETs and logs them."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.authorization: list[str | None] = []
        proxy = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                proxy.seen.append(self.path)
                proxy.authorization.append(self.headers.get("Proxy-Authorization"))
                target = urlsplit(self.path)
                upstream = http.client.HTTPConnection(target.hostname or "", target.port)
                path = target.path + (f"?{target.query}" if target.query else "")
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("proxy-authorization", "proxy-connection")}
                upstream.request("GET", path, headers=headers)
                answer = upstream.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                upstream.close()

        super().__init__(Handler)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    server = IndexServer()
    server.add(build_wheel(tmp_path_factory.mktemp("dists"), "demo", "1.0"))
    with server:
        yield server


def _files(tmp_path: Path, index: IndexServer, environ: dict[str, str]) -> list[str]:
    locations = resolve_locations(IndexOptions(default_index=index.url), None, environ={})
    with IndexPackageSource(
        locations, ClientOptions(cache_dir=tmp_path / "cache", retries=0), environ=environ
    ) as source:
        return [f.filename for f in source.files(canonicalize_name("demo"))]


def test_index_pages_are_fetched_through_the_proxy_with_its_credentials(
    tmp_path: Path, index: IndexServer
) -> None:
    with ForwardingProxy() as proxy:
        proxy_url = proxy.url.replace("http://", "http://agent:s3cret@")
        files = _files(tmp_path, index, {"HTTP_PROXY": proxy_url})
    assert files == ["demo-1.0-py3-none-any.whl"]
    assert proxy.seen == [f"{index.url}/demo/"]
    assert proxy.authorization == ["Basic YWdlbnQ6czNjcmV0"]  # agent:s3cret


def test_no_proxy_hosts_are_reached_directly(tmp_path: Path, index: IndexServer) -> None:
    with ForwardingProxy() as proxy:
        files = _files(tmp_path, index, {"http_proxy": proxy.url, "no_proxy": "127.0.0.1"})
    assert files == ["demo-1.0-py3-none-any.whl"]
    assert proxy.seen == []


@pytest.mark.parametrize(
    ("url", "environ", "expected"),
    [
        ("https://pypi.org/simple/", {"HTTPS_PROXY": "http://p:1"}, "http://p:1"),
        ("https://pypi.org/simple/", {"HTTP_PROXY": "http://p:1"}, None),
        ("http://pypi.org/simple/", {"ALL_PROXY": "p:1"}, "http://p:1"),
        ("https://pypi.org/", {"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:1"},
         "http://low:1"),
        ("https://files.pypi.org/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "pypi.org"}, None),
        ("https://notpypi.org/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "pypi.org"},
         "http://p:1"),
        ("http://10.1.2.3/", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, None),
        ("http://host:8080/", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "host:9090"}, "http://p:1"),
        ("http://host:8080/", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "host:8080"}, None),
        ("http://host/", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        ("file:///tmp/wheels", {"ALL_PROXY": "http://p:1"}, None),
    ],
)
def test_proxy_choice_follows_the_environment_variables(
    url: str, environ: dict[str, str], expected: str | None
) -> None:
    assert proxy_for(url, environ) == expected


class Redirector(Loopback):
    """Answers every GET with a redirect to ``target`` + path, after ``failures`` answers
    of 503."""

    def __init__(self, target: str, failures: int = 0) -> None:
        self.authorization: list[str | None] = []
        self.failures = failures
        outer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                outer.authorization.append(self.headers.get("Authorization"))
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(301)
                self.send_header("Location", target + self.path.removeprefix("/old"))
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(Handler)


def test_redirects_are_followed_and_credentials_stay_with_their_origin(
    tmp_path: Path, index: IndexServer
) -> None:
    with Redirector(index.base) as old:
        url = old.url.replace("http://", "http://reader:pw@") + "/old/simple"
        locations = resolve_locations(IndexOptions(default_index=url), None, environ={})
        with IndexPackageSource(
            locations, ClientOptions(cache_dir=tmp_path / "cache", retries=0), environ={}
        ) as source:
            files = [f.filename for f in source.files(canonicalize_name("demo"))]
    assert files == ["demo-1.0-py3-none-any.whl"]
    assert old.authorization == ["Basic cmVhZGVyOnB3"]  # reader:pw, sent where it belongs
    # The index the redirect led to is another origin (another port): no credentials there.
    sent = [{k.lower(): v for k, v in r.headers.items()} for r in index.requests("/simple/demo/")]
    assert "authorization" not in sent[-1]


def test_a_503_answer_is_retried(tmp_path: Path, index: IndexServer) -> None:
    with Redirector(index.base, failures=1) as flaky:
        locations = resolve_locations(
            IndexOptions(default_index=flaky.url + "/old/simple"), None, environ={})
        with IndexPackageSource(
            locations, ClientOptions(cache_dir=tmp_path / "cache", retries=2), environ={}
        ) as source:
            files = [f.filename for f in source.files(canonicalize_name("demo"))]
    assert files == ["demo-1.0-py3-none-any.whl"]
    assert len(flaky.authorization) == 2  # one 503, then the redirect
