"""Fetching the files of one package from one index (simple or flat, remote or local)."""

from __future__ import annotations

import threading
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from kiln.core.fileio import file_url_path
from kiln.core.index.cache import CachedResponse
from kiln.core.index.config import Index
from kiln.core.index.http import HttpSession, OfflineError
from kiln.core.index.narrowing import narrow
from kiln.core.index.pagecache import ParsedPageCache
from kiln.core.index.redaction import redact
from kiln.core.index.simple import (
    ACCEPT,
    RawFile,
    parse_html,
    parse_page,
    to_dist_files,
)
from kiln.core.record import Shown
from kiln.core.types import DistFile
from kiln.errors import KilnError

Outcome = Literal["found", "not-found", "denied"]


class Listing(Shown):
    """What one index said about one package. (A plain class: a named tuple cannot have a
    field named ``index``.)"""

    __slots__ = ("files", "index", "offline_error", "outcome", "status")
    _fields = ("index", "outcome", "files", "status", "offline_error")

    def __init__(
        self,
        index: Index,
        outcome: Outcome,
        files: tuple[DistFile, ...] = (),
        status: int = 200,
        offline_error: OfflineError | None = None,
    ) -> None:
        self.index = index
        self.outcome = outcome
        self.files = files
        self.status = status
        #: Set when the page was missing from the cache in offline mode.
        self.offline_error = offline_error


class ListingFetcher:
    """Project pages and flat listings, memoised for the run."""

    def __init__(self, session: HttpSession, pages: ParsedPageCache | None = None) -> None:
        self.session = session
        self.pages = pages
        self._flat: dict[str, list[DistFile]] = {}
        #: Project pages already fetched in this run, by URL: a second look at the same
        #: page (with other versions wanted, or none) needs no second request.
        self._pages: dict[str, CachedResponse] = {}
        self._flat_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def fetch(
        self, index: Index, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Listing:
        """What ``index`` has of ``name``; with ``versions``, only the files of the versions
        it contains (the outcome still says whether the index has the project at all)."""
        try:
            if index.format == "flat":
                files = [f for f in self._flat_files(index) if f.name == name]
                outcome: Outcome = "found" if files else "not-found"
                return Listing(index, outcome, tuple(narrow(files, versions)))
            if index.is_local:
                return self._local_simple(index, name, versions)
            return self._remote_simple(index, name, versions)
        except OfflineError as exc:
            return Listing(index, "not-found", offline_error=exc)

    def _remote_simple(
        self, index: Index, name: NormalizedName, versions: SpecifierSet | None
    ) -> Listing:
        url = f"{index.url.rstrip('/')}/{name}/"
        with self._lock:
            page = self._pages.get(url)
        if page is None:
            page = self.session.get_cached(url, ACCEPT, name=name)
            with self._lock:
                self._pages[url] = page
        if page.status == 200:
            content_type = page.headers.get("content-type", "")

            def parse() -> list[DistFile]:
                return parse_page(page.body, content_type, page.url, name, index.label)

            if self.pages is None:
                files = narrow(parse(), versions)
            else:
                files = self.pages.files(
                    name, page.url, content_type, page.body, index.label, parse, versions,
                    digest=page.sha256,
                )
            return Listing(index, "found", tuple(files))
        if index.ignores(page.status):
            return Listing(index, "not-found", status=page.status)
        if page.status in (401, 403):
            return Listing(index, "denied", status=page.status)
        raise KilnError(
            f"index `{index.label}` answered {page.status} for `{redact(url)}`",
            hint="add the code to the index's `ignore-error-codes` to skip such answers",
        )

    def _local_simple(
        self, index: Index, name: NormalizedName, versions: SpecifierSet | None
    ) -> Listing:
        page = file_url_path(index.url) / name / "index.html"
        if not page.is_file():
            return Listing(index, "not-found", status=404)
        text = page.read_text(encoding="utf-8", errors="replace")
        files = to_dist_files(parse_html(text, page.as_uri()), name, index.label)
        return Listing(index, "found", tuple(narrow(files, versions)))

    def _flat_files(self, index: Index) -> list[DistFile]:
        """Every file of a flat location, read once per run: the first thread to ask reads
        it while the others wait, instead of every thread reading it at the same time."""
        with self._lock:
            cached = self._flat.get(index.url)
            if cached is not None:
                return cached
            guard = self._flat_locks.setdefault(index.url, threading.Lock())
        with guard:
            with self._lock:
                cached = self._flat.get(index.url)
            if cached is not None:
                return cached
            files = to_dist_files(self._flat_raw(index), None, index.label)
            with self._lock:
                self._flat[index.url] = files
            return files

    def _flat_raw(self, index: Index) -> list[RawFile]:
        if index.is_local:
            path = file_url_path(index.url)
            if path.is_dir():
                return [
                    RawFile(filename=entry.name, url=entry.resolve().as_uri())
                    for entry in sorted(path.iterdir())
                    if entry.is_file()
                ]
            if path.is_file():
                return parse_html(path.read_text(encoding="utf-8", errors="replace"),
                                  path.as_uri())
            raise KilnError(
                f"find-links location `{path}` does not exist",
                hint="pass an existing directory, an HTML file or a URL",
            )
        page = self.session.get_cached(index.url, "text/html")
        if page.status != 200:
            raise KilnError(f"find-links page `{redact(index.url)}` answered {page.status}")
        return parse_html(page.body.decode("utf-8", errors="replace"), page.url)
