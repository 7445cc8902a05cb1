"""The ``[[packages]]`` of a lock, made from a universal resolution.

* A package from an index lists its index, every file of the locked version that the index
  offers (yanked ones only when every file is yanked) with size, upload time and sha256,
  less the wheels that no Python the lock allows can install.
* A workspace member that is a package, and a ``path`` dependency on a directory, is a
  ``directory`` entry (editable for members unless its source says otherwise), without a
  version: the code it stands for can change.
* A ``git`` dependency is a ``vcs`` entry with the full commit id; a ``url`` dependency or a
  ``path`` dependency on a file is an ``archive`` entry with its sha256.

Paths are relative to the lock's directory and written with ``/``; every URL loses its
``user:password@``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.index.config import Index
from kiln.core.index.redaction import strip_credentials
from kiln.core.lockfile.inputs import LockInputs
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import ResolvedPackage
from kiln.core.sources.lower import LoweredRequirement
from kiln.core.sources.model import GitSource, PathSource
from kiln.core.timestamps import parse_timestamp
from kiln.core.types import Built, DistFile, PackageSource
from kiln.errors import KilnError

#: Where the sha256 of a file without one on its index comes from (a download).
Hasher = Callable[[DistFile], tuple[str, int]]


class EntryMaker:
    """Turns pins into ``[[packages]]`` tables."""

    def __init__(
        self,
        root: Path,
        floor: Version,
        source: PackageSource,
        indexes: Sequence[Index],
        built: Mapping[str, Built],
        hasher: Hasher,
        *,
        members: Sequence[tuple[NormalizedName, Path]] = (),
        direct: Mapping[str, LoweredRequirement] | None = None,
        editables: Collection[str] = (),
        routed: Callable[[Mapping[NormalizedName, str | None]], PackageSource] | None = None,
        target: TargetEnvironment | None = None,
    ) -> None:
        """``root``: the lock's directory (paths are written relative to it); ``floor``:
        the oldest Python the lock allows; ``members``: workspace members that are packages
        (``directory`` entries); ``direct``: direct references by URL, as lowered from the
        sources; ``editables``: URLs of directories installed editable; ``routed``:
        ``source`` with packages pinned to the named indexes, for the files of versions
        from a named index (which may be one the package is pinned to only in some
        environments); ``target``: a lock for that environment only lists only the wheels
        it can install."""
        self.root = root
        self.floor = floor
        self.source = source
        self.indexes = {index.label: index for index in indexes}
        self.built = built
        self.hasher = hasher
        self.members = tuple(members)
        self.direct = direct or {}
        self.editables = frozenset(editables)
        self.routed = routed
        self.target = target

    @classmethod
    def for_lock(
        cls,
        inputs: LockInputs,
        source: PackageSource,
        indexes: Sequence[Index],
        built: Mapping[str, Built],
        hasher: Hasher,
        *,
        routed: Callable[[Mapping[NormalizedName, str | None]], PackageSource] | None = None,
    ) -> EntryMaker:
        """The maker of a workspace's lock."""
        return cls(
            inputs.workspace.root, inputs.floor, source, indexes, built, hasher,
            members=[(member.normalized_name, member.path) for member in inputs.packages],
            direct=inputs.direct, routed=routed,
        )

    def entries(self, pins: Iterable[ResolvedPackage]) -> list[dict[str, Any]]:
        """Every entry, sorted by name, then version, then marker."""
        found = [self._member(name, path) for name, path in self.members]
        found += [self._pin(pin) for pin in pins]
        return sorted(found, key=_order)

    # -- entries --------------------------------------------------------------------------------

    def _member(self, name: NormalizedName, path: Path) -> dict[str, Any]:
        return {"name": name, "directory": {"path": self._path(path), "editable": True}}

    def _pin(self, pin: ResolvedPackage) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": pin.name}
        if pin.direct_url is not None:
            return self._direct(entry, pin)
        entry["version"] = str(pin.version)
        if pin.marker:
            entry["marker"] = pin.marker
        if pin.file.requires_python is not None:
            entry["requires-python"] = str(pin.file.requires_python)
        index = self.indexes.get(pin.file.index)
        if index is not None and index.format != "flat":
            entry["index"] = _index_url(index.url)
        files = self._files(pin)
        sdists = [f for f in files if f.tags is None]
        wheels = [f for f in files if f.tags is not None and self._installable(f.tags)]
        if self.target is not None:
            wheels = [f for f in wheels if any(
                self.target.tag_rank(tag) is not None for tag in f.tags or ())]
        if sdists:
            entry["sdist"] = self._file(sdists[0])
        if wheels:
            entry["wheels"] = [self._file(f) for f in wheels]
        if not sdists and not wheels:  # only wheels for Pythons the lock does not allow
            entry["wheels"] = [self._file(pin.file)]
        return entry

    def _direct(self, entry: dict[str, Any], pin: ResolvedPackage) -> dict[str, Any]:
        url = pin.direct_url
        assert url is not None
        lowered = self.direct.get(url)
        built = self.built.get(url)
        info = built.direct_url if built is not None else None
        if info is not None and "dir_info" in info:
            editable = bool(lowered is not None and lowered.editable) or url in self.editables
            path = lowered.source.path if lowered is not None and isinstance(
                lowered.source, PathSource) else _file_path(str(info["url"]))
            entry["directory"] = {"path": self._path(path), "editable": editable}
            if pin.marker:
                entry["marker"] = pin.marker
            return entry
        entry["version"] = str(pin.version)
        if pin.marker:
            entry["marker"] = pin.marker
        if info is not None and "vcs_info" in info:
            vcs = info["vcs_info"]
            assert isinstance(vcs, dict)
            table: dict[str, Any] = {"type": vcs.get("vcs", "git"),
                                     "url": strip_credentials(str(info["url"]))}
            requested = vcs.get("requested_revision")
            if lowered is not None and isinstance(lowered.source, GitSource):
                # What the source asks for (the build may have been of the locked commit).
                reference = lowered.source.reference
                requested = reference[1] if reference is not None else None
            if requested:
                table["requested-revision"] = requested
            table["commit-id"] = vcs["commit_id"]
            if info.get("subdirectory"):
                table["subdirectory"] = info["subdirectory"]
            entry["vcs"] = table
            return entry
        base, _, fragment = url.partition("#")
        archive: dict[str, Any] = {}
        if base.startswith("file:"):
            archive["path"] = self._path(_file_path(base))
        else:
            archive["url"] = strip_credentials(base)
        digest: str | None = None
        if info is not None and "archive_info" in info:
            hashes = info["archive_info"]
            assert isinstance(hashes, dict)
            digest = hashes.get("hashes", {}).get("sha256")
        size: int | None = None
        if digest is None or base.startswith("file:"):
            digest, size = self.hasher(_download_file(pin, base))
        if size is not None:
            archive["size"] = size
        archive["hashes"] = {"sha256": digest}
        for part in fragment.split("&"):
            key, _, value = part.partition("=")
            if key == "subdirectory" and value:
                archive["subdirectory"] = value
        entry["archive"] = archive
        return entry

    # -- files ----------------------------------------------------------------------------------

    def _files(self, pin: ResolvedPackage) -> list[DistFile]:
        """The files of the pinned version on the index that offered the chosen file."""
        source = self.source
        index = self.indexes.get(pin.file.index)
        if self.routed is not None and index is not None and index.name is not None:
            source = self.routed({pin.name: index.name})
        offered = [
            f for f in source.files(pin.name, SpecifierSet(f"=={pin.version}"))
            if f.version == pin.version and f.index == pin.file.index
        ]
        usable = [f for f in offered if f.yanked is None] or offered
        return sorted(usable, key=lambda f: f.filename) or [pin.file]

    def _file(self, file: DistFile) -> dict[str, Any]:
        table: dict[str, Any] = {}
        if file.url.startswith("file:"):
            table["path"] = self._path(_file_path(file.url))
        else:
            table["url"] = strip_credentials(file.url.partition("#")[0])
        uploaded = _uploaded(file)
        if uploaded is not None:
            table["upload-time"] = uploaded
        digest = file.hashes.get("sha256")
        size = file.size
        if digest is None:
            digest, size = self.hasher(file)
        if size is not None:
            table["size"] = size
        table["hashes"] = {"sha256": digest}
        return table

    def _installable(self, tags: frozenset[Tag]) -> bool:
        """Whether some Python the lock allows can install a wheel with ``tags`` (only
        wheels for an older CPython or PyPy than the floor are left out)."""
        floor = (self.floor.major, self.floor.minor)
        for tag in tags:
            interpreter = tag.interpreter
            if tag.abi == "abi3" or interpreter[:2] not in ("cp", "pp"):
                return True
            digits = interpreter[2:]
            if not digits.isdigit() or len(digits) < 2:
                return True
            if (int(digits[0]), int(digits[1:])) >= floor:
                return True
        return False

    def _path(self, path: Path) -> str:
        relative = os.path.relpath(path, self.root)
        return "." if relative == "." else Path(relative).as_posix()


def _uploaded(file: DistFile) -> datetime | None:
    """The upload time of ``file``; None when the index gives none (or a wrong one)."""
    if file.upload_time is None:
        return None
    try:
        return parse_timestamp(file.upload_time)
    except ValueError:
        return None


def _file_path(url: str) -> Path:
    from kiln.core.fileio import file_url_path

    return file_url_path(url)


def _download_file(pin: ResolvedPackage, url: str) -> DistFile:
    filename = url.rsplit("/", 1)[-1]
    return DistFile(pin.name, pin.version, filename, url)


def _index_url(url: str) -> str:
    return strip_credentials(url)


def _order(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    version = entry.get("version")
    return (entry["name"], Version(version) if version else Version("0"), entry.get("marker", ""))


def file_hasher(download: Callable[[DistFile], Path]) -> Hasher:
    """A :data:`Hasher` that downloads the file (or reads it, for a ``file:`` URL)."""
    from kiln.core.fileio import file_sha256

    def hasher(file: DistFile) -> tuple[str, int]:
        try:
            path = download(file)
            return file_sha256(path), path.stat().st_size
        except OSError as exc:
            raise KilnError(f"cannot read `{file.filename}` to hash it: {exc}") from None

    return hasher
