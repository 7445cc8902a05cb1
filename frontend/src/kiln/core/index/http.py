"""The HTTP session of the index client: retries, credentials and page caching, over the
pooled connections of :mod:`.connections`."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from kiln.core.index.cache import CachedResponse, HttpCache
from kiln.core.index.config import env_key
from kiln.core.index.connections import (
    ConnectionPools,
    InvalidURL,
    TooManyRedirects,
    describe_error,
    open_url,
)
from kiln.core.index.credentials import Credentials, CredentialStore
from kiln.core.index.redaction import redact, strip_credentials
from kiln.core.index.urls import check_url
from kiln.errors import KilnError

if TYPE_CHECKING:
    import urllib3

RETRY_STATUSES = frozenset({500, 502, 503, 504})


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


class HttpSettings(NamedTuple):
    timeout: float = 30.0
    retries: int = 3
    #: Seconds before the first retry; doubled each time.
    backoff: float = 0.2
    offline: bool = False
    #: Revalidate every cached page with the server.
    refresh: bool = False
    #: Revalidate the cached pages of these packages (normalized names).
    refresh_packages: frozenset[str] = frozenset()

    def refreshes(self, name: str | None) -> bool:
        """Whether cached data of the package ``name`` must be revalidated."""
        return self.refresh or (name is not None and name in self.refresh_packages)


class OfflineError(KilnError):
    """A resource is missing from the cache while offline."""


class HttpSession:
    """The requests of a run, from every thread: credentials, retries, the page cache."""

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
        self._pools = ConnectionPools(environ)
        #: Host name lookups, one per host for the whole session.
        self.hosts = self._pools.hosts

    def close(self) -> None:
        self._pools.close()

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

    def get_cached(self, url: str, accept: str, *, name: str | None = None) -> CachedResponse:
        """GET ``url`` through the HTTP cache (fresh hit, conditional request, or fetch).

        A stored body is read only when it is used (a fresh hit, a 304, offline): an index
        that sends no validators makes every run download its pages again, and reading
        the old copies too would double the bytes handled. Whether a new body differs
        from the stored one is told by their digests. ``name`` is the package the page is
        about (for ``--refresh-package``)."""
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
        if known is not None and not self.settings.refreshes(name) and known.is_fresh():
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
        fresh = stored._replace(headers=merged, stored_at=time.time())
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
        check_url(url)  # a URL from an index page may have a port above 65535
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
        import urllib3

        login = (creds.username, creds.password or "") if creds is not None else None
        sent = {"Accept-Encoding": "gzip, deflate", **headers}
        timeout = self.settings.timeout
        delay = self.settings.backoff
        for attempt in range(self.settings.retries + 1):
            last = attempt == self.settings.retries
            try:
                raw, final = open_url(
                    self._pools, method, strip_credentials(url), sent, login,
                    connect_timeout=min(10.0, timeout), read_timeout=timeout, stream=stream,
                )
            except urllib3.exceptions.HTTPError as exc:
                if last or not isinstance(exc, _transient_errors()):
                    raise _failed(url, exc) from None
            except (TooManyRedirects, InvalidURL) as exc:
                raise _failed(url, exc) from None
            else:
                response = HttpResponse(raw, final)
                if response.status_code not in RETRY_STATUSES or last:
                    return response
                response.close()
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def _transient_errors() -> tuple[type[Exception], ...]:
    """The transport errors worth another attempt."""
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
    return KilnError(
        f"request to `{redact(url)}` failed: {describe_error(exc)}",
        hint="check the URL and your network connection",
    )


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
