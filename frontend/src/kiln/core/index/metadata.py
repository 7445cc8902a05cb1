"""Core metadata of a distribution file without downloading it when possible.

Order: a PEP 658/714 metadata file, then HTTP range requests into the wheel's zip,
then the whole file (verified and cached).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from packaging.utils import canonicalize_name

from kiln.core.headers import header_section
from kiln.core.index.cache import CachedResponse
from kiln.core.index.download import Downloader
from kiln.core.index.http import HttpSession
from kiln.core.index.rangefile import HttpRangeFile, RangeUnsupported
from kiln.core.statmemo import StatMemo
from kiln.core.types import DistFile
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.metadata import Metadata

#: Cache variant for metadata obtained by range requests or downloads.
_DERIVED = "kiln-core-metadata"


class MetadataNeedsBuild(KilnError):
    """The sdist's PKG-INFO cannot be trusted; the sdist must be built to know its metadata."""


class InvalidCoreMetadata(KilnError):
    """A field of a distribution's core metadata that the resolver reads cannot be parsed."""


def parse_metadata(raw: bytes, file: DistFile) -> Metadata:
    """Parse core metadata and check that it describes ``file``.

    Only the header fields are parsed: the body is the long description, often most of
    the bytes, and nothing that resolving or installing reads (so ``description`` is
    left unset). The fields the resolver reads (``Name``, ``Requires-Python`` and
    ``Requires-Dist``) are checked here, so that a malformed one is an
    :class:`InvalidCoreMetadata` that names the file and the field, not an exception
    from wherever the field happens to be read first."""
    from packaging.metadata import (  # the email package, on demand
        InvalidMetadata,
        Metadata,
        parse_email,
    )

    try:
        fields, _unparsed = parse_email(header_section(raw))
    except ValueError as exc:
        raise InvalidCoreMetadata(f"the metadata of `{file.filename}` is invalid: {exc}") from None
    metadata = Metadata.from_raw(fields, validate=False)
    try:
        name = metadata.name
        # Read once here, where a malformed value can be named; the metadata keeps them.
        _ = metadata.requires_python, metadata.requires_dist
    except InvalidMetadata as exc:
        raise InvalidCoreMetadata(_invalid_field(file, exc.field, fields)) from None
    if canonicalize_name(name) != file.name:
        raise KilnError(
            f"the metadata of `{file.filename}` names the package `{name}`, "
            f"not `{file.name}`"
        )
    return metadata


def _invalid_field(file: DistFile, field: str, fields: Mapping[str, object]) -> str:
    """Which field of ``file``'s metadata is malformed (``requires-dist``), and its value."""
    header = _header(field)
    value = fields.get(field.replace("-", "_"))
    if value is None:
        return f"the metadata of `{file.filename}` has no `{header}` field"
    if isinstance(value, list):  # Requires-Dist: the first entry that does not parse
        from packaging.requirements import InvalidRequirement, Requirement

        for item in value:
            try:
                Requirement(str(item))
            except InvalidRequirement:
                value = item
                break
    shown = f" `{value}`" if isinstance(value, str) else ""
    return f"the metadata of `{file.filename}` has an invalid `{header}` field:{shown}".rstrip(":")


def _header(field: str) -> str:
    """``requires-dist`` as the header is usually written: ``Requires-Dist``."""
    return "-".join(part.capitalize() for part in field.split("-"))


def read_wheel_metadata(source: IO[bytes] | Path, filename: str) -> bytes:
    """The ``*.dist-info/METADATA`` member of a wheel."""
    import zipfile

    try:
        with zipfile.ZipFile(source) as archive:
            members = [
                n for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(members) != 1:
                raise KilnError(f"`{filename}` does not contain exactly one `.dist-info/METADATA`")
            return archive.read(members[0])
    except zipfile.BadZipFile:
        raise KilnError(f"`{filename}` is not a valid wheel (zip) file") from None


def read_sdist_metadata(path: Path, filename: str) -> bytes:
    """``PKG-INFO`` of an sdist, when it is reliable (Metadata-Version 2.2+, static deps)."""
    import tarfile
    import zipfile

    raw: bytes | None = None
    if filename.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/PKG-INFO")]
            raw = archive.read(names[0]) if names else None
    else:
        with tarfile.open(path) as archive:
            for member in archive:
                if member.isfile() and member.name.count("/") == 1 \
                        and member.name.endswith("/PKG-INFO"):
                    handle = archive.extractfile(member)
                    raw = handle.read() if handle else None
                    break
    if raw is None:
        raise MetadataNeedsBuild(f"`{filename}` has no `PKG-INFO`")
    from packaging.metadata import InvalidMetadata, Metadata, parse_email

    fields, _unparsed = parse_email(header_section(raw))
    parsed = Metadata.from_raw(fields, validate=False)
    try:
        version = str(parsed.metadata_version)
        dynamic = {str(d).lower() for d in parsed.dynamic or []}
    except InvalidMetadata as exc:
        # An unknown `Metadata-Version` or `Dynamic` value: the file cannot be trusted
        # to list the real dependencies any more than an old one.
        present = exc.field.replace("-", "_") in fields
        raise MetadataNeedsBuild(
            f"the `PKG-INFO` of `{filename}` has {'an invalid' if present else 'no'} "
            f"`{_header(exc.field)}` field",
            hint="the source distribution has to be built to learn its metadata",
        ) from None
    if tuple(int(p) for p in version.split(".")[:2]) < (2, 2) or "requires-dist" in dynamic:
        raise MetadataNeedsBuild(
            f"the `PKG-INFO` of `{filename}` may not list its real dependencies",
            hint="the source distribution has to be built to learn its metadata",
        )
    return raw


class MetadataFetcher:
    def __init__(
        self, session: HttpSession, downloader: Downloader, memo: StatMemo | None = None
    ) -> None:
        self.session = session
        self.downloader = downloader
        #: Metadata read from local files, remembered while the file stays the same.
        self.memo = memo
        self._no_ranges: set[str] = set()
        self._memo: dict[str, Metadata] = {}
        self._lock = threading.Lock()
        #: How each file's metadata was obtained ("metadata-file", "range", "download", ...).
        self.methods: dict[str, str] = {}

    def metadata(self, file: DistFile) -> Metadata:
        with self._lock:
            if file.url in self._memo:
                return self._memo[file.url]
        metadata = parse_metadata(self._raw(file), file)
        with self._lock:
            self._memo[file.url] = metadata
        return metadata

    def _raw(self, file: DistFile) -> bytes:
        if file.url.startswith("file:"):
            self.methods[file.url] = "local"
            return self._from_download(file)
        cache = self.session.cache
        if file.hashes and cache is not None:
            stored = cache.get(file.url, _DERIVED)
            if stored is not None:
                self.methods[file.url] = "cache"
                return stored.body
        downloaded = self.downloader.cache.find(file.url, file.filename, file.hashes.get("sha256"))
        if downloaded is not None or self.session.settings.offline:
            self.methods[file.url] = "download"
            return self._from_download(file)
        if file.has_metadata_file:
            page = self.session.get_cached(file.url + ".metadata", "*/*", name=file.name)
            if page.status == 200:
                _verify_metadata_file(file, page.body)
                self.methods[file.url] = "metadata-file"
                return page.body
        raw: bytes | None = None
        if file.is_wheel and file.index not in self._no_ranges:
            try:
                remote = HttpRangeFile(self.session, file.url)
                raw = read_wheel_metadata(remote, file.filename)  # type: ignore[arg-type]
                self.methods[file.url] = "range"
            except RangeUnsupported:
                with self._lock:
                    self._no_ranges.add(file.index)
        if raw is None:
            raw = self._from_download(file)
            self.methods[file.url] = "download"
        if file.hashes and cache is not None:
            cache.put(file.url, CachedResponse(
                url=file.url, status=200, headers={"cache-control": "max-age=31536000"},
                body=raw, stored_at=time.time(),
            ), _DERIVED)
        return raw

    def _from_download(self, file: DistFile) -> bytes:
        path = self.downloader.download(file)
        if file.is_wheel:
            if self.memo is None:
                return read_wheel_metadata(path, file.filename)
            return self.memo.remember(
                path, "wheel-metadata", lambda: read_wheel_metadata(path, file.filename)
            )
        return read_sdist_metadata(path, file.filename)


def _verify_metadata_file(file: DistFile, body: bytes) -> None:
    """Check a PEP 658 metadata file against the hash its index advertises."""
    import hashlib

    for algorithm, expected in file.metadata_hashes.items():
        if algorithm not in hashlib.algorithms_guaranteed:
            continue
        actual = hashlib.new(algorithm, body).hexdigest()
        if actual != expected:
            raise KilnError(
                f"the metadata file of `{file.filename}` from index `{file.index}` does not match "
                f"the {algorithm} hash the index advertises",
                hint="the index may be corrupt or tampered with; try `--refresh`, or report it "
                "to the index's maintainers",
            )
        return
