"""The HTTP requests of a publish run: reading the check URL and posting uploads.

Built on the same connection pools as the index client (urllib3; proxies from the
environment; ``SSL_CERT_FILE``/``SSL_CERT_DIR``), with the publish run's own timeout and
no caching. Basic credentials are sent only to the origin they were given for.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from kiln.core.index.dns import HostCache
from kiln.core.index.http import describe_error, pool_manager, ssl_context
from kiln.core.index.proxies import proxy_for
from kiln.publish.credentials import Credentials

if TYPE_CHECKING:
    import urllib3

MAX_REDIRECTS = 10


class TransportError(Exception):
    """The request did not get an answer: connection refused or reset, timeout, TLS."""


class Response:
    """A complete answer: status, reason, headers (case-insensitive), final URL, body."""

    def __init__(self, raw: urllib3.BaseHTTPResponse, url: str) -> None:
        self.status_code = raw.status
        self.reason_phrase = raw.reason or ""
        self.headers: Mapping[str, str] = raw.headers
        self.url = url
        self.content = raw.data

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        return self.content.decode(charset, errors="replace")


class PublishClient:
    def __init__(self, timeout: float, environ: Mapping[str, str] | None = None) -> None:
        self.timeout = timeout
        self.environ = os.environ if environ is None else environ
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        self._hosts = HostCache()

    def close(self) -> None:
        for manager in self._managers.values():
            manager.clear()
        self._managers.clear()

    def get(
        self, url: str, headers: Mapping[str, str], credentials: Credentials | None = None
    ) -> Response:
        """A GET that follows redirects (credentials stay with their origin)."""
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            raw = self._send("GET", url, headers, credentials, origin)
            location = raw.headers.get("location")
            if raw.status not in (301, 302, 303, 307, 308) or not location:
                return Response(raw, url)
            url = urljoin(url, location)
        raise TransportError(f"more than {MAX_REDIRECTS} redirects")

    def post(
        self,
        url: str,
        body: Iterable[bytes],
        headers: Mapping[str, str],
        credentials: Credentials | None = None,
    ) -> Response:
        """A POST of ``body`` (streamed; ``headers`` give its length); redirects are not
        followed."""
        return Response(self._send("POST", url, headers, credentials, _origin(url), body), url)

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        credentials: Credentials | None,
        origin: tuple[str, str | None, int | None],
        body: Iterable[bytes] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        import urllib3

        sent = dict(headers)
        if credentials is not None and _origin(url) == origin:
            token = f"{credentials.username}:{credentials.password}".encode()
            sent["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        try:
            return self._manager(url).urlopen(
                method, url, body=body, headers=sent, redirect=False, retries=False,
                timeout=urllib3.Timeout(connect=min(self.timeout, 30.0), read=self.timeout),
            )
        except urllib3.exceptions.HTTPError as exc:
            raise TransportError(describe_error(exc)) from None

    def _manager(self, url: str) -> urllib3.PoolManager:
        proxy = proxy_for(url, self.environ)
        manager = self._managers.get(proxy)
        if manager is None:
            manager = self._managers[proxy] = pool_manager(
                proxy, ssl_context(), self._hosts, maxsize=2
            )
        return manager


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.hostname, parts.port)
