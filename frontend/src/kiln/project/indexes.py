"""The index settings of a project, for the index client: ``[[tool.kiln.index]]``, the
``index = "..."`` pins of ``[tool.kiln.sources]`` and ``index-strategy`` (each else its
``[tool.uv]`` twin)."""

from __future__ import annotations

from pathlib import Path

from packaging.utils import NormalizedName

from kiln.core.index.config import ProjectIndexConfig, SourcePin
from kiln.project.pyproject import FILENAME, load_pyproject
from kiln.project.toml import load_toml


def index_config(pyproject: Path) -> ProjectIndexConfig:
    """The index settings of the file ``pyproject`` (a missing file has none).

    Index names in pins are checked later, against every configured index (a workspace
    member may pin an index its root defines).
    """
    from kiln.core.sources.model import IndexSource

    if not pyproject.is_file():
        return ProjectIndexConfig(path=pyproject)
    project = load_pyproject(pyproject)
    indexes = project.tool.indexes
    pins: dict[NormalizedName, tuple[SourcePin, ...]] = {}
    for package, entries in project.tool.sources(None).entries.items():
        found = tuple(
            SourcePin(index=e.source.index, marker=e.marker, extra=e.extra, group=e.group)
            for e in entries
            if isinstance(e.source, IndexSource)
        )
        if found:
            pins[package] = found
    return ProjectIndexConfig(
        indexes=indexes, pins=pins, path=pyproject, strategy=project.tool.index_strategy,
        keyring_provider=project.tool.keyring_provider,
    )


def find_configured_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that configures kiln (or uv).

    A ``pyproject.toml`` without a ``[tool.kiln]`` or ``[tool.uv]`` table is passed over,
    so a plain project inside a configured workspace still gets the workspace's indexes.
    """
    start = start.absolute()
    for directory in (start, *start.parents):
        candidate = directory / FILENAME
        if not candidate.is_file():
            continue
        tool = load_toml(candidate).get("tool", {})
        if isinstance(tool, dict) and ("kiln" in tool or "uv" in tool):
            return candidate
    return None
