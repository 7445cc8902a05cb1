"""Getting the distribution files that build-requirement sources point at.

``url`` sources are downloaded into ``<cache>/build-sources-v1/url/`` (``file:`` URLs are used
in place); ``index`` pins pick the best file of the pinned index with kiln's index client.
Nothing here builds: sdists are returned as they are, for the caller to build.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.tags import sys_tags
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.index.config import Index
from kiln.core.index.redaction import redact, strip_credentials
from kiln.core.types import DistFile
from kiln.errors import KilnError

WHEEL_SUFFIX = ".whl"
SDIST_SUFFIXES = (".tar.gz", ".zip")


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


def fetch_url(url: str, cache: Path, *, refresh: bool = False) -> Path:
    """A local copy of the archive at ``url`` (a ``file:`` URL is its own copy)."""
    from kiln.core.index.http import file_url_path

    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        path = file_url_path(url)
        if not path.is_file():
            raise KilnError(f"`{url}` does not exist")
        return path
    filename = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    if not is_distribution(filename):
        raise KilnError(
            f"`{redact(url)}` does not name a wheel or a source distribution",
            hint="a `url` source must end in `.whl`, `.tar.gz` or `.zip`",
        )
    key = hashlib.sha256(strip_credentials(url).encode()).hexdigest()[:24]
    directory = cache / key
    target = directory / filename
    if target.is_file() and not refresh:
        return target
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            _download(url, out.write)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _download(url: str, write: Callable[[bytes], object]) -> None:
    from kiln.core.index.credentials import CredentialStore
    from kiln.core.index.http import HttpSession, HttpSettings

    session = HttpSession(CredentialStore((), os.environ), None, HttpSettings(timeout=60.0))
    try:
        with session.stream(url, {"Accept-Encoding": "identity"}) as response:
            if response.status_code != 200:
                raise KilnError(
                    f"cannot download `{redact(url)}`: HTTP status {response.status_code}"
                )
            for chunk in response.iter_bytes(256 * 1024):
                write(chunk)
    finally:
        session.close()


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


def fetch_pinned(
    name: NormalizedName, index: Index, allowed: Callable[[Version], bool]
) -> tuple[list[Version], Path | None]:
    """The versions ``index`` offers for ``name``, and the best allowed file downloaded.

    Only ``index`` is asked: a pinned package never comes from anywhere else.
    """
    from kiln.core.index.config import SourcePin
    from kiln.core.index.locations import IndexLocations
    from kiln.core.index.source import IndexPackageSource

    label = index.name or "pinned"
    locations = IndexLocations(
        indexes=(),
        explicit=(index,),
        named={label: index},
        pins={name: (SourcePin(index=label),)},
    )
    with IndexPackageSource(locations) as client:
        files = list(client.files(name))
        offered = sorted({file.version for file in files}, reverse=True)
        chosen = pick_file(files, allowed)
        if chosen is None:
            return offered, None
        return offered, client.download(chosen)
