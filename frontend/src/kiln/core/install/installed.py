"""Reading what is installed in an environment (``*.dist-info`` directories)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.headers import Headers, parse_headers
from kiln.core.install.environment import Environment


@dataclass(frozen=True)
class InstalledDistribution:
    name: NormalizedName
    display_name: str
    version: str
    dist_info: Path
    editable: bool
    requested: bool
    installer: str
    requires: tuple[str, ...]
    #: The parsed ``direct_url.json`` (PEP 610), when there is one.
    direct_url: dict[str, object] | None

    @property
    def location(self) -> Path:
        return self.dist_info.parent


def installed_distributions(env: Environment) -> list[InstalledDistribution]:
    """Every distribution in the environment's site-packages, sorted by name."""
    return distributions_in((env.scheme.purelib, env.scheme.platlib))


def distributions_in(folders: Iterable[Path]) -> list[InstalledDistribution]:
    """Every distribution in ``folders`` (site-packages directories), sorted by name; the
    first folder wins for a name found twice, and a missing folder holds none."""
    found: dict[NormalizedName, InstalledDistribution] = {}
    for folder in dict.fromkeys(folders):
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            dist = read_distribution(folder / entry)
            if dist is not None:
                found.setdefault(dist.name, dist)
    return sorted(found.values(), key=lambda d: d.name)


def find_installed(env: Environment, name: str) -> InstalledDistribution | None:
    wanted = canonicalize_name(name)
    for dist in installed_distributions(env):
        if dist.name == wanted:
            return dist
    return None


def read_distribution(dist_info: Path) -> InstalledDistribution | None:
    """The distribution described by ``dist_info``; None when its METADATA is unreadable."""
    try:
        metadata = read_headers(dist_info / "METADATA")
    except OSError:
        return None
    name = metadata.get("Name")
    version = metadata.get("Version")
    if not name or not version:
        return None
    direct_url = _direct_url(dist_info / "direct_url.json")
    dir_info = direct_url.get("dir_info") if direct_url else None
    return InstalledDistribution(
        name=canonicalize_name(str(name)),
        display_name=str(name),
        version=str(version),
        dist_info=dist_info,
        editable=isinstance(dir_info, dict) and dir_info.get("editable") is True,
        requested=(dist_info / "REQUESTED").exists(),
        installer=_read_text(dist_info / "INSTALLER").strip(),
        requires=tuple(str(r) for r in metadata.get_all("Requires-Dist") or ()),
        direct_url=direct_url,
    )


def read_headers(path: Path) -> Headers:
    """The header fields of an email-style file (METADATA, WHEEL); raises ``OSError``."""
    with open(path, "rb") as handle:
        return parse_headers(handle.read())


def _direct_url(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
