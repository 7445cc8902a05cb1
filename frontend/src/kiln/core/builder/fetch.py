"""Making a source local: the project directory, wheel or sdist a build starts from.

A direct reference (``name @ url``) and a build requirement's ``path``, ``git``, ``url`` or
``index`` source are fetched here, and nowhere else. Everything that travels over HTTP goes
through one index client (:class:`~kiln.core.index.source.IndexPackageSource`): its session,
with the run's credentials and pooled connections, and its download cache (``files-v1``),
where a file is checked against the hashes its URL gives (``#sha256=...``). ``file:`` URLs
and paths are used in place; git sources are checked out into the git cache
(:mod:`kiln.core.sources.git`). Nothing here builds: sdists are returned as they are.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.tags import sys_tags
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.index.redaction import redact, strip_credentials
from kiln.core.sources.model import GitSource, PathSource, UrlSource
from kiln.core.types import DistFile
from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.core.index.config import Index
    from kiln.core.index.locations import IndexLocations
    from kiln.core.index.source import IndexPackageSource
    from kiln.core.sources.lower import DirectSource

WHEEL_SUFFIX = ".whl"
SDIST_SUFFIXES = (".tar.gz", ".zip")
#: The hash algorithms a URL fragment may name (``#sha256=...``).
FRAGMENT_HASHES = ("sha256", "sha384", "sha512", "md5")


def is_distribution(name: str) -> bool:
    return name.endswith(WHEEL_SUFFIX) or name.endswith(SDIST_SUFFIXES)


def wheel_identity(wheel: Path) -> str:
    """A digest of a wheel's member names and contents, independent of zip timestamps."""
    import zipfile

    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(wheel) as archive:
            for info in sorted(archive.infolist(), key=lambda item: item.filename):
                digest.update(info.filename.encode() + b"\0")
                digest.update(hashlib.sha256(archive.read(info)).digest())
    except (OSError, zipfile.BadZipFile) as exc:
        raise KilnError(f"`{wheel}` is not a valid wheel: {exc}") from None
    return digest.hexdigest()


def _fragment(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its fragment, and the fragment's ``key=value`` pairs."""
    base, _, fragment = url.partition("#")
    pairs: dict[str, str] = {}
    for part in fragment.split("&"):
        key, _, value = part.partition("=")
        if key and value:
            pairs.setdefault(key, value)
    return base, pairs


def parse_direct_url(url: str) -> DirectSource:
    """The source a direct reference's URL names: a ``file:`` path, a ``git+`` repository
    at an optional ``@revision``, or an archive URL; each with its ``#subdirectory=``."""
    from kiln.core.fileio import file_url_path

    if url.startswith("git+"):
        parts = urlsplit(url.removeprefix("git+"))
        subdirectory = _fragment(url)[1].get("subdirectory")
        path, at, revision = parts.path.rpartition("@")
        if not at or "/" in revision:
            path, revision = parts.path, ""
        repository = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        return GitSource(url=repository, rev=revision or None, subdirectory=subdirectory)
    base, pairs = _fragment(url)
    if url.startswith("file:"):
        return PathSource(raw=url, path=file_url_path(base))
    return UrlSource(url=url, subdirectory=pairs.get("subdirectory"))


#: The hashes of an archive given none (shared by instances, so immutable).
_NO_HASHES: Mapping[str, str] = MappingProxyType({})


class RemoteArchive(NamedTuple):
    """A wheel or sdist at a URL, to download (a :class:`~kiln.core.index.download.RemoteFile`)."""

    name: str
    url: str
    filename: str
    hashes: Mapping[str, str] = _NO_HASHES


class Fetched(NamedTuple):
    """A source made local."""

    #: A project directory, a wheel or an sdist.
    path: Path
    #: The PEP 610 ``direct_url.json`` data of what was fetched (without ``editable``).
    direct_url: dict[str, object]
    #: The directory inside an sdist to build (``subdirectory``), if any.
    subdirectory: str | None = None
    #: For a git source: the commit checked out.
    commit: str | None = None

    @property
    def is_archive(self) -> bool:
        return not self.path.is_dir()


def archive_url_data(url: str, path: Path) -> dict[str, object]:
    """PEP 610 data for the archive at ``url``, downloaded (or found) as ``path``."""
    from kiln.core.fileio import file_sha256

    return {"url": url, "archive_info": {"hashes": {"sha256": file_sha256(path)}}}


class Fetcher:
    """Fetches sources through one index client, opened on first use when none is given.

    Thread-safe: the resolver builds sdists from several threads at once.
    """

    def __init__(
        self,
        client: IndexPackageSource | None = None,
        *,
        offline: bool = False,
        refresh: bool = False,
        locations: IndexLocations | None = None,
        locate: Callable[[], IndexLocations] | None = None,
    ) -> None:
        """``client``: the run's index client (``kiln pip``). Without one, a client for
        ``locations`` (None: the index settings of the run,
        :func:`~kiln.core.builder.installer.run_index`) is opened the first time something
        is downloaded, and closed with the fetcher; ``locate`` works out the indexes instead
        of that function. ``refresh`` downloads URL archives again."""
        self._client = client
        self._locations = locations
        self._locate = locate
        self._owned: IndexPackageSource | None = None
        self.offline = offline if client is None else client.options.offline
        self.refresh = refresh
        self._lock = threading.Lock()

    @property
    def client(self) -> IndexPackageSource:
        with self._lock:
            if self._client is None:
                self._client = self._owned = self._new_client()
            return self._client

    def _new_client(self) -> IndexPackageSource:
        from kiln.core.builder.installer import run_index
        from kiln.core.index.clientoptions import ClientOptions
        from kiln.core.index.source import IndexPackageSource

        options = ClientOptions(offline=self.offline, refresh=self.refresh)
        locations = self._locations or (self._locate or run_index)()
        return IndexPackageSource(locations, options)

    def close(self) -> None:
        with self._lock:
            owned, self._owned = self._owned, None
            if owned is not None:
                self._client = None
        if owned is not None:
            owned.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sources ----------------------------------------------------------------------------

    def fetch(self, source: DirectSource, *, name: str) -> Fetched:
        """A local copy of ``source``, a source of the package ``name``."""
        if isinstance(source, GitSource):
            return self.checkout(source)
        if isinstance(source, PathSource):
            path = source.path
            if not path.exists():
                raise KilnError(f"`{path}` does not exist (from `{source.raw}`)")
            if path.is_dir():
                return Fetched(path, {"url": path.as_uri(), "dir_info": {}})
            return Fetched(path, archive_url_data(path.as_uri(), path))
        return self.archive(source, name=name)

    def checkout(self, source: GitSource) -> Fetched:
        """The tree of ``source``'s commit, from the git cache."""
        from kiln.core.sources import git

        checkout = git.fetch(source, offline=self.offline)
        vcs_info: dict[str, object] = {"vcs": "git", "commit_id": checkout.commit}
        reference = source.reference
        if reference is not None:
            vcs_info["requested_revision"] = reference[1]
        data: dict[str, object] = {"url": checkout.url, "vcs_info": vcs_info}
        if source.subdirectory:
            data["subdirectory"] = source.subdirectory
        return Fetched(checkout.project, data, commit=checkout.commit)

    def archive(self, source: UrlSource, *, name: str) -> Fetched:
        """The archive at ``source.url``: downloaded into the index client's cache and
        checked against the hashes of its fragment; a ``file:`` URL is used in place."""
        from kiln.core.fileio import file_url_path

        base, pairs = _fragment(source.url)
        subdirectory = source.subdirectory or pairs.get("subdirectory")
        if urlsplit(base).scheme.lower() == "file":
            path = file_url_path(base)
            if not path.is_file():
                raise KilnError(f"`{source.url}` does not exist")
            return Fetched(path, archive_url_data(base, path), subdirectory)
        filename = unquote(urlsplit(base).path.rstrip("/").rsplit("/", 1)[-1])
        if not is_distribution(filename):
            raise KilnError(
                f"`{redact(base)}` does not name a wheel or a source distribution",
                hint="a URL must end in `.whl`, `.tar.gz` or `.zip`",
            )
        hashes = {key: pairs[key] for key in FRAGMENT_HASHES if key in pairs}
        path = self.download(RemoteArchive(name, base, filename, hashes))
        return Fetched(path, archive_url_data(strip_credentials(base), path), subdirectory)

    def download(self, file: DistFile | RemoteArchive) -> Path:
        """A local, hash-verified copy of ``file`` (from the cache when possible)."""
        downloader = self.client.downloader
        if self.refresh and not downloader.refresh:
            from kiln.core.index.download import Downloader

            downloader = Downloader(downloader.session, downloader.cache, refresh=True)
        return downloader.download(file)

    # -- index pins -------------------------------------------------------------------------

    def pinned(
        self, name: NormalizedName, index: Index, allowed: Callable[[Version], bool]
    ) -> tuple[list[Version], Path | None]:
        """The versions ``index`` offers for ``name``, and the best allowed file downloaded.

        Only ``index`` is asked: a pinned package never comes from anywhere else.
        """
        client = self.client
        client.session.credentials.add(index)
        listing = client.listings.fetch(index, name)
        if listing.offline_error is not None:
            raise listing.offline_error
        if listing.outcome == "denied":
            from kiln.core.index.config import env_key

            variables = f"KILN_INDEX_{env_key(index.name)}_USERNAME`/`_PASSWORD" if index.name else ""
            raise KilnError(
                f"index `{index.label}` answered {listing.status or 401} for `{name}` "
                "(access denied)",
                hint="check the index's credentials ("
                + (f"`{variables}`, " if variables else "")
                + "the URL, `.netrc`, or a keyring: `--keyring-provider subprocess`)",
            )
        files = list(listing.files) if listing.outcome == "found" else []
        offered = sorted({file.version for file in files}, reverse=True)
        chosen = pick_file(files, allowed)
        if chosen is None:
            return offered, None
        return offered, self.download(chosen)


def pick_file(files: Sequence[DistFile], allowed: Callable[[Version], bool]) -> DistFile | None:
    """The best file: the highest allowed version, a compatible wheel before an sdist."""
    import sys

    tags = {tag: rank for rank, tag in enumerate(sys_tags())}
    python = Version(".".join(str(part) for part in sys.version_info[:3]))
    best: tuple[Version, int, int] | None = None
    chosen: DistFile | None = None
    for file in files:
        if file.yanked is not None or not allowed(file.version):
            continue
        if file.requires_python is not None and python not in file.requires_python:
            continue
        if file.tags is not None:
            ranks = [tags[tag] for tag in file.tags if tag in tags]
            if not ranks:
                continue
            score = (file.version, 1, -min(ranks))
        elif file.filename.endswith(SDIST_SUFFIXES):
            score = (file.version, 0, 0)
        else:
            continue
        if best is None or score > best:
            best, chosen = score, file
    return chosen
