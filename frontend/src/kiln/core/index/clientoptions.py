"""How the index client uses its cache and the network (``--no-cache``, ``--offline``, ...).

Kept apart from the client itself so that settings can be made without loading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class ClientOptions(NamedTuple):
    """Cache and network behaviour of the index client."""

    cache_dir: Path | None = None
    no_cache: bool = False
    offline: bool = False
    refresh: bool = False
    #: Revalidate the cached pages and files of these packages only (``--refresh-package``).
    refresh_packages: frozenset[str] = frozenset()
    timeout: float = 30.0
    retries: int = 3
