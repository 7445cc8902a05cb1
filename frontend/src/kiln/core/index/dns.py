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
from typing import Any

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


def pool_classes(hosts: HostCache) -> dict[str, type[Any]]:
    """urllib3 connection pool classes (by URL scheme) whose connections look their host
    up through ``hosts`` and try its addresses in order. TLS still checks the host name
    the request was for; only the address a socket connects to comes from ``hosts``."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class CachedLookups:
        def _new_conn(self) -> socket.socket:
            return _connect(self, hosts)

    class Plain(CachedLookups, HTTPConnection):
        pass

    class Secure(CachedLookups, HTTPSConnection):
        pass

    class PlainPool(HTTPConnectionPool):
        ConnectionCls = Plain

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = Secure

    return {"http": PlainPool, "https": SecurePool}


def _connect(connection: Any, hosts: HostCache) -> socket.socket:
    """What urllib3's ``HTTPConnection._new_conn`` does, with the addresses from ``hosts``."""
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
    from urllib3.util.connection import create_connection

    host = connection._dns_host
    try:
        addresses = hosts.addresses(host, connection.port)
    except socket.gaierror as exc:
        raise NameResolutionError(connection.host, connection, exc) from exc
    error: Exception | None = None
    for _family, address in addresses:
        try:
            return create_connection(
                (address, connection.port),
                connection.timeout,
                source_address=connection.source_address,
                socket_options=connection.socket_options,
            )
        except TimeoutError as exc:
            error = ConnectTimeoutError(
                connection,
                f"Connection to {connection.host} timed out. "
                f"(connect timeout={connection.timeout})",
            )
            error.__cause__ = exc
        except OSError as exc:
            error = NewConnectionError(connection, f"Failed to establish a new connection: {exc}")
    if error is None:
        error = NewConnectionError(connection, f"no address found for {host}")
    raise error
