"""``IndexPackageSource``: the resolver's view of the configured indexes."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.index.cache import FileCache, HttpCache, default_cache_dir
from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.config import Index
from kiln.core.index.credentials import CredentialStore
from kiln.core.index.download import Downloader, ProgressCallback
from kiln.core.index.http import HttpSession, HttpSettings
from kiln.core.index.listing import Listing, ListingFetcher
from kiln.core.index.locations import IndexLocations
from kiln.core.index.metadata import MetadataFetcher
from kiln.core.index.pagecache import ParsedPageCache
from kiln.core.statmemo import StatMemo
from kiln.core.types import DistFile
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.metadata import Metadata


#: The ``route`` that lets the source's own pins decide.
PINS: Literal["pins"] = "pins"
#: Where one package comes from: its pinned index, None for the ordinary indexes, or
#: :data:`PINS`.
Route = Index | None | Literal["pins"]


class IndexPackageSource:
    """Implements :class:`kiln.core.types.PackageSource` over the configured indexes.

    ``files(name)`` applies pins and the index strategy; ``metadata(file)`` and
    ``download(file)`` fetch what the resolver and the installer need. Thread-safe.
    """

    def __init__(
        self,
        locations: IndexLocations,
        options: ClientOptions | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        marker_environment: Mapping[str, str] | None = None,
        extras: Collection[str] = (),
    ) -> None:
        self.locations = locations
        self.options = options or ClientOptions()
        self.marker_environment = marker_environment
        self.extras = frozenset(extras)
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        if self.options.no_cache:
            self._temp = tempfile.TemporaryDirectory(prefix="kiln-cache-")
            root = Path(self._temp.name)
        else:
            root = self.options.cache_dir or default_cache_dir()
        self.cache_dir = root
        env = os.environ if environ is None else environ
        self.session = HttpSession(
            CredentialStore(
                locations.all_indexes(), env, keyring=locations.keyring_provider
            ),
            HttpCache(root),
            HttpSettings(
                timeout=self.options.timeout,
                retries=self.options.retries,
                offline=self.options.offline,
                refresh=self.options.refresh,
                refresh_packages=self.options.refresh_packages,
            ),
            environ=env,
        )
        self.downloader = Downloader(self.session, FileCache(root), refresh=self.options.refresh)
        self.listings = ListingFetcher(self.session, ParsedPageCache(root))
        self.metadata_fetcher = MetadataFetcher(self.session, self.downloader, StatMemo(root))
        self._memo: dict[
            tuple[NormalizedName, SpecifierSet | None, Route], list[tuple[Index, list[DistFile]]]
        ] = {}
        self._lock = threading.Lock()
        #: name -> (index label, HTTP status) for indexes that refused access.
        self._denied: dict[NormalizedName, tuple[str, int]] = {}
        #: name -> (index label, its versions) when ``first-index`` took a package from an
        #: index that is not the last, so the later ones were never asked.
        self._first_only: dict[NormalizedName, tuple[str, list[Version]]] = {}

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        self.session.close()
        if self._temp is not None:
            self._temp.cleanup()
            self._temp = None

    def __enter__(self) -> IndexPackageSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- diagnostics -------------------------------------------------------------------

    def resolution_hints(self) -> list[str]:
        """What the index client saw that may explain a failed resolution."""
        with self._lock:
            denied = sorted(self._denied.items())
            first_only = sorted(self._first_only.items())
        hints = [
            f"index `{label}` answered {status} for `{name}` (access denied), so later indexes "
            f"were not searched for it; check the index's credentials "
            f"(`KILN_INDEX_<NAME>_USERNAME`/`_PASSWORD`, the URL, `.netrc`, or a keyring: "
            f"`--keyring-provider subprocess`)"
            for name, (label, status) in denied
        ]
        if first_only:
            hints.append(_first_index_hint(first_only))
        return hints

    # -- PackageSource ---------------------------------------------------------------

    def files(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[DistFile]:
        """All allowed files of ``name``, ordered by index priority (then filename).

        Under ``first-index`` they come from one index (plus find-links); under the
        unsafe strategies from every index that has the package. With ``versions``, only
        the files of versions it contains: which indexes serve ``name`` is decided on
        the whole pages, as without it, but the files of other versions of a large page
        are never built.
        """
        return [f for _index, files in self.files_by_index(name, versions) for f in files]

    def files_by_index(
        self, name: NormalizedName, versions: SpecifierSet | None = None, *,
        route: Route = PINS,
    ) -> list[tuple[Index, list[DistFile]]]:
        """Like :meth:`files`, grouped by index in priority order (find-links last).

        ``route``: the index ``name`` is pinned to, or None for none (the ordinary
        indexes), instead of what the pins say for the configured environment."""
        key = (canonicalize_name(name), versions, route)
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        result = self._collect(key[0], versions, route)
        with self._lock:
            self._memo[key] = result
        return result

    def routed(self, routes: Mapping[NormalizedName, Index | None]) -> RoutedSource:
        """A view of this source where each package of ``routes`` is pinned to its index
        (None: to none), whatever the pins say: one part of a universal resolution."""
        return RoutedSource(self, routes)

    def version_order(
        self, name: NormalizedName, versions: SpecifierSet | None = None, *,
        route: Route = PINS,
    ) -> list[Version] | None:
        """Versions of ``name`` in the order the strategy prefers them (best first).

        ``first-index`` and ``unsafe-first-match`` walk the indexes in priority order,
        highest version first within each; ``unsafe-best-match`` sorts every version
        globally. A resolver that honours index order consults this order. None when
        the order is simply highest first (the files come from one location).
        """
        groups = self.files_by_index(name, versions, route=route)
        if len(groups) <= 1:
            return None
        if self.locations.strategy_for(name) == "unsafe-best-match":
            return sorted({f.version for _i, files in groups for f in files}, reverse=True)
        order: dict[Version, None] = {}  # insertion-ordered set: first occurrence wins
        for _index, files in groups:
            for version in sorted({f.version for f in files}, reverse=True):
                order.setdefault(version, None)
        return list(order)

    def metadata(self, file: DistFile) -> Metadata:
        return self.metadata_fetcher.metadata(file)

    # -- downloads -------------------------------------------------------------------

    def download(self, file: DistFile) -> Path:
        """A local, hash-verified copy of ``file``."""
        return self.downloader.download(file)

    def download_many(
        self, files: Sequence[DistFile], *, progress: ProgressCallback | None = None
    ) -> list[Path]:
        return self.downloader.download_many(files, progress=progress)

    # -- internals -------------------------------------------------------------------

    def _collect(
        self, name: NormalizedName, versions: SpecifierSet | None, route: Route
    ) -> list[tuple[Index, list[DistFile]]]:
        if route == PINS:
            pinned = self.locations.pinned_index(
                name, environment=self.marker_environment, extras=self.extras
            )
        else:
            pinned = route
        if pinned is not None:
            listing = self.listings.fetch(pinned, name, versions)
            if listing.offline_error is not None:
                raise listing.offline_error
            return [(pinned, list(listing.files))] if listing.outcome == "found" else []
        indexes = self.locations.indexes_for(name)
        if self.locations.strategy_for(name) == "first-index":
            found = self._first_index(indexes, name, versions)
        else:
            found = self._every_index(indexes, name, versions)
        for flat in self.locations.find_links:
            listing = self.listings.fetch(flat, name, versions)
            if listing.files:
                found.append((flat, list(listing.files)))
        return found

    def _first_index(
        self, indexes: Sequence[Index], name: NormalizedName, versions: SpecifierSet | None
    ) -> list[tuple[Index, list[DistFile]]]:
        offline: KilnError | None = None
        for position, index in enumerate(indexes):
            listing = self.listings.fetch(index, name, versions)
            if listing.outcome == "found":
                if position < len(indexes) - 1:
                    found = sorted({f.version for f in listing.files}, reverse=True)
                    with self._lock:
                        self._first_only[name] = (index.label, found)
                return [(index, list(listing.files))]
            if listing.outcome == "denied":
                # Dependency-confusion defence: never fall through to later indexes.
                with self._lock:
                    self._denied[name] = (index.label, listing.status or 401)
                return []
            offline = offline or listing.offline_error
        if offline is not None and not self.locations.find_links:
            raise offline
        return []

    def _every_index(
        self, indexes: Sequence[Index], name: NormalizedName, versions: SpecifierSet | None
    ) -> list[tuple[Index, list[DistFile]]]:
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(indexes)))) as pool:
            listings: list[Listing] = list(
                pool.map(lambda i: self.listings.fetch(i, name, versions), indexes)
            )
        return [(item.index, list(item.files)) for item in listings if item.outcome == "found"]


#: How many packages and versions a ``first-index`` hint names before it counts the rest.
_SHOWN = 5


def _first_index_hint(first_only: Sequence[tuple[NormalizedName, tuple[str, list[Version]]]]) -> str:
    """Which packages came from one index only under ``first-index``, and how to change it."""

    def versions(found: list[Version]) -> str:
        if not found:
            return "no usable files"
        shown = ", ".join(str(v) for v in found[:_SHOWN])
        more = len(found) - _SHOWN
        return f"{shown} and {more} more" if more > 0 else shown

    packages = [
        f"`{name}` from index `{label}` (which has {versions(found)})"
        for name, (label, found) in first_only[:_SHOWN]
    ]
    if len(first_only) > _SHOWN:
        packages.append(f"{len(first_only) - _SHOWN} more packages")
    taken = packages[0] if len(packages) == 1 else ", ".join(packages[:-1]) + " and " + packages[-1]
    them = "it" if len(first_only) == 1 else "them"
    return (
        f"with the index strategy `first-index`, kiln took {taken}, and searched no later "
        f"index for {them} (a defence against dependency confusion); if every index is "
        "trusted, `--index-strategy unsafe-best-match` (or "
        "`KILN_INDEX_STRATEGY=unsafe-best-match`) takes the best version from all of them"
    )


class RoutedSource:
    """:class:`IndexPackageSource` with some packages pinned to an index each (see
    :meth:`IndexPackageSource.routed`); everything else is the source's."""

    def __init__(
        self, source: IndexPackageSource, routes: Mapping[NormalizedName, Index | None]
    ) -> None:
        self.source = source
        self.routes = dict(routes)

    def _route(self, name: NormalizedName) -> Route:
        return self.routes.get(canonicalize_name(name), PINS)

    def files(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[DistFile]:
        groups = self.source.files_by_index(name, versions, route=self._route(name))
        return [f for _index, files in groups for f in files]

    def version_order(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> list[Version] | None:
        return self.source.version_order(name, versions, route=self._route(name))

    def metadata(self, file: DistFile) -> Metadata:
        return self.source.metadata(file)

    def download(self, file: DistFile) -> Path:
        return self.source.download(file)

    def resolution_hints(self) -> list[str]:
        return self.source.resolution_hints()
