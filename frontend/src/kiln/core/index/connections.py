"""Sending a request over pooled keep-alive connections: what every request kiln makes
has in common (the index client, ``kiln publish``, ``kiln build <url>``).

urllib3 underneath, so response bodies are read by the standard library's HTTP client in
C; proxies from the environment (:mod:`.proxies`); host names looked up once per set of
pools (:mod:`.dns`); the trusted certificates of ``SSL_CERT_FILE``/``SSL_CERT_DIR``, the
operating system's or certifi (:mod:`.tls`), and none for the hosts of
``KILN_INSECURE_HOST`` (``--allow-insecure-host``). Redirects are followed here, not by urllib3, so that Basic credentials go only
to the origin they were given for. Retrying is the callers' business.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

from kiln import __version__
from kiln.core.index.dns import HostCache, pool_classes
from kiln.core.index.proxies import proxy_for
from kiln.core.index.redaction import strip_credentials
from kiln.core.index.tls import insecure_context, is_insecure_host, ssl_context
from kiln.core.index.urls import url_problem

if TYPE_CHECKING:
    import ssl

    import urllib3

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


class TooManyRedirects(Exception):
    """A chain of more than :data:`MAX_REDIRECTS` redirects."""


class InvalidURL(Exception):
    """A URL to send a request to, or a redirect's target, that cannot be used (a port
    above 65535, no host). The message says what is wrong and never holds the URL."""


class ConnectionPools:
    """Keep-alive connections (``maxsize`` per host) shared by every thread that uses
    them: one set of pools for direct connections and one per proxy, made on first use, so
    that a run needing no network loads no certificates."""

    def __init__(self, environ: Mapping[str, str] | None = None, *, maxsize: int = 16) -> None:
        self.environ = os.environ if environ is None else environ
        self.maxsize = maxsize
        self.hosts = HostCache()
        self._managers: dict[tuple[str | None, bool], urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def for_url(self, url: str) -> urllib3.PoolManager:
        """The pools for ``url``: direct, or through the proxy the environment names; for a
        host of ``KILN_INSECURE_HOST``, pools that verify no certificate."""
        proxy = proxy_for(url, self.environ)
        insecure = is_insecure_host(url, self.environ)
        with self._lock:
            manager = self._managers.get((proxy, insecure))
            if manager is None:
                context = insecure_context() if insecure else ssl_context()
                manager = _pool_manager(proxy, context, self.hosts, self.maxsize)
                self._managers[(proxy, insecure)] = manager
            return manager

    def close(self) -> None:
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for manager in managers:
            manager.clear()


def open_url(
    pools: ConnectionPools,
    method: str,
    url: str,
    headers: Mapping[str, str],
    login: tuple[str, str] | None,
    *,
    connect_timeout: float,
    read_timeout: float,
    stream: bool = False,
    body: Iterable[bytes] | None = None,
    follow_redirects: bool = True,
) -> tuple[urllib3.BaseHTTPResponse, str]:
    """Send one request and return the answer with the URL that gave it.

    ``login`` (user name, password) goes as Basic credentials to ``url``'s origin only.
    With ``follow_redirects``, redirects are followed (a 303 turns the request into a
    GET); a streamed answer's body is then read by the caller. urllib3's errors pass
    through; a chain of redirects too long is :class:`TooManyRedirects`, an unusable URL
    (given, or redirected to) :class:`InvalidURL`.
    """
    import urllib3

    _check(url, "")
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    origin = _origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        sent = dict(headers)
        if login is not None and _origin(url) == origin:
            token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode("ascii")
            sent["Authorization"] = f"Basic {token}"
        raw = pools.for_url(url).urlopen(
            method, url, body=body, headers=sent, redirect=False, retries=False,
            timeout=timeout, preload_content=not stream, decode_content=True,
        )
        location = raw.headers.get("location")
        if not follow_redirects or raw.status not in REDIRECT_STATUSES or not location:
            return raw, url
        raw.drain_conn()
        raw.release_conn()
        try:
            url = urljoin(url, location)
        except ValueError as exc:  # an unclosed `[` in the Location header
            raise InvalidURL(f"redirected to an invalid URL: {exc}") from None
        _check(url, "redirected to an invalid URL: ")
        if raw.status == 303:
            method, body = "GET", None
    raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")


def _check(url: str, prefix: str) -> None:
    problem = url_problem(url)
    if problem is not None:
        raise InvalidURL(prefix + problem)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.hostname, parts.port)


def _pool_manager(
    proxy: str | None, context: ssl.SSLContext, hosts: HostCache, maxsize: int
) -> urllib3.PoolManager:
    import urllib3

    options: dict[str, Any] = {
        "num_pools": 10,
        "maxsize": maxsize,
        "headers": {"User-Agent": f"kiln/{__version__}"},
        "ssl_context": context,
        "retries": False,
    }
    import ssl

    if context.verify_mode == ssl.CERT_NONE:  # a host the user allowed to be insecure
        import warnings

        options["cert_reqs"] = "CERT_NONE"
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    manager: urllib3.PoolManager
    if proxy is None:
        manager = urllib3.PoolManager(**options)
    else:
        parts = urlsplit(proxy)
        proxy_headers = None
        if parts.username:  # the proxy's own credentials, from its URL
            login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            proxy_headers = urllib3.make_headers(proxy_basic_auth=login)
        manager = urllib3.ProxyManager(
            strip_credentials(proxy), proxy_headers=proxy_headers, **options
        )
    manager.pool_classes_by_scheme = pool_classes(hosts)
    return manager


#: urllib3 starts its messages with the connection or pool they happened on.
_CONNECTION_PREFIX = re.compile(r"^\w+\(host='[^']*', port=\d+\): ")


def describe_error(exc: Exception) -> str:
    """A short reason for a transport error that cannot contain credentials."""
    text = _CONNECTION_PREFIX.sub("", str(exc))
    if not text or "@" in text or "://" in text:
        return type(exc).__name__
    return text
