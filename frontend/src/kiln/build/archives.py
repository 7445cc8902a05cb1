"""Unpacking sdists safely and listing archive members."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from kiln.errors import KilnError

SDIST_SUFFIX = ".tar.gz"


def extract_sdist(archive: Path, destination: Path) -> Path:
    """Unpack ``archive`` with tarfile's ``data`` filter; return the source tree.

    The tree is the single top-level directory when there is one, else ``destination``.
    """
    if not hasattr(tarfile, "data_filter"):
        raise KilnError(
            "unpacking a source distribution safely needs the tarfile `data` filter",
            hint="use Python 3.10.12, 3.11.4, 3.12 or newer",
        )
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(destination, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise KilnError(f"cannot unpack source distribution `{archive}`: {exc}") from None
    entries = list(destination.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return destination


def archive_members(archive: Path) -> list[str]:
    """The file members of a wheel or an sdist, in archive order."""
    if archive.name.endswith(".whl") or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            return [info.filename for info in zf.infolist() if not info.is_dir()]
    with tarfile.open(archive, "r:*") as tar:
        return [member.name for member in tar.getmembers() if not member.isdir()]
