"""Reading ``[[tool.kiln.index]]`` and ``[tool.kiln.sources]`` from a ``pyproject.toml``.

``[tool.uv.index]``/``[tool.uv.sources]`` are read when the ``tool.kiln`` keys are absent,
so projects written for uv work unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from packaging.markers import Marker
from packaging.utils import NormalizedName

from kiln.core.index.config import (
    AUTH_POLICIES,
    AuthPolicy,
    Index,
    IndexFormat,
    location_to_url,
    validate_name,
)
from kiln.errors import KilnError
from kiln.tomlfile import reject_unknown_keys

_INDEX_KEYS = frozenset(
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


@dataclass(frozen=True)
class SourcePin:
    """``{ index = "name", marker = "...", extra = "..." }`` from the sources table."""

    index: str
    marker: Marker | None = None
    extra: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class ProjectIndexConfig:
    """The index-related settings of one project."""

    indexes: tuple[Index, ...] = ()
    pins: Mapping[NormalizedName, tuple[SourcePin, ...]] = field(default_factory=dict)
    path: Path | None = None


def load_project_config(pyproject: Path) -> ProjectIndexConfig:
    """Read the index settings of ``pyproject`` (a missing file means no settings)."""
    from kiln.tomlfile import load_toml

    if not pyproject.is_file():
        return ProjectIndexConfig(path=pyproject)
    return parse_project_config(load_toml(pyproject), pyproject)


def parse_project_config(data: Mapping[str, Any], pyproject: Path) -> ProjectIndexConfig:
    """Build a :class:`ProjectIndexConfig` from the parsed TOML of ``pyproject``."""
    tool = _table(data.get("tool", {}), f"{pyproject}: `tool`")
    kiln = _table(tool.get("kiln", {}), f"{pyproject}: `tool.kiln`")
    uv = _table(tool.get("uv", {}), f"{pyproject}: `tool.uv`")
    section = "kiln" if "index" in kiln else "uv"
    raw_indexes = (kiln if section == "kiln" else uv).get("index", [])
    where = f"{pyproject}: `tool.{section}.index`"
    if not isinstance(raw_indexes, list):
        raise KilnError(f"{where} must be an array of tables (`[[tool.{section}.index]]`)")
    base = pyproject.parent
    indexes = tuple(
        parse_index_entry(entry, f"{where}[{number}]", base, str(pyproject))
        for number, entry in enumerate(raw_indexes)
    )
    pins = _index_pins(data, pyproject)
    return ProjectIndexConfig(indexes=indexes, pins=pins, path=pyproject)


def _table(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise KilnError(f"{where} must be a table")
    return cast("Mapping[str, Any]", value)


def parse_index_entry(entry: object, where: str, base: Path, origin: str) -> Index:
    """One ``[[index]]`` table (of a ``pyproject.toml`` or a configuration file)."""
    table = _table(entry, where)
    reject_unknown_keys(table, where, _INDEX_KEYS)
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


def _index_pins(
    data: Mapping[str, Any], pyproject: Path
) -> dict[NormalizedName, tuple[SourcePin, ...]]:
    """The ``index = "..."`` entries of the sources table, parsed by :mod:`kiln.core.sources`
    (one parser for every kind of source; git, path and url entries are not index pins).

    Index names are checked later, against every configured index (a workspace member may
    pin an index its root defines)."""
    from kiln.core.sources.model import IndexSource
    from kiln.core.sources.parse import parse_sources

    sources = parse_sources(data, pyproject, index_names=None)
    pins: dict[NormalizedName, tuple[SourcePin, ...]] = {}
    for package, entries in sources.entries.items():
        found = tuple(
            SourcePin(index=e.source.index, marker=e.marker, extra=e.extra, group=e.group)
            for e in entries
            if isinstance(e.source, IndexSource)
        )
        if found:
            pins[package] = found
    return pins
