"""Unpacking sdists safely and listing archive members."""

from __future__ import annotations

import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

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
            members = tar.getmembers()
            for member in members:
                _check_member(archive, member.name)
            tar.extractall(destination, members=members, filter="data")
    except (EOFError, tarfile.ReadError) as exc:
        if not isinstance(exc, EOFError) and "unexpected end of data" not in str(exc):
            raise KilnError(f"cannot unpack source distribution `{archive}`: {exc}") from None
        raise KilnError(
            f"cannot unpack source distribution `{archive}`: the file is truncated",
            hint="download or build it again",
        ) from None
    except (OSError, tarfile.TarError, zlib.error) as exc:
        raise KilnError(f"cannot unpack source distribution `{archive}`: {exc}") from None
    entries = list(destination.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return destination


def _check_member(archive: Path, name: str) -> None:
    """Say what is wrong with a member name before anything is written.

    tarfile's ``data`` filter would strip a leading ``/`` and unpack the member
    anyway, so an sdist with an absolute member looked like a tree with no project.
    """
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        raise KilnError(
            f"cannot unpack source distribution `{archive}`: "
            f"the sdist member `{name}` is an absolute path",
            hint="the archive is malformed or hostile; do not use it",
        )
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        raise KilnError(
            f"cannot unpack source distribution `{archive}`: "
            f"the sdist member `{name}` leads out of the archive through `..`",
            hint="the archive is malformed or hostile; do not use it",
        )


def archive_members(archive: Path) -> list[str]:
    """The file members of a wheel or an sdist, in archive order."""
    if archive.name.endswith(".whl") or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            return [info.filename for info in zf.infolist() if not info.is_dir()]
    with tarfile.open(archive, "r:*") as tar:
        return [member.name for member in tar.getmembers() if not member.isdir()]
