"""The index configuration model: one :class:`Index` per ``[[tool.kiln.index]]`` entry or flag."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast
from urllib.parse import urlsplit

from kiln.core.index.redaction import redact
from kiln.core.index.urls import check_url
from kiln.core.record import Record
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.markers import Marker
    from packaging.utils import NormalizedName

    from kiln.core.index.keyring import KeyringProvider

PYPI_URL = "https://pypi.org/simple"

IndexFormat = Literal["simple", "flat"]
AuthPolicy = Literal["always", "auto", "never"]
IndexStrategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]

STRATEGIES: tuple[IndexStrategy, ...] = ("first-index", "unsafe-first-match", "unsafe-best-match")
AUTH_POLICIES: tuple[AuthPolicy, ...] = ("always", "auto", "never")

_NAME = re.compile(r"[A-Za-z0-9._-]+")


class Index(NamedTuple):
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


# -- the index settings of a project or a configuration file ----------------------------------

#: The keys of one ``[[index]]`` entry.
INDEX_KEYS = frozenset(
    {
        "name",
        "url",
        "default",
        "explicit",
        "format",
        "publish-url",
        "authenticate",
        "ignore-error-codes",
        "cache-control",
    }
)


class SourcePin(Record):
    """``{ index = "name", marker = "...", extra = "..." }`` from the sources table.

    A record (:mod:`kiln.core.record`), not a named tuple, which cannot have a field named
    ``index``: compared and hashed by value."""

    __slots__ = ("extra", "group", "index", "marker")
    _fields = ("index", "marker", "extra", "group")

    def __init__(
        self,
        index: str,
        marker: Marker | None = None,
        extra: str | None = None,
        group: str | None = None,
    ) -> None:
        self.index = index
        self.marker = marker
        self.extra = extra
        self.group = group


#: No pins: the shared default of the records below (a named tuple's defaults are shared,
#: so it must not be a ``dict``).
NO_PINS: Mapping[NormalizedName, tuple[SourcePin, ...]] = MappingProxyType({})


class ProjectIndexConfig(NamedTuple):
    """The index-related settings of one project (made by :mod:`kiln.project.indexes`)."""

    indexes: tuple[Index, ...] = ()
    pins: Mapping[NormalizedName, tuple[SourcePin, ...]] = NO_PINS
    path: Path | None = None
    #: ``index-strategy`` of the project's ``[tool.kiln]`` (else ``[tool.uv]``).
    strategy: IndexStrategy | None = None
    #: ``keyring-provider`` of ``[tool.kiln]`` (else ``[tool.uv]``).
    keyring_provider: KeyringProvider | None = None


def parse_index_entry(entry: object, where: str, base: Path, origin: str) -> Index:
    """One ``[[index]]`` table (of a ``pyproject.toml`` or a configuration file)."""
    from kiln.project.toml import reject_unknown_keys

    if not isinstance(entry, dict):
        raise KilnError(f"{where} must be a table")
    table = cast("Mapping[str, Any]", entry)
    reject_unknown_keys(table, where, INDEX_KEYS)
    url = table.get("url")
    if not isinstance(url, str) or not url.strip():
        raise KilnError(f"{where}: `url` is required and must be a non-empty string")
    name = table.get("name")
    if name is not None:
        if not isinstance(name, str):
            raise KilnError(f"{where}: `name` must be a string")
        validate_name(name, where)
    default = _bool(table, "default", where)
    explicit = _bool(table, "explicit", where)
    if explicit and name is None:
        raise KilnError(
            f"{where}: an index with `explicit = true` needs a `name`",
            hint="explicit indexes are only used by packages pinned to them by name",
        )
    fmt = table.get("format", "simple")
    if fmt not in ("simple", "flat"):
        raise KilnError(f"{where}: `format` must be `simple` or `flat`, not `{fmt}`")
    authenticate = table.get("authenticate", "auto")
    if authenticate not in AUTH_POLICIES:
        raise KilnError(
            f"{where}: `authenticate` must be one of `always`, `auto`, `never`, not `{authenticate}`"
        )
    publish_url = table.get("publish-url")
    if publish_url is not None and not isinstance(publish_url, str):
        raise KilnError(f"{where}: `publish-url` must be a string")
    codes = table.get("ignore-error-codes")
    ignore: frozenset[int] | None = None
    if codes is not None:
        if not isinstance(codes, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes
        ):
            raise KilnError(
                f"{where}: `ignore-error-codes` must be a list of HTTP status codes (100-599)"
            )
        ignore = frozenset(codes)
    return Index(
        url=location_to_url(url.strip(), base, where=f"{where}: `url`"),
        name=name,
        default=default,
        explicit=explicit,
        format=cast("IndexFormat", fmt),
        publish_url=publish_url,
        authenticate=cast("AuthPolicy", authenticate),
        ignore_error_codes=ignore,
        origin=origin,
    )


def _bool(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise KilnError(f"{where}: `{key}` must be `true` or `false`")
    return value
