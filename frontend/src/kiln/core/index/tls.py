"""The certificates HTTPS connections trust, loaded once per process.

Loading a bundle of a hundred-odd certificates takes tens of milliseconds, all of it in
OpenSSL with the interpreter lock released. A command that is about to make HTTPS requests
calls :func:`warm_up_tls` first: the bundle then loads in a background thread while the
command imports the rest of its code.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kiln.errors import KilnError

if TYPE_CHECKING:
    import ssl

#: Set (by ``--system-certs``/``--native-tls``): trust the operating system's certificates.
SYSTEM_CERTS_VARIABLE = "KILN_SYSTEM_CERTS"

#: Hosts whose certificates are not verified (``--allow-insecure-host``), whitespace-separated.
INSECURE_HOST_VARIABLE = "KILN_INSECURE_HOST"

#: (SSL_CERT_FILE, SSL_CERT_DIR, KILN_SYSTEM_CERTS, --cert) -> the context made for them.
_contexts: dict[tuple[str, str, str, str], Future[ssl.SSLContext]] = {}
_lock = threading.Lock()
#: The bundle of ``--cert`` (`kiln pip` commands), while the command runs; "" for none.
_cert_file: list[str] = [""]


def ssl_context() -> ssl.SSLContext:
    """The trusted certificates: the bundle of ``--cert`` when given, else ``SSL_CERT_FILE``
    or ``SSL_CERT_DIR`` when set, else the operating system's with ``KILN_SYSTEM_CERTS``,
    else certifi's bundle."""
    return _context(background=False).result()


def use_cert_file(path: str | None) -> None:
    """Trust the PEM bundle at ``path`` only (``--cert``), or (None) go back to the
    variables' choice."""
    _cert_file[0] = path or ""


def warm_up_tls() -> None:
    """Start loading the trusted certificates in a background thread (once)."""
    _context(background=True)


def _context(*, background: bool) -> Future[ssl.SSLContext]:
    key = (
        os.environ.get("SSL_CERT_FILE", ""),
        os.environ.get("SSL_CERT_DIR", ""),
        os.environ.get(SYSTEM_CERTS_VARIABLE, ""),
        _cert_file[0],
    )
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


def _load(key: tuple[str, str, str, str], future: Future[ssl.SSLContext]) -> None:
    try:
        context = _make(*key)
    except BaseException as exc:
        with _lock:  # every waiter gets the failure; the next request tries again
            _contexts.pop(key, None)
        future.set_exception(exc)
        return
    future.set_result(context)


def _make(cafile: str, capath: str, system: str, cert: str = "") -> ssl.SSLContext:
    import ssl

    if cert:
        source, variable = cert, "--cert"
    elif cafile:
        source, variable = cafile, "SSL_CERT_FILE"
    elif capath:
        source, variable = capath, "SSL_CERT_DIR"
    elif system.strip().lower() not in {"", "0", "false", "no", "off"}:
        return _system_context()
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
            hint=(
                "point `--cert` at a PEM bundle of CA certificates" if variable == "--cert"
                else f"point `{variable}` at a PEM bundle or unset it" if variable else None
            ),
        ) from None


def _system_context() -> ssl.SSLContext:
    """The certificates OpenSSL finds where the operating system keeps them (its default
    verify paths, e.g. `/etc/ssl/certs` on Debian), not certifi's bundle."""
    import ssl

    context = ssl.create_default_context()
    if not context.get_ca_certs() and not ssl.get_default_verify_paths().capath:
        paths = ssl.get_default_verify_paths()
        raise KilnError(
            "`--system-certs`: the operating system has no trusted certificates where OpenSSL "
            f"looks (`{paths.openssl_cafile}`, `{paths.openssl_capath}`)",
            hint="install the system's CA certificates, or name a bundle with `SSL_CERT_FILE`",
        )
    return context


def is_insecure_host(url: str, environ: Mapping[str, str]) -> bool:
    """Whether ``url`` is on a host of ``KILN_INSECURE_HOST``: each entry a host name
    (every port and scheme), ``host:port``, or a URL (its scheme, host and port if given)."""
    listed = environ.get(INSECURE_HOST_VARIABLE, "").split()
    if not listed:
        return False
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), (parts.hostname or ""), parts.port
    except ValueError:
        return False
    port = port or {"http": 80, "https": 443}.get(scheme)
    for entry in listed:
        wanted = urlsplit(entry if "://" in entry else f"//{entry}")
        try:
            wanted_port = wanted.port
        except ValueError:
            continue
        if (wanted.hostname or "") != host.lower():
            continue
        if wanted.scheme and wanted.scheme.lower() != scheme:
            continue
        if wanted_port is not None and wanted_port != port:
            continue
        return True
    return False


def insecure_context() -> ssl.SSLContext:
    """A context that checks no certificate and no host name: for the hosts the user named
    with ``--allow-insecure-host`` only."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
