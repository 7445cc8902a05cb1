"""Building small wheels for installer tests, with a correct (or deliberately wrong) RECORD."""

from __future__ import annotations

import base64
import hashlib
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, str | bytes],
    *,
    entry_points: str | None = None,
    root_is_purelib: bool = True,
    requires: tuple[str, ...] = (),
    executable: tuple[str, ...] = (),
    wrong_hash: tuple[str, ...] = (),
    unrecorded: Mapping[str, str | bytes] | None = None,
    symlinks: Mapping[str, str] | None = None,
    requires_python: str | None = None,
) -> Path:
    """Write ``<name>-<version>-py3-none-any.whl`` into ``directory`` and return its path.

    ``wrong_hash`` members get a RECORD hash that does not match; ``unrecorded``
    members are added to the archive without RECORD entries (for hostile paths);
    ``symlinks`` adds symbolic-link members.
    """
    dist = name.replace("-", "_")
    dist_info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python is not None:
        metadata += f"Requires-Python: {requires_python}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    members: dict[str, bytes] = {
        path: content.encode() if isinstance(content, str) else content
        for path, content in files.items()
    }
    members[f"{dist_info}/METADATA"] = metadata.encode()
    purelib = "true" if root_is_purelib else "false"
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: wheelbuilder\nRoot-Is-Purelib: {purelib}\n"
        "Tag: py3-none-any\n"
    ).encode()
    if entry_points is not None:
        members[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    record_lines = []
    for path, data in members.items():
        digest = _digest(b"tampered" if path in wrong_hash else data)
        record_lines.append(f"{path},{digest},{len(data)}")
    record_lines.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    wheel = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in members.items():
            info = zipfile.ZipInfo(path)
            mode = 0o755 if path in executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, data)
        for path, content in (unrecorded or {}).items():
            archive.writestr(path, content)
        for path, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(path)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return wheel


def tree(root: Path) -> dict[str, int]:
    """Every file and directory under ``root``: relative path -> mode (for comparisons)."""
    return {p.relative_to(root).as_posix(): p.lstat().st_mode for p in sorted(root.rglob("*"))}
