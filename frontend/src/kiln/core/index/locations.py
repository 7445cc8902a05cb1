"""Merging command-line, environment and project settings into an ordered index list.

Priority: command-line indexes before configured ones, each in definition order; the
default index (PyPI unless replaced) is always searched last; explicit indexes only serve
packages pinned to them; routed packages (``--torch-backend``) come only from their own
indexes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from packaging.utils import NormalizedName

from kiln.core.index.config import (
    NO_PINS,
    PYPI,
    STRATEGIES,
    Index,
    IndexStrategy,
    ProjectIndexConfig,
    SourcePin,
    location_to_url,
    parse_index_arg,
)
from kiln.core.index.configfiles import FileSettings
from kiln.core.index.keyring import KeyringProvider, provider_from_env
from kiln.core.record import Record
from kiln.errors import KilnError

#: Shared empty defaults of :class:`IndexLocations` (a named tuple's defaults are shared by
#: every instance, so they must be immutable).
NO_NAMED: Mapping[str, Index] = MappingProxyType({})
NO_ROUTES: Mapping[NormalizedName, tuple[Index, ...]] = MappingProxyType({})


class IndexOptions(Record):
    """Index-related command-line options (the CLI fills it; env vars are fallbacks).

    A record (:mod:`kiln.core.record`), not a named tuple, which cannot have a field named
    ``index``. Instances are not changed once made; a changed copy lists every field."""

    __slots__ = (
        "default_index",
        "extra_index_url",
        "find_links",
        "index",
        "index_url",
        "keyring_provider",
        "no_index",
        "strategy",
        "torch_backend",
    )
    _fields = (
        "index", "default_index", "index_url", "extra_index_url", "find_links", "no_index",
        "strategy", "torch_backend", "keyring_provider",
    )

    def __init__(
        self,
        index: Sequence[str] = (),
        default_index: str | None = None,
        index_url: str | None = None,
        extra_index_url: Sequence[str] = (),
        find_links: Sequence[str] = (),
        no_index: bool = False,
        strategy: IndexStrategy | None = None,
        torch_backend: str | None = None,
        keyring_provider: KeyringProvider | None = None,
    ) -> None:
        self.index = index
        self.default_index = default_index
        self.index_url = index_url
        self.extra_index_url = extra_index_url
        self.find_links = find_links
        self.no_index = no_index
        self.strategy = strategy
        #: ``--torch-backend``: ``auto`` or a backend of :data:`kiln.core.index.torch.MODES`.
        self.torch_backend = torch_backend
        #: ``--keyring-provider`` (:mod:`kiln.core.index.keyring`).
        self.keyring_provider = keyring_provider

    __hash__ = None  # type: ignore[assignment]  # the sequences may be lists


def with_env_fallbacks(options: IndexOptions, environ: Mapping[str, str]) -> IndexOptions:
    """Fill options not given on the command line from ``KILN_*`` variables."""
    def single(value: str | None, var: str) -> str | None:
        if value is not None:
            return value
        return environ.get(var, "").strip() or None

    strategy = options.strategy
    if strategy is None and environ.get("KILN_INDEX_STRATEGY"):
        raw = environ["KILN_INDEX_STRATEGY"].strip()
        if raw not in STRATEGIES:
            raise KilnError(
                f"`KILN_INDEX_STRATEGY`: unknown index strategy `{raw}`",
                hint="use one of " + ", ".join(f"`{s}`" for s in STRATEGIES),
            )
        strategy = raw
    torch_backend = options.torch_backend
    if torch_backend is None and environ.get("KILN_TORCH_BACKEND", "").strip():
        from kiln.core.index.torch import check_mode

        torch_backend = check_mode(environ["KILN_TORCH_BACKEND"], "`KILN_TORCH_BACKEND`")
    return IndexOptions(
        index=options.index or tuple(environ.get("KILN_INDEX", "").split()),
        default_index=single(options.default_index, "KILN_DEFAULT_INDEX"),
        index_url=single(options.index_url, "KILN_INDEX_URL"),
        extra_index_url=options.extra_index_url
        or tuple(v for v in environ.get("KILN_EXTRA_INDEX_URL", "").split(" ") if v),
        find_links=options.find_links
        or tuple(v.strip() for v in environ.get("KILN_FIND_LINKS", "").split(",") if v.strip()),
        no_index=options.no_index,
        strategy=strategy,
        torch_backend=torch_backend,
        keyring_provider=options.keyring_provider or provider_from_env(environ),
    )


class IndexLocations(NamedTuple):
    """Where packages come from, in search order."""

    #: Searched for every package, in order; the default index is last.
    indexes: tuple[Index, ...] = (PYPI,)
    #: Only reachable through pins.
    explicit: tuple[Index, ...] = ()
    #: ``--find-links`` locations; merged into every package's files.
    find_links: tuple[Index, ...] = ()
    #: Named indexes that pins may refer to.
    named: Mapping[str, Index] = NO_NAMED
    pins: Mapping[NormalizedName, tuple[SourcePin, ...]] = NO_PINS
    strategy: IndexStrategy = "first-index"
    #: Packages that come only from these indexes, searched with ``unsafe-first-match``
    #: (``--torch-backend``); a pin still wins.
    routed: Mapping[NormalizedName, tuple[Index, ...]] = NO_ROUTES
    #: Which keyring credentials are asked from (``--keyring-provider``).
    keyring_provider: KeyringProvider = "auto"

    def indexes_for(self, name: NormalizedName) -> tuple[Index, ...]:
        """The indexes searched for ``name`` when it is not pinned, in order."""
        return self.routed.get(name, self.indexes)

    def strategy_for(self, name: NormalizedName) -> IndexStrategy:
        """The strategy ``name`` is searched with: a routed package's first index with a
        fitting version wins, its versions before those of the next."""
        return "unsafe-first-match" if name in self.routed else self.strategy

    def pinned_index(
        self,
        name: NormalizedName,
        *,
        environment: Mapping[str, str] | None = None,
        extras: Collection[str] = (),
    ) -> Index | None:
        """The index ``name`` is pinned to in this environment, if any."""
        for pin in self.pins.get(name, ()):
            if pin.extra is not None and pin.extra not in extras:
                continue
            if pin.marker is not None and not pin.marker.evaluate(
                dict(environment) if environment is not None else None
            ):
                continue
            return self.named[pin.index]
        return None

    def with_indexes(self, indexes: Sequence[Index]) -> IndexLocations:
        """These locations with ``indexes`` (a workspace member's) added where no index of
        the same name is known yet: explicit ones for pins only, the others searched after
        the known ones, before the default index."""
        added = [i for i in indexes if i.name and i.name not in self.named]
        if not added:
            return self
        named = {**self.named, **{i.name: i for i in added if i.name}}
        explicit = self.explicit + tuple(i for i in added if i.explicit)
        searched = [i for i in added if not i.explicit and not i.default]
        if not searched or not self.indexes:
            return self._replace(named=named, explicit=explicit)
        last = self.indexes[-1]
        ordered = (
            [*self.indexes[:-1], *searched, last] if last.default or last == PYPI
            else [*self.indexes, *searched]
        )
        return self._replace(indexes=_dedupe_urls(ordered), named=named, explicit=explicit)

    def all_indexes(self) -> tuple[Index, ...]:
        routed = {index.url: index for indexes in self.routed.values() for index in indexes}
        return self.indexes + self.explicit + self.find_links + tuple(routed.values())


def resolve_locations(
    options: IndexOptions,
    project: ProjectIndexConfig | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    files: FileSettings | None = None,
    sys_platform: str | None = None,
) -> IndexLocations:
    """Combine options (with env fallbacks), project settings and configuration files
    (:mod:`kiln.core.index.configfiles`) into :class:`IndexLocations`.

    Indexes of configuration files come after the project's, before extra index URLs;
    they cannot be the target of a source pin (pins name the project's own indexes).
    ``sys_platform`` is the target's (default: this machine's): ``--torch-backend auto``
    chooses from it.
    """
    env = os.environ if environ is None else environ
    base = cwd or Path.cwd()
    opts = with_env_fallbacks(options, env)
    config = files or FileSettings()
    cli: list[Index] = []
    if opts.default_index:
        cli.append(parse_index_arg(opts.default_index, flag="--default-index", base=base,
                                   default=True))
    cli.extend(parse_index_arg(v, flag="--index", base=base) for v in opts.index)
    configured = list(project.indexes) if project else []
    extra = [
        parse_index_arg(v, flag="--extra-index-url", base=base) for v in opts.extra_index_url
    ]
    legacy = (
        [Index(url=location_to_url(opts.index_url, base, where="`--index-url`"), default=True,
               origin="--index-url")]
        if opts.index_url
        else []
    )
    # Configuration files come after everything given on the command line (or through
    # `KILN_*` variables), so a command-line default index wins over a configured one.
    from_files = [
        *config.indexes,
        *(Index(url=url, origin=_origin(config, "extra-index-url"))
          for url in config.extra_index_urls),
        *([Index(url=config.index_url, default=True, origin=_origin(config, "index-url"))]
          if config.index_url and not opts.index_url else []),
    ]
    pinnable = _dedupe_names([*cli, *configured, *extra, *legacy])
    merged = _dedupe_names([*pinnable, *from_files])
    named = {i.name: i for i in merged if i.name}
    pins = dict(project.pins) if project else {}
    _check_pins(pins, {i.name: i for i in pinnable if i.name}, project)
    find_links = tuple(
        Index(url=location_to_url(v, base, where="`--find-links`"), format="flat",
              origin="--find-links")
        for v in opts.find_links
    ) + tuple(
        Index(url=url, format="flat", origin=_origin(config, "find-links"))
        for url in config.find_links
    )
    # The command line (and `KILN_*` variables), then the project, then the files.
    strategy = (
        opts.strategy or (project.strategy if project else None) or config.strategy
        or "first-index"
    )
    keyring = (
        opts.keyring_provider or (project.keyring_provider if project else None)
        or config.keyring_provider or "auto"
    )
    if opts.no_index or config.no_index:
        return IndexLocations((), (), find_links, named, pins, strategy, keyring_provider=keyring)
    default = next((i for i in merged if i.default), PYPI)
    implicit = [i for i in merged if not i.default and not i.explicit]
    searchable = implicit if default.explicit else [*implicit, default]
    explicit = tuple(i for i in merged if i.explicit)
    routed: dict[NormalizedName, tuple[Index, ...]] = {}
    torch_backend = opts.torch_backend or config.torch_backend
    if torch_backend is not None:
        from kiln.core.index.torch import PACKAGES, backend_indexes

        torch = backend_indexes(
            torch_backend, sys_platform=sys_platform or sys.platform, environ=env
        )
        routed = dict.fromkeys(PACKAGES, torch)
    return IndexLocations(
        _dedupe_urls(searchable), explicit, find_links, named, pins, strategy, routed,
        keyring_provider=keyring,
    )


def _origin(config: FileSettings, key: str) -> str:
    where = ", ".join(str(path) for path in config.files) or "configuration file"
    return f"`{key}` of {where}"


def _dedupe_names(indexes: list[Index]) -> list[Index]:
    seen: set[str] = set()
    kept: list[Index] = []
    for index in indexes:
        if index.name:
            if index.name in seen:
                continue
            seen.add(index.name)
        kept.append(index)
    return kept


def _dedupe_urls(indexes: list[Index]) -> tuple[Index, ...]:
    seen: set[str] = set()
    kept: list[Index] = []
    for index in indexes:
        key = index.url.rstrip("/")
        if key not in seen:
            seen.add(key)
            kept.append(index)
    return tuple(kept)


def _check_pins(
    pins: Mapping[NormalizedName, tuple[SourcePin, ...]],
    named: Mapping[str, Index],
    project: ProjectIndexConfig | None,
) -> None:
    where = f"{project.path}: " if project and project.path else ""
    for package, entries in pins.items():
        for pin in entries:
            if pin.index not in named:
                raise KilnError(
                    f"{where}`{package}` is pinned to index `{pin.index}`, "
                    "which is not defined",
                    hint=f"add a `[[tool.kiln.index]]` entry with `name = \"{pin.index}\"`",
                )
