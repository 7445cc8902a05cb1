"""A cache of generated core metadata, so a rebuild skips validating ``[project]`` again.

Validation needs `pyproject-metadata` and `packaging`, whose import is most of the cost
of building a small project. An entry is keyed by the exact bytes of pyproject.toml
and is used only while every other input it was made from (readme, license files,
the module holding a dynamic ``__version__``, the names at the project root) is
unchanged. Set ``KILN_BUILD_NO_CACHE=1`` to bypass it; failures to read or write the
cache are ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from kiln_build import diagnostics
from kiln_build.metadata import CoreMetadata

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

FORMAT = 1


def cache_dir() -> Path | None:
    if os.environ.get("KILN_BUILD_NO_CACHE"):
        return None
    explicit = os.environ.get("KILN_BUILD_CACHE_DIR")
    if explicit:
        return Path(explicit)
    kiln = os.environ.get("KILN_CACHE_DIR")
    if kiln:
        return Path(kiln) / "build-backend"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "kiln" / "cache" / "build-backend" if base else None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "kiln" / "build-backend"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kiln" / "build-backend"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _root_names(root: Path) -> str:
    """The root-level names that default license discovery looks at."""
    from kiln_build.metadata import DEFAULT_LICENSE_PREFIXES

    with os.scandir(root) as entries:
        names = sorted(e.name for e in entries if e.name.startswith(DEFAULT_LICENSE_PREFIXES))
    return _digest("\0".join(names).encode())


def _file_digests(root: Path, paths: list[str]) -> dict[str, str] | None:
    result = {}
    for rel in paths:
        try:
            result[rel] = _digest((root / rel).read_bytes())
        except OSError:
            return None
    return result


def _code_stamp() -> bytes:
    """Identifies this copy of kiln_build, so an edited (e.g. editable) install misses the cache."""
    here = os.path.dirname(os.path.abspath(__file__))
    with os.scandir(here) as entries:
        stamps = sorted(
            f"{e.name}:{e.stat().st_mtime_ns}:{e.stat().st_size}"
            for e in entries
            if e.name.endswith(".py")
        )
    return "\0".join(stamps).encode()


def _cacheable(table: dict[str, Any]) -> bool:
    """Explicit license-files globs could match new files anywhere: do not cache those."""
    patterns = table.get("license-files")
    if patterns is None:
        return True
    return isinstance(patterns, list) and not any(
        isinstance(p, str) and any(c in p for c in "*?[") for p in patterns
    )


def lookup_or_build(
    root: Path,
    raw_pyproject: bytes,
    table: dict[str, Any],
    version_source: str | None,
    build: Callable[[], CoreMetadata],
) -> CoreMetadata:
    from kiln_build import __version__

    directory = cache_dir()
    if directory is None or not _cacheable(table):
        return build()
    key = _digest(
        b"\0".join([__version__.encode(), _code_stamp(), sys.version.encode(), raw_pyproject])
    )
    path = directory / f"{key}.json"
    try:
        entry = json.loads(path.read_text("utf-8"))
        valid = entry.get("format") == FORMAT and entry["root"] == _root_names(root)
        if valid and _file_digests(root, list(entry["inputs"])) == entry["inputs"]:
            for message in entry["warnings"]:
                diagnostics.warn(message)
            return _decode(entry["metadata"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    before = len(diagnostics.emitted)
    meta = build()
    inputs = [*meta.license_files]
    inputs.extend(p for p in (meta.readme, meta.legacy_license_file, version_source) if p)
    digests = _file_digests(root, inputs)
    if digests is None:
        return meta
    entry = {
        "format": FORMAT,
        "root": _root_names(root),
        "inputs": digests,
        "warnings": diagnostics.emitted[before:],
        "metadata": _encode(meta),
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temp = directory / f".{key}.{os.getpid()}.tmp"
        temp.write_text(json.dumps(entry), "utf-8")
        os.replace(temp, path)
    except OSError:
        pass
    return meta


def _encode(meta: CoreMetadata) -> dict[str, Any]:
    return {
        "name": meta.name,
        "version": meta.version,
        "dist_name": meta.dist_name,
        "metadata": meta.metadata.decode("utf-8"),
        "entry_points": None if meta.entry_points is None else meta.entry_points.decode("utf-8"),
        "license_files": meta.license_files,
        "readme": meta.readme,
        "legacy_license_file": meta.legacy_license_file,
    }


def _decode(data: dict[str, Any]) -> CoreMetadata:
    entry_points = data["entry_points"]
    return CoreMetadata(
        name=data["name"],
        version=data["version"],
        dist_name=data["dist_name"],
        metadata=data["metadata"].encode("utf-8"),
        entry_points=None if entry_points is None else entry_points.encode("utf-8"),
        license_files=list(data["license_files"]),
        readme=data["readme"],
        legacy_license_file=data["legacy_license_file"],
    )
