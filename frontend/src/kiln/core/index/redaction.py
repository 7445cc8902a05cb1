"""Hiding credentials in URLs and texts before they reach any message.

The one place for this: the index client, builds, git sources and publishing all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "****"
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


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
    return urlunsplit(parts._replace(netloc=f"{_masked(userinfo)}@{hostport}"))


def _masked(userinfo: str) -> str:
    username, sep, _password = userinfo.partition(":")
    return f"{username}:{MASK}" if sep else MASK


def redact_text(text: str) -> str:
    """``text`` with the credentials of every URL in it hidden, as :func:`redact` does."""
    return _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{_masked(m.group('userinfo'))}@", text)


def strip_credentials(url: str) -> str:
    """``url`` without its ``user:password@`` part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``url`` without ``user:password@``, plus the percent-decoded user and password."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, has_password, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, unquote(user) or None, unquote(password) if has_password else None


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every (non-trivial) secret replaced by ``****``: a last line of defence."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text
