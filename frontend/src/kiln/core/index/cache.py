"""The on-disk cache of the index client.

* ``simple-v1/``: HTTP responses for index pages and metadata files, one file per URL
  (a JSON header line with the body's sha256, then the body), revalidated with
  ETag/Last-Modified.
* ``files-v1/<sha256>/<filename>``: downloaded distribution files, content-addressed.
* ``files-v1/by-url/<digest>``: pointer from a URL to a content-addressed entry.

A downloaded file is checked against the sha256 it is stored under each time it is used,
unless its size, inode and times are those it had when it was last checked (the fact is
kept in ``local-v1/``, see :mod:`kiln.core.statmemo`): a file truncated or changed in the
cache is noticed, and downloaded again, instead of breaking every later install.

Writes are atomic (temporary file + ``os.replace``) so readers never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from kiln.core.cachedir import cache_root
from kiln.core.fileio import file_sha256, write_atomic
from kiln.core.statmemo import StatMemo

#: The response headers kept with a cached body.
KEPT_HEADERS = ("content-type", "etag", "last-modified", "cache-control", "date", "expires")
#: Freshness given to responses that only carry ``Last-Modified``.
HEURISTIC_SECONDS = 600.0


def default_cache_dir() -> Path:
    return cache_root()


def url_digest(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


class CachedResponse(NamedTuple):
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    stored_at: float
    #: The hex sha256 of ``body``; empty when not known (an entry read without its body
    #: by :meth:`HttpCache.head`, or one written before the digest was stored).
    sha256: str = ""

    def digest(self) -> str:
        """The hex sha256 of the body, computed when it was not stored."""
        return self.sha256 or hashlib.sha256(self.body).hexdigest()

    def directives(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for part in self.headers.get("cache-control", "").split(","):
            key, _, value = part.strip().partition("=")
            if key:
                result[key.lower()] = value.strip('"')
        return result

    def is_fresh(self, now: float | None = None) -> bool:
        """Whether the response may be used without asking the server."""
        directives = self.directives()
        if "no-cache" in directives or "no-store" in directives:
            return False
        age = (time.time() if now is None else now) - self.stored_at
        if "max-age" in directives:
            try:
                return age < float(directives["max-age"])
            except ValueError:
                return False
        if "last-modified" in self.headers:
            return age < HEURISTIC_SECONDS
        return False

    def validators(self) -> dict[str, str]:
        """Headers for a conditional request."""
        result: dict[str, str] = {}
        if "etag" in self.headers:
            result["If-None-Match"] = self.headers["etag"]
        if "last-modified" in self.headers:
            result["If-Modified-Since"] = self.headers["last-modified"]
        return result


class HttpCache:
    """Cached HTTP responses keyed by request URL and a variant (e.g. the Accept header)."""

    def __init__(self, root: Path) -> None:
        self.root = root / "simple-v1"

    def _path(self, url: str, variant: str) -> Path:
        digest = url_digest(f"{variant}\n{url}")
        return self.root / digest[:2] / digest

    def get(self, url: str, variant: str = "") -> CachedResponse | None:
        try:
            raw = self._path(url, variant).read_bytes()
        except OSError:
            return None
        header, sep, body = raw.partition(b"\n")
        if not sep:
            return None
        return _entry(header, body)

    def head(self, url: str, variant: str = "") -> CachedResponse | None:
        """The stored entry without its body (``body`` is empty): enough to decide whether
        it is fresh and to revalidate it, without reading a page of many megabytes."""
        try:
            with open(self._path(url, variant), "rb") as handle:
                header = handle.readline()
        except OSError:
            return None
        if not header.endswith(b"\n"):
            return None
        return _entry(header, b"")

    def put(self, url: str, response: CachedResponse, variant: str = "") -> None:
        if "no-store" in response.directives():
            return
        meta = {
            "url": response.url,
            "status": response.status,
            "headers": {k: v for k, v in response.headers.items() if k in KEPT_HEADERS},
            "stored_at": response.stored_at,
            "sha256": response.digest(),
        }
        header = json.dumps(meta, separators=(",", ":")).encode("utf-8")
        write_atomic(self._path(url, variant), header + b"\n" + response.body)


def _entry(header: bytes, body: bytes) -> CachedResponse | None:
    try:
        meta = json.loads(header)
        return CachedResponse(
            url=str(meta["url"]),
            status=int(meta["status"]),
            headers={str(k): str(v) for k, v in meta["headers"].items()},
            body=body,
            stored_at=float(meta["stored_at"]),
            sha256=str(meta.get("sha256", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class FileCache:
    """Downloaded distribution files, named by their sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root / "files-v1"

    def by_digest(self, sha256: str, filename: str) -> Path:
        return self.root / sha256[:2] / sha256 / filename

    def lock_path(self, url: str) -> Path:
        return self.root / "locks" / f"{url_digest(url)}.lock"

    def pointer(self, url: str) -> Path:
        return self.root / "by-url" / url_digest(url)

    def find(self, url: str, filename: str, sha256: str | None) -> Path | None:
        """A cached copy of the file at ``url``, if one exists."""
        if sha256:
            candidate = self.by_digest(sha256, filename)
            return candidate if candidate.is_file() else None
        try:
            digest = self.pointer(url).read_text(encoding="ascii").strip()
        except OSError:
            return None
        candidate = self.by_digest(digest, filename)
        return candidate if candidate.is_file() else None

    def intact_copy(
        self, url: str, filename: str, sha256: str | None, name: str = ""
    ) -> tuple[Path | None, bool]:
        """The cached copy of the file at ``url`` (of the package ``name``) if it is intact,
        and whether a damaged one (truncated, changed) was found and removed, so that it is
        downloaded again."""
        cached = self.find(url, filename, sha256)
        if cached is None:
            return None, False
        if self.intact(cached):
            return cached, False
        try:
            cached.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            from kiln.errors import KilnError

            raise KilnError(
                f"the cached `{filename}` is damaged (its sha256 changed) and cannot be "
                f"removed: `{cached}`: {exc.strerror or exc}",
                hint=f"run `kiln cache clean {name}`" if name else "run `kiln cache clean`",
            ) from None
        return None, True

    def store(self, url: str, filename: str, sha256: str, temp: Path) -> Path:
        """Move a verified download into place and record the URL pointer."""
        target = self.by_digest(sha256, filename)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        write_atomic(self.pointer(url), sha256.encode("ascii"))
        self._memo().remember(target, _SHA256, lambda: sha256.encode("ascii"))
        return target

    def intact(self, path: Path) -> bool:
        """Whether the cached file at ``path`` still has the sha256 it is stored under:
        looked up while the file is unchanged since it was last checked, else hashed."""
        expected = path.parent.name.encode("ascii", errors="replace")
        memo = self._memo()
        if memo.recall(path, _SHA256) == expected:
            return True
        try:
            actual = file_sha256(path).encode("ascii")
        except OSError:
            return False
        if actual != expected:
            return False
        memo.remember(path, _SHA256, lambda: actual)
        return True

    def _memo(self) -> StatMemo:
        return StatMemo(self.root.parent)


#: The StatMemo fact holding a file's hex sha256 (the installer keeps it for wheels too).
_SHA256 = "sha256"
