"""Asking a keyring for a password: the one implementation behind ``--keyring-provider``,
for index requests (:mod:`kiln.core.index.credentials`) and uploads (``kiln publish``).

* ``disabled``: never ask.
* ``subprocess`` (uv's): run the ``keyring`` command found on ``PATH``, as uv does:
  ``keyring get SERVICE USERNAME`` prints the password. Asked only with a user name, unless
  the caller allows ``any_user`` (an index with ``authenticate = "always"``): then
  ``keyring get SERVICE --mode creds`` prints the user name and the password on two lines.
  The services asked, in order, are the URL (without credentials), then ``host[:port]``,
  then, for a URL that is not ``https``, ``scheme://host[:port]``.
* ``auto`` (kiln's default): the ``keyring`` package, when kiln's own environment has it,
  for the same services.

What a keyring answers is never shown: the command's standard output is read by kiln only.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from kiln.core.index.redaction import strip_credentials
from kiln.errors import KilnError

KeyringProvider = Literal["disabled", "subprocess", "auto"]
#: The values of ``--keyring-provider``: uv's two, and kiln's default.
KEYRING_PROVIDERS: tuple[KeyringProvider, ...] = ("disabled", "subprocess", "auto")
#: Where the value is read when no option gives it, first found wins.
VARIABLES = ("KILN_KEYRING_PROVIDER", "UV_KEYRING_PROVIDER")
#: Seconds the ``keyring`` command may take (it may wait for a desktop keyring to unlock).
TIMEOUT = 120.0


def check_provider(value: str, where: str) -> KeyringProvider:
    """``value`` as a provider; a :class:`KilnError` naming ``where`` it came from if it is
    not one."""
    text = value.strip().lower()
    if text not in KEYRING_PROVIDERS:
        listed = ", ".join(f"`{p}`" for p in KEYRING_PROVIDERS)
        raise KilnError(f"{where}: unknown keyring provider `{value}`", hint=f"use one of {listed}")
    return text


def provider_from_env(environ: Mapping[str, str]) -> KeyringProvider | None:
    """The provider of ``KILN_KEYRING_PROVIDER``, else of ``UV_KEYRING_PROVIDER``."""
    for variable in VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            return check_provider(value, f"`{variable}`")
    return None


def services(url: str) -> list[str]:
    """The service names asked for ``url``, in order (see the module's docstring)."""
    bare = strip_credentials(url)
    parts = urlsplit(bare)
    scheme = parts.scheme.lower()
    host = parts.netloc.rpartition("@")[2].lower()
    default_port = {"http": ":80", "https": ":443"}.get(scheme)
    if default_port and host.endswith(default_port):
        host = host[: -len(default_port)]
    found = [bare, host]
    if scheme != "https":
        found.append(f"{scheme}://{host}")
    return [service for index, service in enumerate(found) if service and service not in found[:index]]


def ask_keyring(
    provider: KeyringProvider,
    url: str,
    username: str | None,
    *,
    any_user: bool = False,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str] | None:
    """``(username, password)`` for ``url`` from the keyring of ``provider``, or None.

    Without a ``username`` the subprocess keyring is asked only when ``any_user``. A
    keyring that fails, or a ``keyring`` command that is missing, counts as no answer.
    """
    if provider == "disabled":
        return None
    if provider == "subprocess":
        if not username and not any_user:
            return None
        env = os.environ if environ is None else environ
        for service in services(url):
            found = _from_command(service, username or None, env)
            if found is not None:
                return found
        return None
    return _from_package(url, username or None)


def _from_command(
    service: str, username: str | None, environ: Mapping[str, str]
) -> tuple[str, str] | None:
    program = shutil.which("keyring", path=environ.get("PATH"))
    if program is None:
        return None
    words = [program, "get", service, *([username] if username else ["--mode", "creds"])]
    try:
        result = subprocess.run(
            words, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            # With a user name the command's messages go to the user, as uv lets them; without
            # one they are held back: an old `keyring` rejects `--mode` with a usage message.
            stderr=None if username else subprocess.PIPE,
            env=dict(environ), timeout=TIMEOUT, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    try:
        output = result.stdout.decode()
    except UnicodeDecodeError:
        return None
    if username:
        return username, output.rstrip()
    lines = output.splitlines()
    if len(lines) < 2 or not lines[0]:
        return None
    return lines[0], lines[1]


def _from_package(url: str, username: str | None) -> tuple[str, str] | None:
    try:
        keyring = importlib.import_module("keyring")
    except ImportError:
        return None
    for service in services(url)[:2]:
        try:
            if username:
                password = keyring.get_password(service, username)
                if password is not None:
                    return username, str(password)
            else:
                found = keyring.get_credential(service, None)
                if found is not None and found.username and found.password is not None:
                    return str(found.username), str(found.password)
        except Exception:  # a broken keyring backend must not break installs or uploads
            return None
    return None
