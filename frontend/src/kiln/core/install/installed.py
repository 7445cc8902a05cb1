"""Reading what is installed in an environment (``*.dist-info`` directories)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

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
    found: dict[NormalizedName, InstalledDistribution] = {}
    for folder in dict.fromkeys((env.scheme.purelib, env.scheme.platlib)):
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


class Headers:
    """The header fields of an email-style file (METADATA, WHEEL), looked up by name in
    any case; a field given more than once keeps every value, in order."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        for key, value in self._fields:
            if key.lower() == wanted:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self._fields if key.lower() == wanted]

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)


def read_headers(path: Path) -> Headers:
    """The header section of an email-style file; raises ``OSError``.

    Only the lines before the first empty one are read: a long description in the body
    can be far bigger than the headers and does not change them. A line that starts
    with white space continues the field before it, as in email.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    fields: list[tuple[str, str]] = []
    for raw in data.decode("utf-8", "surrogateescape").split("\n"):
        line = raw.rstrip("\r")
        if not line:
            break
        if line[0] in " \t":
            if fields:
                key, value = fields[-1]
                fields[-1] = (key, f"{value}\n{line}")
            continue
        key, colon, value = line.partition(":")
        if colon:
            fields.append((key.strip(), value.lstrip()))
    return Headers(fields)


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
