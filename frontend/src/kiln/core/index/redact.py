"""Hiding credentials in URLs before they reach any message."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact(url: str) -> str:
    """``url`` with its password replaced by ``****``.

    The username is kept when a password follows it; a lone username is hidden
    too, because tokens are often passed that way.

    Used for every URL that appears in an error message or a log line.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    username, sep, _password = userinfo.partition(":")
    shown = f"{username}:****" if sep else "****"
    return urlunsplit(parts._replace(netloc=f"{shown}@{hostport}"))


def strip_credentials(url: str) -> str:
    """``url`` without its ``user:password@`` part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
