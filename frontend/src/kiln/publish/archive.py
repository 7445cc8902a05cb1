"""Reading the core metadata out of a wheel (``METADATA``) or an sdist (``PKG-INFO``).

Both readers go through the whole archive, so a truncated or corrupt file is found
here rather than by the index after the upload.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path


class ArchiveError(ValueError):
    """The file is not a readable distribution archive; the message says why."""


def read_metadata(path: Path, *, is_wheel: bool) -> str:
    """The core metadata text of the wheel or sdist at ``path``."""
    data = _wheel_metadata(path) if is_wheel else _sdist_metadata(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        what = "METADATA" if is_wheel else "PKG-INFO"
        raise ArchiveError(f"{what} is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def _wheel_metadata(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            candidates = [
                n for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if not candidates:
                raise ArchiveError("the wheel has no `*.dist-info/METADATA` file")
            if len(candidates) > 1:
                listed = ", ".join(f"`{c}`" for c in sorted(candidates))
                raise ArchiveError(f"the wheel has more than one METADATA file: {listed}")
            broken = archive.testzip()
            if broken is not None:
                raise ArchiveError(f"`{broken}` in the wheel is corrupt (CRC mismatch)")
            return archive.read(candidates[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ArchiveError(f"not a readable zip archive: {exc}") from None
    except OSError as exc:
        raise ArchiveError(f"cannot read the file: {exc.strerror or exc}") from None


def _sdist_metadata(path: Path) -> bytes:
    if not path.name.endswith(".tar.gz"):
        raise ArchiveError("source distributions must be `.tar.gz` files (PEP 625)")
    found: list[bytes] = []
    names: list[str] = []
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:  # reads the whole stream: finds truncation and bad CRCs
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "PKG-INFO" and member.isfile():
                    handle = archive.extractfile(member)
                    if handle is not None:
                        found.append(handle.read())
                        names.append(member.name)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveError(f"not a readable `.tar.gz` archive: {exc}") from None
    if not found:
        raise ArchiveError("the sdist has no `<name>-<version>/PKG-INFO` file")
    if len(found) > 1:
        listed = ", ".join(f"`{n}`" for n in sorted(names))
        raise ArchiveError(f"the sdist has more than one PKG-INFO file: {listed}")
    return found[0]
