"""PEP 503 HTML pages (and find-links HTML pages): their anchors as raw file entries.

Only pages served as HTML need this module (and the standard library's HTML parser); JSON
pages and local directories do not load it.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

from kiln.core.index.simple import (
    RawFile,
    filename_of,
    metadata_flag,
    metadata_hashes_of,
    split_fragment,
)


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


def parse_anchors(text: str, page_url: str) -> list[RawFile]:
    """Every anchor of a PEP 503 page (or a find-links HTML page)."""
    parser = _LinkParser(page_url)
    parser.feed(text)
    parser.close()
    return parser.files
