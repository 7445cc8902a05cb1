"""Who to upload as: the credential sources of `kiln publish`, in their order.

1. ``--token`` (user ``__token__``), or ``--username``/``--password``;
2. ``user:password@`` in the publish URL;
3. ``KILN_PUBLISH_TOKEN``, then ``KILN_PUBLISH_USERNAME``/``KILN_PUBLISH_PASSWORD``;
4. ``KILN_INDEX_<NAME>_USERNAME``/``_PASSWORD`` for ``--index NAME``;
5. the ``.netrc`` entry for the upload host;
6. the keyring of ``--keyring-provider`` (:mod:`kiln.core.index.keyring`);
7. a prompt, on a terminal, unless non-interactive.

The username and the password are each taken from the first source that has one; a
token is a complete pair. Sources 5 to 7 are asked only while the password is missing.
"""

from __future__ import annotations

import netrc
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from kiln.core.index.keyring import KeyringProvider, ask_keyring
from kiln.errors import KilnError
from kiln.publish.redact import split_userinfo

TOKEN_USER = "__token__"

#: ``prompt(question, secret)`` returns what the user typed.
Prompt = Callable[[str, bool], str]


class Credentials(NamedTuple):
    username: str
    password: str
    #: Where they came from, for ``-v`` logs (never the secret itself).
    source: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='****', source={self.source!r})"


class CredentialOptions(NamedTuple):
    token: str | None = None
    username: str | None = None
    password: str | None = None
    index_name: str | None = None
    #: ``--keyring-provider``: ``auto``, ``subprocess`` or ``disabled``.
    keyring_provider: KeyringProvider = "auto"
    #: How to ask the user; None when not interactive.
    prompt: Prompt | None = None


def env_name(index_name: str) -> str:
    """``KILN_INDEX_<NAME>``: the index name upper-cased, other characters as ``_``."""
    return "KILN_INDEX_" + re.sub(r"[^A-Za-z0-9]", "_", index_name).upper()


def resolve_credentials(
    url: str, options: CredentialOptions, environ: Mapping[str, str] | None = None
) -> Credentials | None:
    """The credentials for uploading to ``url``; None when no source has any."""
    env = os.environ if environ is None else environ
    if options.token and (options.username or options.password):
        raise KilnError(
            "`--token` cannot be combined with `--username` or `--password`",
            hint="a token is used with the user name `__token__`; give either a token or a user name and password",
        )
    if options.token:
        return Credentials(TOKEN_USER, options.token, "--token")
    username, password, source = _from_fixed_sources(url, options, env)
    if password is None:
        found = _from_netrc(url, username, env)
        if found is None:
            found = _from_keyring(url, username, options.keyring_provider, env)
        if found is None and options.prompt is not None:
            found = _from_prompt(username, options.prompt)
        if found is not None:
            username, password, source = found
    if password is None:
        if username is None:
            return None
        raise KilnError(
            f"no password found for the user name `{username}` (from {source})",
            hint="pass `--password`, set `KILN_PUBLISH_PASSWORD`, or use `--token`",
        )
    if username is None:
        raise KilnError(
            f"a password was given (from {source}) but no user name",
            hint="pass `--username` (`KILN_PUBLISH_USERNAME`), or use `--token` (`KILN_PUBLISH_TOKEN`) for an API token",
        )
    return Credentials(username, password, source)


def _from_fixed_sources(
    url: str, options: CredentialOptions, env: Mapping[str, str]
) -> tuple[str | None, str | None, str]:
    _bare, url_user, url_password = split_userinfo(url)
    sources: list[tuple[str, str | None, str | None]] = [
        ("--username/--password", options.username, options.password),
        ("the publish URL", url_user, url_password),
    ]
    env_token = env.get("KILN_PUBLISH_TOKEN")
    if env_token and not (options.username or url_user):
        sources.append(("KILN_PUBLISH_TOKEN", TOKEN_USER, env_token))
    sources.append(
        ("KILN_PUBLISH_USERNAME/PASSWORD", env.get("KILN_PUBLISH_USERNAME"), env.get("KILN_PUBLISH_PASSWORD"))
    )
    if options.index_name:
        stem = env_name(options.index_name)
        sources.append((f"{stem}_USERNAME/PASSWORD", env.get(f"{stem}_USERNAME"), env.get(f"{stem}_PASSWORD")))
    username: str | None = None
    password: str | None = None
    used: list[str] = []
    for label, user, secret in sources:
        took = False
        if username is None and user:
            username, took = user, True
        if password is None and secret:
            password, took = secret, True
        if took:
            used.append(label)
    return username, password, " and ".join(used) or "nowhere"


def check_url_credentials(
    check_url: str,
    publish_url: str,
    publish_credentials: Credentials | None,
    index_name: str | None,
    environ: Mapping[str, str] | None = None,
) -> Credentials | None:
    """Credentials for reading the ``--check-url`` index (never prompted for).

    Userinfo in the check URL, else the index's ``KILN_INDEX_<NAME>_*`` variables, else the
    upload credentials when both URLs are on the same host, else ``.netrc``.
    """
    env = os.environ if environ is None else environ
    _bare, user, password = split_userinfo(check_url)
    if user is not None and password is not None:
        return Credentials(user, password, "the check URL")
    if index_name:
        stem = env_name(index_name)
        user, password = env.get(f"{stem}_USERNAME"), env.get(f"{stem}_PASSWORD")
        if user and password:
            return Credentials(user, password, f"{stem}_USERNAME/PASSWORD")
    if publish_credentials is not None and _origin(check_url) == _origin(publish_url):
        return publish_credentials
    found = _from_netrc(check_url, None, env)
    return Credentials(*found) if found else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(split_userinfo(url)[0])
    return parts.scheme, parts.hostname or "", parts.port


def _from_netrc(
    url: str, username: str | None, env: Mapping[str, str]
) -> tuple[str, str, str] | None:
    path = Path(env.get("NETRC") or Path.home() / ".netrc")
    host = urlsplit(url).hostname or ""
    try:
        entry = netrc.netrc(str(path)).authenticators(host) if path.is_file() else None
    except (netrc.NetrcParseError, OSError):
        return None
    if entry is None:
        return None
    login, _account, password = entry
    if not password or (username is not None and login != username):
        return None
    return login, password, f"`{path}`"


def _from_keyring(
    url: str, username: str | None, provider: KeyringProvider, env: Mapping[str, str]
) -> tuple[str, str, str] | None:
    found = ask_keyring(provider, split_userinfo(url)[0], username, environ=env)
    if found is None or not found[0] or not found[1]:
        return None
    return found[0], found[1], "keyring"


def _from_prompt(username: str | None, prompt: Prompt) -> tuple[str, str, str] | None:
    if username is None:
        username = prompt("Username (`__token__` for an API token): ", False).strip()
        if not username:
            return None
    password = prompt(f"Password for `{username}`: ", True)
    if not password:
        return None
    return username, password, "the prompt"
