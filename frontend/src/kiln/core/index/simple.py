"""Parsing Simple Repository API project pages (PEP 503 HTML, PEP 691 JSON) into DistFiles."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any, NamedTuple, cast
from urllib.parse import unquote, urljoin, urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from kiln.core.index.redaction import redact
from kiln.core.types import DistFile
from kiln.errors import KilnError

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
HASH_ALGORITHMS = frozenset({"md5", "sha256", "sha384", "sha512", "blake2b"})


class RawFile(NamedTuple):
    """One file entry as it appears on a page, before filename parsing."""

    filename: str
    url: str
    #: None when the entry gives none (a named tuple's default is shared, so not ``{}``).
    hashes: Mapping[str, str] | None = None
    requires_python: str | None = None
    yanked: str | None = None
    core_metadata: bool = False
    metadata_hashes: Mapping[str, str] | None = None
    size: int | None = None
    upload_time: str | None = None


def parse_page(
    body: bytes, content_type: str, page_url: str, project: NormalizedName | None, index: str
) -> list[DistFile]:
    """Dispatch on the media type and return the files of ``project``."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_TYPE:
        return parse_json(body, page_url, project, index)
    if media in HTML_TYPES or media == "":
        return to_dist_files(
            parse_html(body.decode("utf-8", errors="replace"), page_url), project, index
        )
    raise KilnError(
        f"`{redact(page_url)}` answered with unsupported media type `{media}`",
        hint="the URL must point at a PEP 503/691 simple index",
    )


def to_dist_files(
    raw: list[RawFile], project: NormalizedName | None, index: str
) -> list[DistFile]:
    """Keep valid wheel/sdist entries (of ``project`` when given), sorted by filename."""
    parser = _PageParser(project, index)
    for entry in raw:
        parser.add(
            entry.filename, entry.url, entry.hashes, entry.requires_python, entry.yanked,
            entry.core_metadata, entry.metadata_hashes, entry.size, entry.upload_time,
        )
    return parser.result()


class _PageParser:
    """Turns the entries of one page into DistFiles, memoising the parsed parts.

    A page repeats the same versions, tag triples and ``requires-python`` strings across
    hundreds (sometimes tens of thousands) of files; parsing each distinct string once and
    sharing the immutable results makes big pages several times cheaper. The files are
    equal to what ``DistFile(...)`` with the fully parsed values would give; entries with
    invalid filenames or ``requires-python`` values, and files of other projects when
    ``project`` is given, are left out.
    """

    def __init__(self, project: NormalizedName | None, index: str) -> None:
        self.project = project
        self.index = index
        self.files: list[DistFile] = []
        #: filename without the tags -> (name, version), or None when invalid.
        self._heads: dict[str, tuple[NormalizedName, Version] | None] = {}
        #: tag triple text -> tags, or None when invalid.
        self._tags: dict[str, frozenset[Tag] | None] = {}
        #: requires-python text -> specifier set, or None when invalid.
        self._specifiers: dict[str, SpecifierSet | None] = {}

    def add(
        self,
        filename: str,
        url: str,
        hashes: Mapping[str, str] | None,
        requires_python: str | None,
        yanked: str | None,
        core_metadata: bool,
        metadata_hashes: Mapping[str, str] | None,
        size: int | None = None,
        upload_time: str | None = None,
    ) -> None:
        if filename.endswith(".whl"):
            head_tags = self._wheel(filename)
            if head_tags is None:
                return
            (name, version), tags = head_tags
            wheel_tags: frozenset[Tag] | None = tags
        elif filename.endswith((".tar.gz", ".zip")):
            try:
                name, version = parse_sdist_filename(filename)
            except InvalidSdistFilename:
                return
            wheel_tags = None
        else:
            return
        if self.project is not None and name != self.project:
            return
        specifiers: SpecifierSet | None = None
        if requires_python and not requires_python.isspace():
            if requires_python not in self._specifiers:
                try:
                    self._specifiers[requires_python] = SpecifierSet(requires_python)
                except InvalidSpecifier:
                    self._specifiers[requires_python] = None
            specifiers = self._specifiers[requires_python]
            if specifiers is None:
                return
        self.files.append(DistFile(
            name, version, filename, url, hashes, specifiers, yanked, wheel_tags,
            core_metadata and wheel_tags is not None, metadata_hashes, self.index, size,
            upload_time,
        ))

    def _wheel(
        self, filename: str
    ) -> tuple[tuple[NormalizedName, Version], frozenset[Tag]] | None:
        """Name, version and tags of a wheel filename, or None when it is invalid."""
        stem = filename[:-4]
        dashes = stem.count("-")
        if dashes not in (4, 5):
            return None
        head, tag_text = stem.rsplit("-", 3)[0], stem.split("-", dashes - 2)[-1]
        if head not in self._heads:
            try:
                # The name, version and build tag validate the same with any valid tag.
                name, version, _build, _tags = parse_wheel_filename(f"{head}-py3-none-any.whl")
                self._heads[head] = (name, version)
            except InvalidWheelFilename:
                self._heads[head] = None
        parsed = self._heads[head]
        if tag_text not in self._tags:
            try:
                self._tags[tag_text] = parse_wheel_filename(f"x-0-{tag_text}.whl")[3]
            except InvalidWheelFilename:
                self._tags[tag_text] = None
        known = self._tags[tag_text]
        if parsed is None or known is None:
            return None
        return parsed, known

    def result(self) -> list[DistFile]:
        self.files.sort(key=_filename)
        return self.files


def _filename(file: DistFile) -> str:
    return file.filename


def split_fragment(href: str) -> tuple[str, dict[str, str]]:
    """Split ``url#sha256=...`` into the URL and its hash (unknown algorithms are dropped)."""
    url, _, fragment = href.partition("#")
    algo, sep, digest = unquote(fragment).partition("=")
    hashes = {algo.lower(): digest.lower()} if sep and algo.lower() in HASH_ALGORITHMS else {}
    return url, hashes


def _absolute(page_url: str, href: str) -> tuple[str, dict[str, str]]:
    """``split_fragment(urljoin(page_url, href))``, skipping the work for plain absolute URLs
    (what PyPI serves), which ``urljoin`` returns unchanged."""
    if href.startswith(("https://", "http://")) and "?" not in href and "#" not in href \
            and ";" not in href:
        return href, {}
    return split_fragment(urljoin(page_url, href))


def filename_of(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def metadata_flag(value: str | None) -> bool:
    if value is None:
        return False
    text = value.strip().lower()
    return text == "true" or "=" in text


def metadata_hashes_of(value: object) -> dict[str, str]:
    """``sha256=<hex>`` (HTML attribute) or ``{"sha256": "<hex>"}`` (JSON) as a mapping."""
    if isinstance(value, dict):
        return {str(k).lower(): str(v).lower() for k, v in value.items() if isinstance(v, str)}
    if isinstance(value, str) and "=" in value:
        algorithm, _, digest = value.strip().partition("=")
        return {algorithm.lower(): digest.lower()}
    return {}


class _LinkParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.seen_link = False
        self.files: list[RawFile] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and not self.seen_link and values.get("href"):
            self.base = urljoin(self.base, values["href"] or "")
            return
        if tag not in ("a", "link"):
            return
        self.seen_link = True
        href = values.get("href")
        if tag != "a" or not href:
            return
        url, hashes = split_fragment(urljoin(self.base, href))
        yanked: str | None = None
        if "data-yanked" in values:
            yanked = values["data-yanked"] or ""
        core = values.get("data-core-metadata", values.get("data-dist-info-metadata"))
        self.files.append(RawFile(
            filename=filename_of(url),
            url=url,
            hashes=hashes,
            requires_python=values.get("data-requires-python"),
            yanked=yanked,
            core_metadata=metadata_flag(core),
            metadata_hashes=metadata_hashes_of(core),
        ))


def parse_html(text: str, page_url: str) -> list[RawFile]:
    """Every anchor of a PEP 503 page (or a find-links HTML page)."""
    parser = _LinkParser(page_url)
    parser.feed(text)
    parser.close()
    return parser.files


def _hashes(raw: Any) -> dict[str, str]:
    """The known-algorithm entries of a PEP 691 ``hashes`` object, lower-cased."""
    if not raw or not isinstance(raw, dict):
        return {}
    if len(raw) == 1:  # the usual shape: {"sha256": "<lower-case hex>"}
        digest = raw.get("sha256")
        if isinstance(digest, str) and digest.islower():
            return {"sha256": digest}
    result: dict[str, str] = {}
    for key, value in raw.items():
        algorithm = str(key).lower()
        if algorithm in HASH_ALGORITHMS:
            result[algorithm] = str(value).lower()
    return result


def parse_json(
    body: bytes, page_url: str, project: NormalizedName | None = None, index: str = ""
) -> list[DistFile]:
    """The files of a PEP 691 project page (of ``project`` when given), sorted by filename."""
    where = f"`{redact(page_url)}`"
    try:
        data = json.loads(body)
    except ValueError:
        raise KilnError(f"{where} returned invalid JSON") from None
    if not isinstance(data, dict):
        raise KilnError(f"{where} returned JSON that is not an object")
    meta = data.get("meta", {})
    version = str(meta.get("api-version", "1.0")) if isinstance(meta, dict) else "1.0"
    if version.split(".", 1)[0] != "1":
        raise KilnError(
            f"{where} uses Simple API version {version}, which kiln does not support",
            hint="kiln understands version 1.x of the Simple Repository API",
        )
    parser = _PageParser(project, index)
    add = parser.add
    entries = data.get("files", [])
    for item in entries if isinstance(entries, list) else ():
        if not isinstance(item, dict):
            continue
        entry = cast("Mapping[str, Any]", item)
        href = entry.get("url")
        if not isinstance(href, str):
            continue
        url, fragment_hashes = _absolute(page_url, href)
        hashes = _hashes(entry.get("hashes")) or fragment_hashes
        raw_yanked = entry.get("yanked", False)
        yanked = (raw_yanked if isinstance(raw_yanked, str) else "") if raw_yanked else None
        # The first of these keys that is present wins (PEP 714 names, then older ones).
        if "core-metadata" in entry:
            core = entry["core-metadata"]
        elif "dist-info-metadata" in entry:
            core = entry["dist-info-metadata"]
        else:
            core = entry.get("data-dist-info-metadata")
        requires_python = entry.get("requires-python")
        filename = entry.get("filename")
        size = entry.get("size")
        uploaded = entry.get("upload-time")
        add(
            filename if isinstance(filename, str) and filename else filename_of(url),
            url,
            hashes,
            requires_python if isinstance(requires_python, str) else None,
            yanked,
            bool(core),
            metadata_hashes_of(core),
            size if type(size) is int and size >= 0 else None,
            uploaded if isinstance(uploaded, str) and uploaded else None,
        )
    return parser.result()
