"""The HTTP requests of a publish run: reading the check URL and posting uploads.

Built on the same connection pools as the index client (urllib3; proxies from the
environment; ``SSL_CERT_FILE``/``SSL_CERT_DIR``), with the publish run's own timeout and
no caching. Basic credentials are sent only to the origin they were given for.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from kiln.core.index.connections import (
    ConnectionPools,
    InvalidURL,
    TooManyRedirects,
    describe_error,
    open_url,
)
from kiln.publish.credentials import Credentials

if TYPE_CHECKING:
    import urllib3


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
        self._pools = ConnectionPools(os.environ if environ is None else environ, maxsize=2)

    def close(self) -> None:
        self._pools.close()

    def get(
        self, url: str, headers: Mapping[str, str], credentials: Credentials | None = None
    ) -> Response:
        """A GET that follows redirects (credentials stay with their origin)."""
        return self._send("GET", url, headers, credentials, follow_redirects=True)

    def post(
        self,
        url: str,
        body: Iterable[bytes],
        headers: Mapping[str, str],
        credentials: Credentials | None = None,
    ) -> Response:
        """A POST of ``body`` (streamed; ``headers`` give its length); redirects are not
        followed."""
        return self._send("POST", url, headers, credentials, body=body)

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        credentials: Credentials | None,
        *,
        body: Iterable[bytes] | None = None,
        follow_redirects: bool = False,
    ) -> Response:
        import urllib3

        login = (credentials.username, credentials.password) if credentials else None
        try:
            raw, final = open_url(
                self._pools, method, url, headers, login,
                connect_timeout=min(self.timeout, 30.0), read_timeout=self.timeout,
                body=body, follow_redirects=follow_redirects,
            )
        except (urllib3.exceptions.HTTPError, TooManyRedirects, InvalidURL) as exc:
            raise TransportError(describe_error(exc)) from None
        return Response(raw, final)
