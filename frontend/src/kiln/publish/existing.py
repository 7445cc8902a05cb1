"""Is a file already on the index? The ``--check-url`` lookup on a simple API page.

The project page is read as PEP 691 JSON or PEP 503 HTML; the file is matched by its
name and compared by the hash the index lists for it.
"""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

from kiln.errors import KilnError
from kiln.publish.credentials import Credentials
from kiln.publish.digests import file_digests
from kiln.publish.files import DistFilename, parse_filename
from kiln.publish.redact import redact_url
from kiln.publish.transport import PublishClient, Response, TransportError

_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_PREFERRED = ("sha256", "sha384", "sha512")


class Existing(NamedTuple):
    """What the index says about one file."""

    #: ``absent``, ``same`` (identical file present) or ``different``.
    state: str
    algorithm: str = ""
    local: str = ""
    remote: str = ""


def lookup(
    client: PublishClient,
    check_url: str,
    dist: DistFilename,
    credentials: Credentials | None = None,
) -> Existing:
    """Compare ``dist`` with the index's file of the same name (``check_url`` has no userinfo)."""
    page = check_url.rstrip("/") + f"/{dist.name}/"
    try:
        response = client.get(page, {"Accept": _ACCEPT}, credentials)
    except TransportError as exc:
        raise KilnError(f"cannot query the check URL {redact_url(page)}: {exc}") from None
    if response.status_code == 404:
        return Existing("absent")
    if response.status_code != 200:
        raise KilnError(
            f"cannot query the check URL {redact_url(page)}: the server answered {response.status_code} {response.reason_phrase}",
            hint="`--check-url` takes the index's simple API URL, e.g. `https://pypi.org/simple/`",
        )
    listed = _files_on_page(response)
    remote_hashes = _find(listed, dist)
    if remote_hashes is None:
        return Existing("absent")
    algorithm = _pick_algorithm(remote_hashes)
    if algorithm is None:
        raise KilnError(
            f"the index lists `{dist.filename}` without a usable hash, so kiln cannot tell whether it is the same file",
            hint="compare the files by hand, or publish without `--check-url`",
        )
    local = _local_digest(dist.path, algorithm)
    remote = remote_hashes[algorithm].lower()
    return Existing("same" if local == remote else "different", algorithm, local, remote)


def _find(listed: dict[str, dict[str, str]], dist: DistFilename) -> dict[str, str] | None:
    if dist.filename in listed:
        return listed[dist.filename]
    key = _identity(dist)
    for filename, hashes in listed.items():
        try:
            other = parse_filename(Path(filename))
        except ValueError:
            continue
        if _identity(other) == key and _same_tags(other.filename, dist.filename):
            return hashes
    return None


def _identity(dist: DistFilename) -> tuple[str, str, str]:
    return dist.name, str(dist.version), dist.filetype


def _same_tags(a: str, b: str) -> bool:
    from packaging.utils import parse_wheel_filename

    if not (a.endswith(".whl") and b.endswith(".whl")):
        return True  # two sdists of one name and version
    return parse_wheel_filename(a)[3] == parse_wheel_filename(b)[3]


def _pick_algorithm(hashes: dict[str, str]) -> str | None:
    for name in _PREFERRED:
        if name in hashes:
            return name
    usable = sorted(set(hashes) & hashlib.algorithms_guaranteed)
    return usable[0] if usable else None


def _local_digest(path: Path, algorithm: str) -> str:
    return file_digests(path, [algorithm])[algorithm]


def _files_on_page(response: Response) -> dict[str, dict[str, str]]:
    """File name -> {algorithm: hex digest} for every file on a project page."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.endswith("+json") or content_type == "application/json":
        try:
            data = json.loads(response.text)
            return {
                str(f["filename"]): {str(k).lower(): str(v) for k, v in f.get("hashes", {}).items()}
                for f in data.get("files", [])
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KilnError(
                f"the check URL answered with malformed JSON at {redact_url(str(response.url))}"
            ) from None
    parser = _LinkParser(str(response.url))
    parser.feed(response.text)
    return parser.files


class _LinkParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.files: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag != "a" or not href:
            return
        parts = urlsplit(urljoin(self.base, href))
        filename = unquote(parts.path.rsplit("/", 1)[-1])
        hashes: dict[str, str] = {}
        algorithm, sep, digest = parts.fragment.partition("=")
        if sep and digest:
            hashes[algorithm.lower()] = digest
        self.files[filename] = hashes
