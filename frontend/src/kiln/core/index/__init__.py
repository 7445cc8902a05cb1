"""The index client: configuration, Simple API pages, metadata, downloads and caching.

Library code only; it never prints. Start from :func:`resolve_locations` and
:class:`IndexPackageSource`.
"""

from __future__ import annotations

from kiln.core.index.config import PYPI_URL, Index, IndexStrategy
from kiln.core.index.locations import IndexLocations, IndexOptions, resolve_locations
from kiln.core.index.metadata import MetadataNeedsBuild
from kiln.core.index.project import ProjectIndexConfig, SourcePin, load_project_config
from kiln.core.index.redact import redact
from kiln.core.index.source import ClientOptions, IndexPackageSource

__all__ = [
    "PYPI_URL",
    "ClientOptions",
    "Index",
    "IndexLocations",
    "IndexOptions",
    "IndexPackageSource",
    "IndexStrategy",
    "MetadataNeedsBuild",
    "ProjectIndexConfig",
    "SourcePin",
    "load_project_config",
    "redact",
    "resolve_locations",
]
