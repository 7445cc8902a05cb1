"""The certificates HTTPS connections trust, loaded once per process.

Loading a bundle of a hundred-odd certificates takes tens of milliseconds, all of it in
OpenSSL with the interpreter lock released. A command that is about to make HTTPS requests
calls :func:`warm_up_tls` first: the bundle then loads in a background thread while the
command imports the rest of its code.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

from kiln.errors import KilnError

if TYPE_CHECKING:
    import ssl

#: (SSL_CERT_FILE, SSL_CERT_DIR) -> the context made for them.
_contexts: dict[tuple[str, str], Future[ssl.SSLContext]] = {}
_lock = threading.Lock()


def ssl_context() -> ssl.SSLContext:
    """The trusted certificates: ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set, else
    certifi's bundle."""
    return _context(background=False).result()


def warm_up_tls() -> None:
    """Start loading the trusted certificates in a background thread (once)."""
    _context(background=True)


def _context(*, background: bool) -> Future[ssl.SSLContext]:
    key = (os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
    with _lock:
        future = _contexts.get(key)
        if future is not None:
            return future
        future = _contexts[key] = Future()
    if background:
        import ssl  # noqa: F401  (here: the import needs the interpreter lock, the load does not)

        threading.Thread(
            target=_load, args=(key, future), name="kiln-tls", daemon=True
        ).start()
    else:
        _load(key, future)
    return future


def _load(key: tuple[str, str], future: Future[ssl.SSLContext]) -> None:
    try:
        context = _make(*key)
    except BaseException as exc:
        with _lock:  # every waiter gets the failure; the next request tries again
            _contexts.pop(key, None)
        future.set_exception(exc)
        return
    future.set_result(context)


def _make(cafile: str, capath: str) -> ssl.SSLContext:
    import ssl

    if cafile:
        source, variable = cafile, "SSL_CERT_FILE"
    elif capath:
        source, variable = capath, "SSL_CERT_DIR"
    else:
        import certifi

        source, variable = certifi.where(), ""
    try:
        if variable == "SSL_CERT_DIR":
            return ssl.create_default_context(capath=source)
        return ssl.create_default_context(cafile=source)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        named = f"`{variable}` (`{source}`)" if variable else f"`{source}`"
        raise KilnError(
            f"cannot load the trusted certificates from {named}: {reason}",
            hint=f"point `{variable}` at a PEM bundle or unset it" if variable else None,
        ) from None
