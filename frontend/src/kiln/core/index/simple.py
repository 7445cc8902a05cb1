"""Parsing Simple Repository API project pages (PEP 503 HTML, PEP 691 JSON) into DistFiles."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, cast
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

from kiln.core.index.redact import redact
from kiln.core.types import DistFile
from kiln.errors import KilnError

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
HASH_ALGORITHMS = frozenset({"md5", "sha256", "sha384", "sha512", "blake2b"})


@dataclass
class RawFile:
    """One file entry as it appears on a page, before filename parsing."""

    filename: str
    url: str
    hashes: dict[str, str] = field(default_factory=dict)
    requires_python: str | None = None
    yanked: str | None = None
    core_metadata: bool = False
    metadata_hashes: dict[str, str] = field(default_factory=dict)


def parse_page(
    body: bytes, content_type: str, page_url: str, project: NormalizedName | None, index: str
) -> list[DistFile]:
    """Dispatch on the media type and return the files of ``project``."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_TYPE:
        raw = parse_json(body, page_url)
    elif media in HTML_TYPES or media == "":
        raw = parse_html(body.decode("utf-8", errors="replace"), page_url)
    else:
        raise KilnError(
            f"`{redact(page_url)}` answered with unsupported media type `{media}`",
            hint="the URL must point at a PEP 503/691 simple index",
        )
    return to_dist_files(raw, project, index)


def to_dist_files(
    raw: list[RawFile], project: NormalizedName | None, index: str
) -> list[DistFile]:
    """Keep valid wheel/sdist entries (of ``project`` when given), sorted by filename."""
    parser = _FilenameParser()
    files: list[DistFile] = []
    for entry in raw:
        dist = to_dist_file(entry, index, parser)
        if dist is not None and (project is None or dist.name == project):
            files.append(dist)
    files.sort(key=lambda f: f.filename)
    return files


class _FilenameParser:
    """Parses the filenames and ``requires-python`` values of one page, memoising the parts.

    A page repeats the same versions, tag triples and ``requires-python`` strings across
    hundreds of files; parsing each distinct string once (and sharing the immutable
    results) makes big pages several times cheaper. Results equal the uncached parse.
    """

    def __init__(self) -> None:
        self._heads: dict[str, tuple[NormalizedName, Version]] = {}
        self._tags: dict[str, frozenset[Tag]] = {}
        self._specifiers: dict[str, SpecifierSet] = {}

    def wheel(self, filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]]:
        """Like ``parse_wheel_filename``: name, version and tags (raises the same error)."""
        stem = filename[:-4]
        dashes = stem.count("-")
        if not filename.endswith(".whl") or dashes not in (4, 5):
            name, version, _build, tags = parse_wheel_filename(filename)
            return name, version, tags
        head, tag_text = stem.rsplit("-", 3)[0], stem.split("-", dashes - 2)[-1]
        parsed = self._heads.get(head)
        if parsed is None:
            # The name, version and build tag validate the same with any valid tag.
            name, version, _build, _tags = parse_wheel_filename(f"{head}-py3-none-any.whl")
            parsed = self._heads[head] = (name, version)
        known = self._tags.get(tag_text)
        if known is None:
            try:
                known = parse_wheel_filename(f"x-0-{tag_text}.whl")[3]
            except InvalidWheelFilename:
                parse_wheel_filename(filename)  # raises with this file's name
                raise
            self._tags[tag_text] = known
        return parsed[0], parsed[1], known

    def specifiers(self, text: str) -> SpecifierSet:
        """``SpecifierSet(text)``, shared between equal strings (raises ``InvalidSpecifier``)."""
        found = self._specifiers.get(text)
        if found is None:
            found = self._specifiers[text] = SpecifierSet(text)
        return found


def to_dist_file(
    entry: RawFile, index: str, parser: _FilenameParser | None = None
) -> DistFile | None:
    parser = parser or _FilenameParser()
    filename = entry.filename
    try:
        if filename.endswith(".whl"):
            name, version, tags = parser.wheel(filename)
            wheel_tags: frozenset[Any] | None = tags
        elif filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            wheel_tags = None
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    requires_python: SpecifierSet | None = None
    if entry.requires_python and entry.requires_python.strip():
        try:
            requires_python = parser.specifiers(entry.requires_python)
        except InvalidSpecifier:
            return None
    return _new_dist_file({
        "name": name,
        "version": version,
        "filename": filename,
        "url": entry.url,
        "hashes": entry.hashes,
        "requires_python": requires_python,
        "yanked": entry.yanked,
        "tags": wheel_tags,
        "has_metadata_file": entry.core_metadata and wheel_tags is not None,
        "metadata_hashes": entry.metadata_hashes,
        "index": index,
    })


def _plain_defaults() -> tuple[dict[str, Any], frozenset[str]] | None:
    """The plain defaults of ``DistFile``'s fields and the names of the fields without
    one; None when ``DistFile`` cannot be built by filling its ``__dict__``."""
    if hasattr(DistFile, "__slots__") or hasattr(DistFile, "__post_init__"):
        return None
    defaults: dict[str, Any] = {}
    needed: set[str] = set()
    for item in dataclasses.fields(DistFile):
        if item.default is not dataclasses.MISSING:
            defaults[item.name] = item.default
        else:  # required, or a fresh value per instance
            needed.add(item.name)
    return defaults, frozenset(needed)


_PLAIN = _plain_defaults()


def _new_dist_file(values: dict[str, Any]) -> DistFile:
    """``DistFile(**values)`` without the per-field cost of a frozen dataclass ``__init__``
    (a page can list tens of thousands of files). The result is an equal object; the real
    constructor is used whenever ``values`` leaves out a field without a plain default."""
    if _PLAIN is None or not _PLAIN[1].issubset(values):
        return DistFile(**values)
    made = object.__new__(DistFile)
    made.__dict__.update(_PLAIN[0])
    made.__dict__.update(values)
    return made


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


def _metadata_flag(value: str | None) -> bool:
    if value is None:
        return False
    text = value.strip().lower()
    return text == "true" or "=" in text


def _metadata_hashes(value: object) -> dict[str, str]:
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
            core_metadata=_metadata_flag(core),
            metadata_hashes=_metadata_hashes(core),
        ))


def parse_html(text: str, page_url: str) -> list[RawFile]:
    """Every anchor of a PEP 503 page (or a find-links HTML page)."""
    parser = _LinkParser(page_url)
    parser.feed(text)
    parser.close()
    return parser.files


def _hashes(raw: Any) -> dict[str, str]:
    """The known-algorithm entries of a PEP 691 ``hashes`` object, lower-cased."""
    if not raw:
        return {}
    result: dict[str, str] = {}
    for key, value in raw.items():
        algorithm = str(key).lower()
        if algorithm in HASH_ALGORITHMS:
            result[algorithm] = str(value).lower()
    return result


def parse_json(body: bytes, page_url: str) -> list[RawFile]:
    """The ``files`` of a PEP 691 project page."""
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
    files: list[RawFile] = []
    for item in data.get("files", []):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        entry = cast("Mapping[str, Any]", item)
        url, fragment_hashes = _absolute(page_url, entry["url"])
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
        files.append(RawFile(
            filename=str(entry.get("filename") or filename_of(url)),
            url=url,
            hashes=hashes,
            requires_python=requires_python if isinstance(requires_python, str) else None,
            yanked=yanked,
            core_metadata=bool(core) and core is not False,
            metadata_hashes=_metadata_hashes(core),
        ))
    return files
