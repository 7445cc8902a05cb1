"""Parsed project pages, kept across runs (``<cache>/pages-v1/<project>/``).

An index that sends no caching headers (PyPI as served by some mirrors and proxies) makes
every run download every project page again, and big pages list tens of thousands of
files: decoding the JSON and parsing every filename costs far more than the download.
When a page's bytes are the same as in an earlier run, the files it lists are the same
too, so this cache keeps them, keyed by a digest of the page URL, media type and body,
in a compact form that loads several times faster than the page parses.

The entries are written with :mod:`marshal` (plain tuples and strings, like the byte code
caches beside Python's own modules) and trusted as much as the rest of the cache
directory: a file that cannot be read back is ignored and the page is parsed instead.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.fileio import write_atomic
from kiln.core.index.narrowing import narrow, text_prefilter, version_test
from kiln.core.index.simple import build_dist_file
from kiln.core.types import DistFile

BUCKET = "pages-v1"
#: Changes whenever the stored layout or the page parser's output changes.
_FORMAT = b"kiln-parsed-page-3"
#: Python's marshal format can change between versions.
_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}".encode()


class ParsedPageCache:
    """Files of project pages, by page content."""

    def __init__(self, root: Path) -> None:
        self.root = root / BUCKET

    def files(
        self,
        project: NormalizedName,
        url: str,
        content_type: str,
        body: bytes,
        index: str,
        parse: Callable[[], list[DistFile]],
        versions: SpecifierSet | None = None,
        *,
        digest: str = "",
    ) -> list[DistFile]:
        """The files of the page ``body`` (of ``project`` at ``url``), from the cache when
        this exact page was parsed before, else from ``parse()`` (and then stored).
        With ``versions``, only the files of the versions it contains: from the cache,
        the others are never built. ``digest`` is the body's hex sha256, when known."""
        page = _digest(url.encode("utf-8"), content_type.encode("utf-8"))
        content = (digest or hashlib.sha256(body).hexdigest())[:32]
        path = self.root / project / f"{page}-{content}"
        try:
            stored = path.read_bytes()
        except OSError:
            stored = None
        if stored is not None:
            loaded = _load(stored, project, index, versions)
            if loaded is not None:
                return loaded
        files = parse()
        self._store(path, page, files)
        return narrow(files, versions)

    def _store(self, path: Path, page: str, files: Sequence[DistFile]) -> None:
        try:
            write_atomic(path, _dump(files))
            # Older versions of the same page are of no further use.
            for sibling in path.parent.iterdir():
                if sibling.name.startswith(f"{page}-") and sibling.name != path.name:
                    sibling.unlink(missing_ok=True)
        except (OSError, ValueError):
            return  # a read-only or full cache only costs the next run a parse


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256(_FORMAT + b"\0" + _PYTHON)
    for part in parts:
        digest.update(b"\0" + part)
    return digest.hexdigest()[:16]


def _dump(files: Sequence[DistFile]) -> bytes:
    """A table of the distinct versions, tag sets and ``requires-python`` values, then, per
    version, the rows of its files (one tuple of plain values per file that refers to the
    tables by position), marshalled on their own: a caller that wants a few versions of a
    big page unpacks only their rows."""
    versions: dict[str, int] = {}
    tag_sets: dict[tuple[str, ...], int] = {}
    specifiers: dict[str, int] = {}
    rows: list[list[tuple[Any, ...]]] = []
    for file in files:
        version = versions.setdefault(str(file.version), len(versions))
        if version == len(rows):
            rows.append([])
        tags = -1
        if file.tags is not None:
            tags = tag_sets.setdefault(tuple(sorted(map(str, file.tags))), len(tag_sets))
        requires = -1
        if file.requires_python is not None:
            requires = specifiers.setdefault(str(file.requires_python), len(specifiers))
        rows[version].append((
            file.filename,
            file.url,
            dict(file.hashes),
            requires,
            file.yanked,
            tags,
            file.has_metadata_file,
            dict(file.metadata_hashes),
        ))
    table = (
        list(versions), [list(t) for t in tag_sets], list(specifiers),
        [marshal.dumps(group) for group in rows],
    )
    return marshal.dumps(table)


def _load(
    data: bytes, project: NormalizedName, index: str, wanted: SpecifierSet | None = None
) -> list[DistFile] | None:
    try:
        version_texts, tag_texts, specifier_texts, groups = marshal.loads(data)
        # Versions are parsed when they may be wanted: a pin parses a handful of a page's
        # hundreds of versions.
        versions: list[Version | None] = [None] * len(version_texts)
        kept: Sequence[int] = range(len(version_texts))
        if wanted is not None:
            test = version_test(wanted)
            cheap = text_prefilter(wanted)
            kept = []
            for position, text in enumerate(version_texts):
                if cheap is not None and not cheap(text):
                    continue
                version = versions[position] = Version(text)
                if test(version):
                    kept.append(position)
        for position in kept:
            if versions[position] is None:
                versions[position] = Version(version_texts[position])
        rows = [
            (*row, position) for position in kept for row in marshal.loads(groups[position])
        ]
        # Tag sets and specifiers are built when a kept file first refers to them.
        known: dict[str, Tag] = {}
        tag_sets: list[frozenset[Tag] | None] = [None] * len(tag_texts)
        specifiers: list[SpecifierSet | None] = [None] * len(specifier_texts)
        files: list[DistFile] = []
        append = files.append
        for filename, url, hashes, requires, yanked, tags, metadata, meta_hashes, version in rows:
            tag_set = None
            if tags >= 0:
                tag_set = tag_sets[tags]
                if tag_set is None:
                    texts = tag_texts[tags]
                    for text in texts:
                        if text not in known:
                            known[text] = Tag(*text.split("-"))
                    tag_set = tag_sets[tags] = frozenset(known[text] for text in texts)
            requires_python = None
            if requires >= 0:
                requires_python = specifiers[requires]
                if requires_python is None:
                    requires_python = specifiers[requires] = SpecifierSet(
                        specifier_texts[requires]
                    )
            append(build_dist_file({
                "name": project,
                "version": versions[version],
                "filename": filename,
                "url": url,
                "hashes": hashes,
                "requires_python": requires_python,
                "yanked": yanked,
                "tags": tag_set,
                "has_metadata_file": metadata,
                "metadata_hashes": meta_hashes,
                "index": index,
            }))
    except (ValueError, TypeError, EOFError, IndexError, KeyError, AttributeError):
        return None
    return files
