"""Parsed project pages, kept across runs (``<cache>/pages-v1/<project>/``).

An index that sends no caching headers (PyPI as served by some mirrors and proxies) makes
every run download every project page again, and big pages list tens of thousands of
files: decoding the JSON and parsing every filename costs far more than the download.
When a page's bytes are the same as in an earlier run, the files it lists are the same
too, so this cache keeps them, keyed by a digest of the page URL, media type and body,
in a compact form that loads several times faster than the page parses.

What an entry holds depends on the code that parsed and stored it, so its name also
carries :data:`FORMAT`: a digest of that code (the files of the modules that parse pages
and lay out entries, read once per process), of the Python version and of the version
of ``packaging``. Any change to that code, a fix to the parser included, names other
entries: a page parsed by older code is parsed again, and the new entry replaces the old
one. Where that code cannot be read (a module loaded from no file), nothing is cached.

An entry is a small table first (the distinct versions, tag sets and ``requires-python``
values, and where each version's rows are), then the rows of the files, version by
version. A caller that wants a few versions of a big page (a pin) reads the table and
those versions' rows, not the whole entry.

The entries are written with :mod:`marshal` (plain tuples and strings, like the byte code
caches beside Python's own modules) and trusted as much as the rest of the cache
directory: a file that cannot be read back is ignored and the page is parsed instead.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

import packaging
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core import codekey
from kiln.core import types as core_types
from kiln.core.fileio import write_atomic
from kiln.core.index import narrowing, simple
from kiln.core.index.narrowing import narrow, pinned_release, release_key, version_test
from kiln.core.types import DistFile

BUCKET = "pages-v1"
#: The first read of an entry: the table and, for most pages, every row with it.
_FIRST_READ = 1 << 16
#: Tags by their text, shared by the pages of a run: most tags recur on many pages.
_TAGS: dict[str, Tag] = {}
#: Up to this many versions wanted, each one's rows are read on their own.
_FEW = 4
#: Bytes before the table, giving its length.
_LENGTH = 4


def code_key(modules: Iterable[ModuleType]) -> str | None:
    """A digest of the files ``modules`` were loaded from (see :mod:`kiln.core.codekey`), the
    Python version (the :mod:`marshal` format and the standard library's URL and HTML
    parsing) and the version of ``packaging`` (filename, version and tag parsing). None when
    a module was loaded from no file."""
    return codekey.code_key(modules, sys.version, packaging.__version__)


#: The modules whose code decides what an entry holds: the page parsers, the release keys
#: of the table, the record of a file and the layout (this module).
CODE = (simple, narrowing, core_types, sys.modules[__name__])
#: Part of every entry's name: entries stored by other code are never read.
FORMAT = code_key(CODE)


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
        if FORMAT is None:
            return narrow(parse(), versions)
        page = _digest(url.encode("utf-8"), content_type.encode("utf-8"))[:16]
        content = _digest(FORMAT.encode(), (digest or hashlib.sha256(body).hexdigest()).encode())
        path = self.root / project / f"{page}-{content[:32]}"
        try:
            with open(path, "rb") as entry:
                loaded = _load(entry, project, index, versions)
        except OSError:
            loaded = None
        if loaded is not None:
            return loaded
        files = parse()
        self._store(path, page, files)
        return narrow(files, versions)

    def _store(self, path: Path, page: str, files: Sequence[DistFile]) -> None:
        try:
            write_atomic(path, _dump(files))
            # Older versions of the same page, or ones stored by other code, are of no
            # further use.
            for sibling in path.parent.iterdir():
                if sibling.name.startswith(f"{page}-") and sibling.name != path.name:
                    sibling.unlink(missing_ok=True)
        except (OSError, ValueError):
            return  # a read-only or full cache only costs the next run a parse


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _dump(files: Sequence[DistFile]) -> bytes:
    """The table, then per version the rows of its files (one tuple of plain values per
    file, referring to the table's tag sets and specifiers by position), each version's
    rows marshalled on their own. The table holds the versions, their release keys (for
    exact pins, compared without parsing a version), the distinct tag sets and
    ``requires-python`` values, and where each version's rows end."""
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
            file.size,
            file.upload_time,
        ))
    groups = [marshal.dumps(group) for group in rows]
    ends: list[int] = []
    for group in groups:
        ends.append((ends[-1] if ends else 0) + len(group))
    table = marshal.dumps((
        list(versions), [release_key(text) for text in versions],
        [list(t) for t in tag_sets], list(specifiers), ends,
    ))
    return b"".join([len(table).to_bytes(_LENGTH, "little"), table, *groups])


def _load(
    entry: BinaryIO, project: NormalizedName, index: str, wanted: SpecifierSet | None = None
) -> list[DistFile] | None:
    try:
        head = entry.read(_FIRST_READ)
        size = int.from_bytes(head[:_LENGTH], "little")
        base = _LENGTH + size
        if base > len(head):
            head += entry.read(base - len(head))
        version_texts, release_keys, tag_texts, specifier_texts, ends = marshal.loads(
            memoryview(head)[_LENGTH:base]
        )
        # Versions are parsed when they may be wanted: a pin parses a handful of a page's
        # hundreds of versions.
        versions: list[Version | None] = [None] * len(version_texts)
        kept: Sequence[int] = range(len(version_texts))
        if wanted is not None:
            test = version_test(wanted)
            release = pinned_release(wanted)
            kept = []
            for position, text in enumerate(version_texts):
                if release is not None and release_keys[position] != release:
                    continue
                version = versions[position] = Version(text)
                if test(version):
                    kept.append(position)
        for position in kept:
            if versions[position] is None:
                versions[position] = Version(version_texts[position])
        if len(kept) > _FEW and ends and base + ends[-1] > len(head):
            head += entry.read()  # many versions: the rest at once, not version by version
        rows = [
            (*row, position)
            for position in kept
            for row in marshal.loads(_group(entry, head, base, ends, position))
        ]
        # Tag sets and specifiers are built when a kept file first refers to them.
        known = _TAGS
        tag_sets: list[frozenset[Tag] | None] = [None] * len(tag_texts)
        specifiers: list[SpecifierSet | None] = [None] * len(specifier_texts)
        files: list[DistFile] = []
        append = files.append
        for (
            filename, url, hashes, requires, yanked, tags, metadata, meta_hashes, size,
            uploaded, version,
        ) in rows:
            tag_set = None
            if tags >= 0:
                tag_set = tag_sets[tags]
                if tag_set is None:
                    texts = tag_texts[tags]
                    for text in texts:
                        if text not in known:
                            known[text] = Tag(*text.split("-"))  # one object per tag per run
                    tag_set = tag_sets[tags] = frozenset(known[text] for text in texts)
            requires_python = None
            if requires >= 0:
                requires_python = specifiers[requires]
                if requires_python is None:
                    requires_python = specifiers[requires] = SpecifierSet(
                        specifier_texts[requires]
                    )
            append(DistFile(
                project, versions[version], filename, url, hashes,
                requires_python, yanked, tag_set, metadata, meta_hashes, index, size, uploaded,
            ))
    except (ValueError, TypeError, EOFError, IndexError, KeyError, AttributeError, OSError):
        return None
    return files


def _group(
    entry: BinaryIO, head: bytes, base: int, ends: Sequence[int], position: int
) -> bytes | memoryview:
    """The marshalled rows of the version at ``position``: from the first read when they
    are in it, else read from the entry."""
    start = base + (ends[position - 1] if position else 0)
    end = base + ends[position]
    if end <= len(head):
        return memoryview(head)[start:end]
    entry.seek(start)
    data = entry.read(end - start)
    if len(data) != end - start:
        raise EOFError("truncated entry")
    return data
