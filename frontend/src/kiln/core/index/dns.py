"""Look each host name up once per HTTP session.

A resolution opens many connections to the same index at once (one per worker thread). Left
alone, every one of them asks the system resolver for the same name at the same moment; a
resolver that drops part of such a burst makes a connection wait for its retry timeout (five
seconds with glibc) before kiln can go on. Here the first connection to a host looks it up,
the others wait for that answer, and later connections reuse it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpcore

#: (family, address) pairs in the order the system resolver gave them.
Addresses = list[tuple[int, str]]


class HostCache:
    """Thread-safe memo of ``getaddrinfo`` answers; one lookup in flight per host."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, int], Addresses] = {}
        self._pending: dict[tuple[str, int], threading.Lock] = {}
        #: How many lookups reached the system resolver (for tests and debugging).
        self.lookups = 0

    def addresses(self, host: str, port: int) -> Addresses:
        key = (host, port)
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                return found
            gate = self._pending.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                found = self._answers.get(key)
                if found is not None:
                    return found
                self.lookups += 1
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            answer: Addresses = []
            for family, _type, _proto, _name, sockaddr in infos:
                pair = (int(family), str(sockaddr[0]))
                if pair not in answer:
                    answer.append(pair)
            with self._lock:  # failures raise above and are not remembered
                self._answers[key] = answer
                self._pending.pop(key, None)
            return answer


def caching_backend(inner: httpcore.NetworkBackend, hosts: HostCache) -> httpcore.NetworkBackend:
    """A network backend that connects through ``inner`` to addresses from ``hosts``."""
    import httpcore

    class _Backend(httpcore.NetworkBackend):
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            try:
                addresses = hosts.addresses(host, port)
            except OSError as exc:
                raise httpcore.ConnectError(str(exc)) from exc
            options = list(socket_options or [])
            error: Exception | None = None
            for _family, address in addresses:
                try:
                    return inner.connect_tcp(address, port, timeout, local_address, options)
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                    error = exc
            if error is None:
                raise httpcore.ConnectError(f"no address found for {host}")
            raise error

        def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            return inner.connect_unix_socket(path, timeout, socket_options)

        def sleep(self, seconds: float) -> None:
            inner.sleep(seconds)

    return _Backend()


def install(transport: object, hosts: HostCache) -> bool:
    """Make an ``httpx.HTTPTransport`` look hosts up through ``hosts``.

    httpx has no public setting for this, so the backend of the transport's connection pool
    is swapped; with an httpcore that stores it differently nothing changes and ``False``
    comes back.
    """
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if inner is None or not hasattr(inner, "connect_tcp"):
        return False
    pool._network_backend = caching_backend(inner, hosts)  # type: ignore[union-attr]
    return True
