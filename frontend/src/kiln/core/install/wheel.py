"""Checking a wheel and unpacking it once into the cache (``wheels-v1/<sha256>/``).

Every member is checked before anything is published: its path must stay inside the
wheel (no absolute paths, no ``..``, no symlinks), and its content must match the hash
and size its RECORD lists. A tree only appears in the cache, by an atomic rename, once
all checks passed, so a cached tree is always a verified one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from kiln.core.cachedir import cache_root
from kiln.core.fileio import file_sha256
from kiln.core.install.installed import read_headers
from kiln.core.install.ownership import INTERPRETER_NAME
from kiln.core.install.record import ACCEPTED_ALGORITHMS, encode_digest, parse_record
from kiln.core.statmemo import StatMemo
from kiln.errors import KilnError

if TYPE_CHECKING:
    import zipfile

CACHE_BUCKET = "wheels-v1"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
DATA_KEYS = frozenset({"purelib", "platlib", "scripts", "data", "headers"})
_SIGNATURES = frozenset({"RECORD.jws", "RECORD.p7s"})


class UnpackedWheel(NamedTuple):
    """A verified wheel, unpacked in the cache."""

    root: Path
    filename: str
    name: NormalizedName
    display_name: str
    version: Version
    dist_info: str  # e.g. "demo-1.0.dist-info"
    root_is_purelib: bool
    sha256: str
    #: METADATA's ``Requires-Python``, if it states one.
    requires_python: str | None = None

    @property
    def data_dir(self) -> str:
        return self.dist_info[: -len(".dist-info")] + ".data"


class WheelError(KilnError):
    def __init__(self, filename: str, problem: str, hint: str | None = None) -> None:
        super().__init__(f"invalid wheel `{filename}`: {problem}", hint=hint)


def unpack_wheel(path: Path, cache: Path | None = None) -> UnpackedWheel:
    """Verify ``path`` and unpack it into the cache, reusing an earlier unpacking."""
    known = unpacked_already(path, cache)
    if known is not None:
        return known
    name, version = _parse_filename(path.name)
    root = cache or cache_root()
    memo = StatMemo(root)
    remembered = memo.remember(path, "sha256", lambda: _file_sha256(path).encode("ascii"))
    digest = remembered.decode("ascii", errors="replace")
    if not _SHA256_HEX.fullmatch(digest):  # a damaged entry: hash the file after all
        digest = _file_sha256(path)
    bucket = root / CACHE_BUCKET
    target = bucket / digest
    if not target.is_dir():
        bucket.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=bucket))
        try:
            _extract_verified(path, staging, name, _unreadable_hint(path, root, name))
            _describe(staging, path.name, name, version, digest)  # WHEEL and METADATA checks
            _publish(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _described(memo, path, _describe(target, path.name, name, version, digest))


def unpacked_already(path: Path, cache: Path | None = None) -> UnpackedWheel | None:
    """The cached unpacking of ``path`` when this very file (by its recorded sha256) was
    unpacked before; None when :func:`unpack_wheel` has real work to do.

    What the unpacked tree's WHEEL and METADATA say is remembered with the file, so that
    a later install of the same file reads neither."""
    name, version = _parse_filename(path.name)
    root = cache or cache_root()
    memo = StatMemo(root)
    recalled = _recall(memo.recall(path, _DESCRIPTION), root, path.name, name)
    if recalled is not None:
        return recalled
    remembered = memo.recall(path, "sha256")
    if remembered is None:
        return None
    digest = remembered.decode("ascii", errors="replace")
    target = root / CACHE_BUCKET / digest
    if not _SHA256_HEX.fullmatch(digest) or not target.is_dir():
        return None
    return _described(memo, path, _describe(target, path.name, name, version, digest))


#: The StatMemo fact holding an unpacked wheel's description (see :func:`_recall`).
_DESCRIPTION = "unpacked-wheel-1"


def _described(memo: StatMemo, path: Path, wheel: UnpackedWheel) -> UnpackedWheel:
    """``wheel``, whose description is now remembered for the file at ``path``."""
    fields = {
        "sha256": wheel.sha256, "dist_info": wheel.dist_info, "name": wheel.display_name,
        "version": str(wheel.version), "purelib": wheel.root_is_purelib,
        "requires_python": wheel.requires_python,
    }
    memo.remember(path, _DESCRIPTION, lambda: json.dumps(fields).encode("utf-8"))
    return wheel


def _recall(
    stored: bytes | None, root: Path, filename: str, name: NormalizedName
) -> UnpackedWheel | None:
    """The remembered description of an unpacked wheel, if it is sound and its tree is
    still in the cache."""
    if stored is None:
        return None
    try:
        fields = json.loads(stored)
        digest, dist_info = fields["sha256"], fields["dist_info"]
        display_name, requires = fields["name"], fields["requires_python"]
        if not (
            isinstance(digest, str) and _SHA256_HEX.fullmatch(digest)
            and isinstance(dist_info, str) and isinstance(display_name, str)
            and canonicalize_name(display_name) == name
            and isinstance(fields["purelib"], bool)
            and (requires is None or isinstance(requires, str))
        ):
            return None
        wheel = UnpackedWheel(
            root=root / CACHE_BUCKET / digest,
            filename=filename,
            name=name,
            display_name=display_name,
            version=Version(fields["version"]),
            dist_info=dist_info,
            root_is_purelib=fields["purelib"],
            sha256=digest,
            requires_python=requires,
        )
    except (ValueError, TypeError, KeyError, InvalidVersion):
        return None
    return wheel if wheel.root.is_dir() else None


def _parse_filename(filename: str) -> tuple[NormalizedName, Version]:
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise WheelError(filename, f"bad file name ({exc})") from None
    return name, version


def _file_sha256(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError as exc:
        raise KilnError(f"cannot read wheel `{path}`: {exc.strerror}") from None


def _publish(staging: Path, target: Path) -> None:
    try:
        os.rename(staging, target)
    except OSError:
        if not target.is_dir():  # not a lost race with another process: a real failure
            raise


def _unreadable_hint(path: Path, cache: Path, name: NormalizedName) -> str:
    """What to do about a wheel that cannot be read: one in kiln's cache of downloads was
    checked against its sha256 just before, so the download itself is broken."""
    if Path(os.path.abspath(path)).is_relative_to(os.path.abspath(cache)):
        return (
            f"it is kiln's cached download `{path}`; run `kiln cache clean {name}` to "
            "download it again (if that fails the same way, the index serves a broken file)"
        )
    return f"`{path}` is damaged or not a wheel"


def _extract_verified(path: Path, destination: Path, name: NormalizedName, hint: str) -> None:
    import zipfile  # only for a wheel not unpacked before

    filename = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise WheelError(filename, f"not a readable zip archive ({exc})", hint) from None
    with archive:
        members = _checked_members(archive, filename)
        dist_info = _find_dist_info({m.filename.split("/")[0] for m in members}, name, filename)
        record = _read_record(archive, f"{dist_info}/RECORD", filename)
        _check_data_dir(members, dist_info, filename)
        listed = {p for p in record if not p.endswith("/")} - {f"{dist_info}/RECORD"}
        for member in members:
            relative = member.filename
            if relative == f"{dist_info}/RECORD" or (
                relative.startswith(f"{dist_info}/") and relative.split("/")[-1] in _SIGNATURES
            ):
                _extract(archive, member, destination, None, filename, hint)
                continue
            if relative not in record:
                raise WheelError(filename, f"`{relative}` is not listed in RECORD")
            _extract(archive, member, destination, record[relative], filename, hint)
            listed.discard(relative)
        if listed:
            missing = sorted(listed)[0]
            raise WheelError(filename, f"RECORD lists `{missing}`, which is not in the archive")


def _checked_members(archive: zipfile.ZipFile, filename: str) -> list[zipfile.ZipInfo]:
    members = []
    seen: set[str] = set()
    for info in archive.infolist():
        relative = info.filename
        if relative.endswith("/"):
            continue
        _check_member_path(relative, filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise WheelError(filename, f"member `{relative}` is a symbolic link")
        if relative in seen:
            raise WheelError(filename, f"member `{relative}` appears twice")
        seen.add(relative)
        members.append(info)
    return members


def _check_member_path(relative: str, filename: str) -> None:
    parts = relative.split("/")
    if (
        relative.startswith("/")
        or "\\" in relative
        or re.match(r"^[A-Za-z]:", relative)
        or any(part in ("", ".", "..") for part in parts)
        or "\x00" in relative
    ):
        raise WheelError(
            filename,
            f"member path `{relative}` escapes the install location",
            hint="wheel members must be relative paths without `..` components",
        )


def _find_dist_info(top_level: set[str], name: NormalizedName, filename: str) -> str:
    candidates = [
        entry
        for entry in top_level
        if entry.endswith(".dist-info") and canonicalize_name(entry.split("-")[0]) == name
    ]
    if len(candidates) != 1:
        found = "none" if not candidates else ", ".join(f"`{c}`" for c in sorted(candidates))
        raise WheelError(filename, f"expected one `.dist-info` directory for `{name}`, found {found}")
    return candidates[0]


def _read_record(archive: zipfile.ZipFile, member: str, filename: str) -> dict[str, tuple[str, str]]:
    import zipfile

    try:
        text = archive.read(member).decode("utf-8")
    except KeyError:
        raise WheelError(filename, f"`{member}` is missing") from None
    except (UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
        raise WheelError(filename, f"cannot read `{member}` ({exc})") from None
    try:
        entries = parse_record(text)
    except ValueError as exc:
        raise WheelError(filename, f"`{member}` has a {exc}") from None
    return {entry.path: (entry.hash, entry.size) for entry in entries}


def _check_data_dir(members: list[zipfile.ZipInfo], dist_info: str, filename: str) -> None:
    data_dir = dist_info[: -len(".dist-info")] + ".data"
    for member in members:
        parts = member.filename.split("/")
        if parts[0] != data_dir:
            continue
        if len(parts) < 3 or parts[1] not in DATA_KEYS:
            raise WheelError(
                filename,
                f"`{member.filename}` is not in a known `.data` subdirectory",
                hint="allowed: " + ", ".join(f"`{k}`" for k in sorted(DATA_KEYS)),
            )
        if parts[1] == "scripts" and INTERPRETER_NAME.match(parts[-1]):
            raise WheelError(filename, f"script `{parts[-1]}` would replace the Python interpreter")


def _extract(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    destination: Path,
    expected: tuple[str, str] | None,
    filename: str,
    hint: str,
) -> None:
    import zipfile
    import zlib

    algorithm = "sha256"
    if expected is not None:
        algorithm = expected[0].partition("=")[0]
        if algorithm not in ACCEPTED_ALGORITHMS:
            raise WheelError(
                filename, f"RECORD entry for `{member.filename}` has no usable hash (`{expected[0]}`)"
            )
    hasher = hashlib.new(algorithm)
    target = destination.joinpath(*member.filename.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    unreadable = (zipfile.BadZipFile, EOFError, zlib.error)
    try:
        with archive.open(member) as source, open(target, "wb") as sink:
            while chunk := source.read(1 << 20):
                hasher.update(chunk)
                size += len(chunk)
                sink.write(chunk)
    except unreadable as exc:
        raise WheelError(filename, f"cannot extract `{member.filename}` ({exc})", hint) from None
    except OSError as exc:
        raise WheelError(filename, f"cannot extract `{member.filename}` ({exc})") from None
    executable = (member.external_attr >> 16) & 0o111
    target.chmod(0o755 if executable else 0o644)
    if expected is None:
        return
    if encode_digest(algorithm, hasher.digest()) != expected[0]:
        raise WheelError(
            filename,
            f"hash of `{member.filename}` does not match its RECORD entry",
            hint="the wheel is corrupt or was modified after it was built",
        )
    if expected[1] and expected[1] != str(size):
        raise WheelError(filename, f"size of `{member.filename}` does not match its RECORD entry")


def _describe(
    root: Path, filename: str, name: NormalizedName, version: Version, digest: str
) -> UnpackedWheel:
    dist_info = _find_dist_info(set(os.listdir(root)), name, filename)
    wheel_meta = _headers(root / dist_info / "WHEEL", filename)
    wheel_version = wheel_meta.get("Wheel-Version", "")
    if wheel_version.split(".")[0] != "1":
        raise WheelError(filename, f"unsupported `Wheel-Version` `{wheel_version or '(missing)'}`")
    metadata = _headers(root / dist_info / "METADATA", filename)
    display_name = metadata.get("Name", "")
    if canonicalize_name(display_name) != name:
        raise WheelError(filename, f"METADATA `Name` is `{display_name}`, not `{name}`")
    try:
        meta_version = Version(metadata.get("Version", ""))
    except InvalidVersion:
        raise WheelError(filename, "METADATA has no valid `Version`") from None
    if meta_version != version and Version(meta_version.public) != version:
        raise WheelError(filename, f"METADATA `Version` is `{meta_version}`, not `{version}`")
    return UnpackedWheel(
        root=root,
        filename=filename,
        name=name,
        display_name=display_name,
        version=meta_version,
        dist_info=dist_info,
        root_is_purelib=wheel_meta.get("Root-Is-Purelib", "").strip().lower() == "true",
        sha256=digest,
        requires_python=metadata.get("Requires-Python"),
    )


def _headers(path: Path, filename: str) -> dict[str, str]:
    try:
        message = read_headers(path)
    except OSError:
        raise WheelError(filename, f"`{path.parent.name}/{path.name}` is missing") from None
    return {key: str(value) for key, value in message.items()}
