"""The index client: configuration, Simple API pages, metadata, downloads and caching.

Library code only; it never prints. Start from :func:`resolve_locations` and
:class:`IndexPackageSource`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._lazy import lazy_exports

if TYPE_CHECKING:
    from kiln.core.index.clientoptions import ClientOptions
    from kiln.core.index.config import (
        PYPI_URL,
        Index,
        IndexStrategy,
        ProjectIndexConfig,
        SourcePin,
    )
    from kiln.core.index.locations import IndexLocations, IndexOptions, resolve_locations
    from kiln.core.index.metadata import MetadataNeedsBuild
    from kiln.core.index.redaction import redact
    from kiln.core.index.source import IndexPackageSource
    from kiln.core.index.tls import warm_up_tls

if not TYPE_CHECKING:  # the type checker reads the imports above instead
    #: Where each public name lives: imported on first use, so a command without an index loads no HTTP client code.
    __getattr__ = lazy_exports(__name__, {
        "ClientOptions": "kiln.core.index.clientoptions",
        "Index": "kiln.core.index.config",
        "IndexLocations": "kiln.core.index.locations",
        "IndexOptions": "kiln.core.index.locations",
        "IndexPackageSource": "kiln.core.index.source",
        "IndexStrategy": "kiln.core.index.config",
        "MetadataNeedsBuild": "kiln.core.index.metadata",
        "PYPI_URL": "kiln.core.index.config",
        "ProjectIndexConfig": "kiln.core.index.config",
        "SourcePin": "kiln.core.index.config",
        "redact": "kiln.core.index.redaction",
        "resolve_locations": "kiln.core.index.locations",
        "warm_up_tls": "kiln.core.index.tls",
    })

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
    "redact",
    "resolve_locations",
    "warm_up_tls",
]
