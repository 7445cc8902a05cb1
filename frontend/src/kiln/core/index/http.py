"""The HTTP session of the index client: pooling, retries, credentials and page caching."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from kiln import __version__
from kiln.core.index.cache import CachedResponse, HttpCache
from kiln.core.index.config import env_key
from kiln.core.index.credentials import Credentials, CredentialStore
from kiln.core.index.dns import HostCache
from kiln.core.index.dns import install as install_host_cache
from kiln.core.index.redaction import redact, strip_credentials
from kiln.errors import KilnError

if TYPE_CHECKING:
    import httpx

RETRY_STATUSES = frozenset({500, 502, 503, 504})


def load_httpx() -> ModuleType:
    """``import httpx``, without httpx's command-line client.

    Importing the httpx package also imports ``httpx._main``, which pulls in rich, click
    and pygments when they happen to be installed: that doubles the import time, for a
    command-line client kiln never runs. The module is hidden only while httpx imports.
    """
    found = sys.modules.get("httpx")
    if found is not None:
        return found
    hidden = "httpx._main" not in sys.modules
    if hidden:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        if hidden and sys.modules.get("httpx._main", 0) is None:
            del sys.modules["httpx._main"]
    return httpx


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 30.0
    retries: int = 3
    #: Seconds before the first retry; doubled each time.
    backoff: float = 0.2
    offline: bool = False
    #: Revalidate every cached page with the server.
    refresh: bool = False


class OfflineError(KilnError):
    """A resource is missing from the cache while offline."""


class HttpSession:
    """One pooled ``httpx.Client`` shared by every thread of a run."""

    def __init__(
        self,
        credentials: CredentialStore,
        cache: HttpCache | None,
        settings: HttpSettings | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.credentials = credentials
        self.cache = cache
        # Created on the first request: importing httpx and setting up TLS is a good part
        # of a run that needs no network (local find-links, cache hits, offline mode).
        self._pool: httpx.Client | None = None
        self._lock = threading.Lock()
        self.hosts = HostCache()

    @property
    def _client(self) -> httpx.Client:
        with self._lock:
            if self._pool is None:
                load_httpx()
                import httpx

                self._pool = httpx.Client(
                    timeout=httpx.Timeout(
                        self.settings.timeout, connect=min(10.0, self.settings.timeout)
                    ),
                    follow_redirects=True,
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
                    headers={"User-Agent": f"kiln/{__version__}"},
                    trust_env=True,
                )
                transports = [self._pool._transport, *self._pool._mounts.values()]
                for transport in transports:
                    if transport is not None:
                        install_host_cache(transport, self.hosts)
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    # -- plain requests --------------------------------------------------------------

    @contextmanager
    def stream(self, url: str, headers: Mapping[str, str] | None = None) -> Iterator[httpx.Response]:
        """A streamed GET; the caller reads the body inside the ``with`` block."""
        response = self._send("GET", url, dict(headers or {}), stream=True)
        try:
            yield response
        finally:
            response.close()

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """A request whose body is read completely."""
        if self.settings.offline:
            raise OfflineError(
                f"`{redact(url)}` is needed but offline mode is on",
                hint="run once without `--offline` to fill the cache",
            )
        return self._send(method, url, dict(headers or {}), stream=False)

    # -- cached pages ----------------------------------------------------------------

    def get_cached(self, url: str, accept: str) -> CachedResponse:
        """GET ``url`` through the HTTP cache (fresh hit, conditional request, or fetch).

        A stored body is read only when it is used (a fresh hit, a 304, offline): an index
        that sends no validators makes every run download its pages again, and reading
        the old copies too would double the bytes handled. Whether a new body differs
        from the stored one is told by their digests."""
        cache = self.cache
        if self.settings.offline:
            entry = cache.get(url, accept) if cache is not None else None
            if entry is not None:
                return entry
            raise OfflineError(
                f"`{redact(url)}` is not in the cache and offline mode is on",
                hint="run once without `--offline` to fill the cache",
            )
        if cache is None:
            return self._fetched(url, accept, None, self._send_page(url, accept, None))
        known = cache.head(url, accept)
        if known is not None and not self.settings.refresh and known.is_fresh():
            stored = cache.get(url, accept)
            if stored is not None:
                return stored
            known = None  # removed meanwhile
        response = self._send_page(url, accept, known)
        if response.status_code == 304 and known is not None:
            stored = cache.get(url, accept)
            if stored is not None:
                return self._revalidated(url, accept, stored, response)
            response = self._send_page(url, accept, None)  # removed meanwhile
            known = None
        return self._fetched(url, accept, known, response)

    def _send_page(self, url: str, accept: str, known: CachedResponse | None) -> httpx.Response:
        headers = {"Accept": accept}
        if known is not None:
            headers.update(known.validators())
        return self._send("GET", url, headers, stream=False)

    def _revalidated(
        self, url: str, accept: str, stored: CachedResponse, response: httpx.Response
    ) -> CachedResponse:
        """``stored``, confirmed by a 304 whose caching headers replace the stored ones."""
        merged = dict(stored.headers)
        merged.update({
            key.lower(): value for key, value in response.headers.items()
            if key.lower() in ("cache-control", "etag", "last-modified", "date")
        })
        fresh = replace(stored, headers=merged, stored_at=time.time())
        if self.cache is not None:
            self.cache.put(url, fresh, accept)
        return fresh

    def _fetched(
        self, url: str, accept: str, known: CachedResponse | None, response: httpx.Response
    ) -> CachedResponse:
        body = response.content
        result = CachedResponse(
            url=str(response.url),
            status=response.status_code,
            headers={key.lower(): value for key, value in response.headers.items()},
            body=body,
            stored_at=time.time(),
            sha256=hashlib.sha256(body).hexdigest(),
        )
        if self.cache is not None and response.status_code == 200 and not _same_unvalidated(
            known, result
        ):
            self.cache.put(url, result, accept)
        return result

    # -- internals -------------------------------------------------------------------

    def _send(
        self, method: str, url: str, headers: dict[str, str], *, stream: bool
    ) -> httpx.Response:
        store = self.credentials
        policy = store.policy(url)
        creds: Credentials | None = None
        if policy != "never":
            creds = store.known(url)
            if policy == "always" and (creds is None or creds.password is None):
                creds = store.lookup(url)
                if creds is None:
                    index = store.index_for(url)
                    stem = env_key(index.name) if index and index.name else "<NAME>"
                    raise KilnError(
                        f"missing credentials for `{redact(url)}` (`authenticate = \"always\"`)",
                        hint=f"set `KILN_INDEX_{stem}_USERNAME` and `KILN_INDEX_{stem}_PASSWORD`",
                    )
        response = self._attempt(method, url, headers, creds, stream=stream)
        if (
            response.status_code in (401, 403)
            and policy == "auto"
            and (creds is None or creds.password is None)
        ):
            found = store.lookup(url)
            if found is not None and found != creds:
                response.close()
                response = self._attempt(method, url, headers, found, stream=stream)
        return response

    def _attempt(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        creds: Credentials | None,
        *,
        stream: bool,
    ) -> httpx.Response:
        load_httpx()
        import httpx

        clean = strip_credentials(url)
        client = self._client
        auth = httpx.BasicAuth(creds.username, creds.password or "") if creds else None
        delay = self.settings.backoff
        for attempt in range(self.settings.retries + 1):
            last = attempt == self.settings.retries
            try:
                request = client.build_request(method, clean, headers=headers)
                response = client.send(request, auth=auth, stream=stream)
            except (httpx.TransportError, httpx.TooManyRedirects) as exc:
                if last or not isinstance(exc, (httpx.ConnectError, httpx.TimeoutException,
                                                httpx.RemoteProtocolError, httpx.ReadError)):
                    raise KilnError(
                        f"request to `{redact(url)}` failed: {_describe(exc)}",
                        hint="check the URL and your network connection",
                    ) from None
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    return response
                response.close()
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


#: Headers that give a cached response a freshness lifetime or a validator.
_FRESHNESS_HEADERS = ("cache-control", "expires", "etag", "last-modified")


def _same_unvalidated(entry: CachedResponse | None, result: CachedResponse) -> bool:
    """True when ``result`` repeats ``entry``'s body and carries no freshness information,
    so storing it again (rewriting a possibly large file) would change nothing."""
    return (
        entry is not None
        and not any(name in result.headers for name in _FRESHNESS_HEADERS)
        and not any(name in entry.headers for name in _FRESHNESS_HEADERS)
        and entry.url == result.url
        and entry.headers.get("content-type") == result.headers.get("content-type")
        and bool(entry.sha256)
        and entry.sha256 == result.sha256
    )


def _describe(exc: Exception) -> str:
    """A short reason for a transport error that cannot contain credentials."""
    text = str(exc)
    if not text or "@" in text or "://" in text:
        return type(exc).__name__
    return text


def file_url_path(url: str) -> Path:
    """The local path of a ``file:`` URL."""
    from urllib.parse import unquote, urlsplit

    if os.name == "nt":
        from nturl2path import url2pathname  # what urllib.request uses there

        return Path(url2pathname(urlsplit(url).path))
    # urllib.request's url2pathname is unquote on POSIX; importing it costs ssl and http.
    return Path(unquote(urlsplit(url).path))
