"""The HTTP session of the index client: pooling, retries, credentials and page caching.

Requests go through urllib3: a pool of keep-alive connections per host shared by every
thread of a run, with proxies taken from the environment (see :mod:`.proxies`) and host
names looked up once per session (see :mod:`.dns`). Bodies are read by the standard
library's HTTP client in C, which matters when a run downloads tens of megabytes of index
pages.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from kiln import __version__
from kiln.core.index.cache import CachedResponse, HttpCache
from kiln.core.index.config import env_key
from kiln.core.index.credentials import Credentials, CredentialStore
from kiln.core.index.dns import HostCache, pool_classes
from kiln.core.index.proxies import proxy_for
from kiln.core.index.redaction import redact, strip_credentials
from kiln.errors import KilnError

if TYPE_CHECKING:
    import ssl

    import urllib3

RETRY_STATUSES = frozenset({500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


class HttpResponse:
    """One response: its status, headers (case-insensitive), final URL and body, read at
    once or, for a streamed request, in chunks (:meth:`iter_bytes`, then :meth:`close`)."""

    def __init__(self, raw: urllib3.BaseHTTPResponse, url: str) -> None:
        self._raw = raw
        self.status_code = raw.status
        self.headers: Mapping[str, str] = raw.headers
        self.url = url

    @property
    def content(self) -> bytes:
        return self._raw.data

    def iter_bytes(self, size: int) -> Iterator[bytes]:
        """The body in chunks of up to ``size`` bytes; a connection that breaks off (or
        stalls past the timeout) meanwhile is a :class:`KilnError`."""
        import urllib3

        try:
            yield from self._raw.stream(size)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KilnError(
                f"reading `{redact(self.url)}` failed: {describe_error(exc)}",
                hint="check your network connection and try again",
            ) from None

    def close(self) -> None:
        """Give the connection back to the pool, or drop it when its body was not read to
        the end (a download given up half-way must not leave bytes for the next request)."""
        raw = self._raw
        if not raw.closed:
            raw.close()
        raw.release_conn()


def pool_manager(
    proxy: str | None, context: ssl.SSLContext, hosts: HostCache, maxsize: int = 16
) -> urllib3.PoolManager:
    """Keep-alive connection pools (``maxsize`` connections per host), direct or through
    ``proxy`` (whose ``user:password@`` become proxy credentials), looking hosts up through
    ``hosts``. urllib3 neither retries nor follows redirects here: its callers do."""
    import urllib3

    options: dict[str, Any] = {
        "num_pools": 10,
        "maxsize": maxsize,
        "headers": {"User-Agent": f"kiln/{__version__}"},
        "ssl_context": context,
        "retries": False,
    }
    manager: urllib3.PoolManager
    if proxy is None:
        manager = urllib3.PoolManager(**options)
    else:
        parts = urlsplit(proxy)
        proxy_headers = None
        if parts.username:
            from urllib.parse import unquote

            login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            proxy_headers = urllib3.make_headers(proxy_basic_auth=login)
        manager = urllib3.ProxyManager(
            strip_credentials(proxy), proxy_headers=proxy_headers, **options
        )
    manager.pool_classes_by_scheme = pool_classes(hosts)
    return manager


def ssl_context() -> ssl.SSLContext:
    """The trusted certificates: ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set, else
    certifi's bundle."""
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


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
    """Pooled connections shared by every thread of a run."""

    def __init__(
        self,
        credentials: CredentialStore,
        cache: HttpCache | None,
        settings: HttpSettings | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.credentials = credentials
        self.cache = cache
        self.environ = os.environ if environ is None else environ
        # Made on the first request: a run that needs no network (local find-links,
        # cache hits, offline mode) loads no TLS certificates.
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self.hosts = HostCache()

    def _manager(self, url: str) -> urllib3.PoolManager:
        """The connection pools for ``url``: direct, or through its proxy."""
        proxy = proxy_for(url, self.environ)
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is None:
                if self._context is None:
                    self._context = ssl_context()
                manager = pool_manager(proxy, self._context, self.hosts)
                self._managers[proxy] = manager
            return manager

    def close(self) -> None:
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for manager in managers:
            manager.clear()

    # -- plain requests --------------------------------------------------------------

    @contextmanager
    def stream(self, url: str, headers: Mapping[str, str] | None = None) -> Iterator[HttpResponse]:
        """A streamed GET; the caller reads the body inside the ``with`` block."""
        response = self._send("GET", url, dict(headers or {}), stream=True)
        try:
            yield response
        finally:
            response.close()

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
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

    def _send_page(self, url: str, accept: str, known: CachedResponse | None) -> HttpResponse:
        headers = {"Accept": accept}
        if known is not None:
            headers.update(known.validators())
        return self._send("GET", url, headers, stream=False)

    def _revalidated(
        self, url: str, accept: str, stored: CachedResponse, response: HttpResponse
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
        self, url: str, accept: str, known: CachedResponse | None, response: HttpResponse
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
    ) -> HttpResponse:
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
    ) -> HttpResponse:
        """One request with retries: on connection failures, timeouts and 5xx answers."""
        delay = self.settings.backoff
        for attempt in range(self.settings.retries + 1):
            last = attempt == self.settings.retries
            try:
                response = self._follow(method, strip_credentials(url), headers, creds, stream)
            except _Transient as exc:
                if last:
                    raise _failed(url, exc) from None
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    return response
                response.close()
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _follow(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        creds: Credentials | None,
        stream: bool,
    ) -> HttpResponse:
        """Send, following redirects; credentials go only to the origin they were for."""
        import urllib3

        timeout = urllib3.Timeout(
            connect=min(10.0, self.settings.timeout), read=self.settings.timeout
        )
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            sent = {"Accept-Encoding": "gzip, deflate", **headers}
            if creds is not None and _origin(url) == origin:
                token = f"{creds.username}:{creds.password or ''}".encode()
                sent["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
            try:
                raw = self._manager(url).urlopen(
                    method, url, headers=sent, redirect=False, retries=False,
                    timeout=timeout, preload_content=not stream, decode_content=True,
                )
            except urllib3.exceptions.HTTPError as exc:
                if isinstance(exc, _transient_errors()):
                    raise _Transient(exc) from None
                raise _failed(url, exc) from None
            location = raw.headers.get("location")
            if raw.status not in REDIRECT_STATUSES or not location:
                return HttpResponse(raw, url)
            raw.drain_conn()
            raw.release_conn()
            url = urljoin(url, location)
            if raw.status == 303:
                method = "GET"
        raise KilnError(
            f"request to `{redact(url)}` failed: more than {MAX_REDIRECTS} redirects",
            hint="check the URL and your network connection",
        )


class _Transient(Exception):
    """A failure worth another attempt (connection refused or reset, timeout)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _transient_errors() -> tuple[type[Exception], ...]:
    from urllib3 import exceptions

    return (
        exceptions.NewConnectionError,
        exceptions.ConnectTimeoutError,
        exceptions.ReadTimeoutError,
        exceptions.ProtocolError,
        exceptions.ProxyError,
        exceptions.NameResolutionError,
        # A handshake the network broke (a proxy's alert, a reset); a certificate that does
        # not verify fails the same way every time, after the retries.
        exceptions.SSLError,
    )


def _failed(url: str, exc: Exception) -> KilnError:
    cause = exc.cause if isinstance(exc, _Transient) else exc
    return KilnError(
        f"request to `{redact(url)}` failed: {describe_error(cause)}",
        hint="check the URL and your network connection",
    )


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.hostname, parts.port)


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


#: urllib3 starts its messages with the connection or pool they happened on.
_CONNECTION_PREFIX = re.compile(r"^\w+\(host='[^']*', port=\d+\): ")


def describe_error(exc: Exception) -> str:
    """A short reason for a transport error that cannot contain credentials."""
    text = _CONNECTION_PREFIX.sub("", str(exc))
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
