"""The index configuration model: one :class:`Index` per ``[[tool.kiln.index]]`` entry or flag."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from kiln.core.index.redaction import redact
from kiln.core.index.urls import check_url
from kiln.errors import KilnError

PYPI_URL = "https://pypi.org/simple"

IndexFormat = Literal["simple", "flat"]
AuthPolicy = Literal["always", "auto", "never"]
IndexStrategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]

STRATEGIES: tuple[IndexStrategy, ...] = ("first-index", "unsafe-first-match", "unsafe-best-match")
AUTH_POLICIES: tuple[AuthPolicy, ...] = ("always", "auto", "never")

_NAME = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Index:
    """One package index or flat find-links location."""

    url: str
    name: str | None = None
    default: bool = False
    explicit: bool = False
    format: IndexFormat = "simple"
    publish_url: str | None = None
    authenticate: AuthPolicy = "auto"
    #: Status codes that mean "not here, keep searching"; None = the built-in defaults.
    ignore_error_codes: frozenset[int] | None = None
    #: Where the entry was defined: "--index", "KILN_INDEX", a pyproject.toml path, ...
    origin: str = ""

    @property
    def label(self) -> str:
        """How the index is named in messages (never shows a password)."""
        return self.name if self.name else redact(self.url)

    @property
    def is_local(self) -> bool:
        return self.url.startswith("file:")

    @property
    def root(self) -> str:
        """The URL without a final ``simple``/``+simple`` segment (the credential scope)."""
        url = self.url.rstrip("/")
        for suffix in ("/+simple", "/simple"):
            if url.endswith(suffix):
                return url[: -len(suffix)]
        return url

    def ignores(self, status: int) -> bool:
        """Whether ``status`` on a project page means "not on this index"."""
        if status == 404:
            return True
        if self.ignore_error_codes is not None:
            return status in self.ignore_error_codes
        # download.pytorch.org answers 403 for projects it does not host.
        return status == 403 and urlsplit(self.url).hostname == "download.pytorch.org"


PYPI = Index(url=PYPI_URL, name="pypi", default=True, origin="built-in")


def validate_name(name: str, where: str) -> str:
    """Check an index name: non-empty ASCII letters, digits, ``-``, ``_`` and ``.``."""
    if not _NAME.fullmatch(name):
        raise KilnError(
            f"{where}: invalid index name `{name}`",
            hint="index names use ASCII letters, digits, `-`, `_` and `.`",
        )
    return name


def env_key(name: str) -> str:
    """The credential variable stem of an index name: ``internal-proxy`` -> ``INTERNAL_PROXY``."""
    return "".join(c.upper() if c.isascii() and c.isalnum() else "_" for c in name)


def location_to_url(location: str, base: Path, *, where: str = "index URL") -> str:
    """Turn a URL or a file-system path (relative to ``base``) into a URL; a URL that
    cannot be used (a port above 65535, no host) is a :class:`KilnError` naming ``where``
    it was given."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location) or location.startswith("file:"):
        return check_url(location, where)
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = base / path
    return path.resolve().as_uri()


def parse_index_arg(value: str, *, flag: str, base: Path, default: bool = False) -> Index:
    """Parse ``--index``-style input: ``name=url`` or a bare URL or path."""
    text = value.strip()
    name: str | None = None
    left, sep, right = text.partition("=")
    if sep and ":" not in left and "/" not in left:
        name = validate_name(left, f"`{flag}`")
        text = right.strip()
    if not text:
        raise KilnError(f"`{flag}` was given an empty URL")
    return Index(
        url=location_to_url(text, base, where=f"`{flag}`"), name=name, default=default,
        origin=flag,
    )
