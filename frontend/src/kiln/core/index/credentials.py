"""Finding credentials for index URLs: env vars, URL userinfo, ``.netrc``, keyring.

Credentials are kept in memory only and never appear in messages (see ``redact``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from kiln.core.index.config import AuthPolicy, Index, env_key
from kiln.core.index.keyring import KeyringProvider, ask_keyring
from kiln.core.index.redaction import strip_credentials


class Credentials(NamedTuple):
    username: str
    password: str | None = None

    def __repr__(self) -> str:  # never show the password, even in a debugger dump
        return f"Credentials(username={self.username!r}, password=****)"


def from_url(url: str) -> Credentials | None:
    """Percent-decoded ``user:password`` from ``url``, if present."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return None
    return Credentials(
        unquote(parts.username or ""),
        unquote(parts.password) if parts.password is not None else None,
    )


def from_env(index: Index, environ: Mapping[str, str]) -> Credentials | None:
    """``KILN_INDEX_<NAME>_USERNAME`` / ``_PASSWORD`` for a named index."""
    if not index.name:
        return None
    stem = f"KILN_INDEX_{env_key(index.name)}"
    username = environ.get(f"{stem}_USERNAME")
    password = environ.get(f"{stem}_PASSWORD")
    if username is None and password is None:
        return None
    return Credentials(username or "", password)


def from_netrc(url: str, environ: Mapping[str, str]) -> Credentials | None:
    """Look ``url``'s host up in ``$NETRC`` or ``~/.netrc``."""
    import netrc

    path = Path(environ.get("NETRC") or Path.home() / ".netrc")
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(urlsplit(url).hostname or "")
    except (netrc.NetrcParseError, OSError):
        return None
    if entry is None:
        return None
    login, _account, password = entry
    return Credentials(login, password)


def from_keyring(
    url: str,
    username: str | None,
    provider: KeyringProvider = "auto",
    *,
    any_user: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Credentials | None:
    """Ask the keyring of ``provider`` (:mod:`kiln.core.index.keyring`)."""
    found = ask_keyring(provider, url, username, any_user=any_user, environ=environ)
    return Credentials(*found) if found is not None else None


class CredentialStore:
    """Per-run credentials for a set of indexes, shared by concurrent requests."""

    def __init__(
        self,
        indexes: Sequence[Index],
        environ: Mapping[str, str] | None = None,
        *,
        keyring: KeyringProvider = "auto",
    ) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        self._keyring: KeyringProvider = keyring
        self._lock = threading.Lock()
        #: The keyring's answers, by (service URL, user name): asked once per run.
        self._asked: dict[tuple[str, str | None], Credentials | None] = {}
        self._keyring_lock = threading.Lock()
        self._indexes = sorted(indexes, key=lambda i: len(i.root), reverse=True)
        self._known: dict[str, Credentials] = {}
        for index in self._indexes:
            self._learn(index)

    def _learn(self, index: Index) -> None:
        found = from_env(index, self._environ) or from_url(index.url)
        if found is not None:
            self._known[_scope(index.root)] = found
            self._known.setdefault(_realm(index.url), found)

    def add(self, index: Index) -> None:
        """Know ``index`` too, with its credentials and policy: an index the run was not
        configured with, asked on behalf of a pin (a build requirement's ``index`` source)."""
        with self._lock:
            if index in self._indexes:
                return
            self._indexes = sorted(
                [*self._indexes, index], key=lambda i: len(i.root), reverse=True
            )
            self._learn(index)

    def index_for(self, url: str) -> Index | None:
        """The index whose root URL is a path prefix of ``url``."""
        target = strip_credentials(url)
        for index in list(self._indexes):
            root = strip_credentials(index.root).rstrip("/")
            if target == root or target.startswith(root + "/"):
                return index
        return None

    def policy(self, url: str) -> AuthPolicy:
        index = self.index_for(url)
        return index.authenticate if index else "auto"

    def known(self, url: str) -> Credentials | None:
        """Credentials already known for ``url`` (by index root, then by realm)."""
        inline = from_url(url)
        if inline is not None and inline.password is not None:
            return inline
        index = self.index_for(url)
        with self._lock:
            if index is not None and _scope(index.root) in self._known:
                return self._known[_scope(index.root)]
            return self._known.get(_realm(url))

    def lookup(self, url: str) -> Credentials | None:
        """Known credentials, else ``.netrc``, else keyring; remembered for the realm."""
        found = self.known(url)
        if found is not None and found.password is not None:
            return found
        username = found.username if found else None
        located = from_netrc(url, self._environ)
        if located is None or (username and located.username != username):
            located = self._ask_keyring(url, username) or located
        if located is None and found is not None:
            return found
        if located is not None:
            with self._lock:
                self._known.setdefault(_realm(url), located)
        return located

    def _ask_keyring(self, url: str, username: str | None) -> Credentials | None:
        """The keyring's credentials for the index of ``url`` (else for ``url``), as uv asks:
        with the user name known, or for any user when the index always authenticates."""
        if self._keyring == "disabled":
            return None
        index = self.index_for(url)
        service = strip_credentials(index.url if index is not None else url)
        any_user = index is not None and index.authenticate == "always"
        key = (service, username)
        with self._keyring_lock:  # one `keyring` process at a time, each question once
            if key not in self._asked:
                self._asked[key] = from_keyring(
                    service, username, self._keyring, any_user=any_user,
                    environ=self._environ,
                )
            return self._asked[key]


def _scope(root: str) -> str:
    return strip_credentials(root).rstrip("/")


def _realm(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
