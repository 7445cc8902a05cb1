"""Checking that a URL can be used before anything is sent to it.

``urllib.parse`` splits ``http://host:99999/`` without complaint and raises ``ValueError``
only when the port is asked for, deep inside a request; an unclosed ``[`` fails the split
itself. Every URL the user gives (index URLs, find-links, direct references) is checked
here where it is read, and every request is checked again before it is sent (a URL from
an index page or a redirect), so such a URL ends in a one-line error that names it
without its credentials.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from kiln.core.index.redaction import redact, redact_text
from kiln.errors import KilnError

#: Schemes whose URLs must name a host (and may name a port); ``git+`` is stripped first.
NETWORK_SCHEMES = frozenset({"http", "https"})
#: URLs longer than this are shortened in messages.
_SHOWN = 200


def url_problem(url: str) -> str | None:
    """What makes ``url`` unusable, or None. Only ``http``/``https`` URLs (with or
    without ``git+``) are looked into; other schemes are left to their own readers."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # its text may hold the credentials: never shown
        if "IPv6" in str(exc):
            return "the `[` `]` around its IPv6 host are not paired"
        return "its host part is malformed"
    if parts.scheme.lower().removeprefix("git+") not in NETWORK_SCHEMES:
        return None
    if not parts.hostname:
        return "it names no host"
    try:
        parts.port  # noqa: B018 - the property is what checks the port
    except ValueError:
        port = _port_text(parts.netloc)
        if port.isdigit():
            return f"port {port} is out of range (0-65535)"
        return f"port `{port}` is not a number"
    return None


def check_url(url: str, where: str | None = None) -> str:
    """``url`` when it is usable; else a :class:`KilnError` naming ``where`` it was given
    (e.g. ``--index-url`` or ``requirements.txt:3``), the URL without credentials and the
    problem."""
    problem = url_problem(url)
    if problem is None:
        return url
    prefix = f"{where}: " if where else ""
    raise KilnError(
        f"{prefix}invalid URL `{shown(url)}`: {problem}",
        hint="check the URL for typing mistakes",
    )


def shown(url: str) -> str:
    """``url`` as messages may show it: without its password, and shortened when long."""
    text = redact(url)
    if text == "<invalid URL>":  # not splittable: hide credentials by pattern instead
        text = redact_text(url)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _port_text(netloc: str) -> str:
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        host = host.partition("]")[2]
    return host.rpartition(":")[2] if ":" in host else ""
