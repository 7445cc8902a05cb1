"""Where kiln keeps its cache: ``KILN_CACHE_DIR``, else the platform's user cache dir."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache directory (not created here)."""
    configured = os.environ.get("KILN_CACHE_DIR")
    if configured:
        return Path(configured).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_cache_dir("kiln", appauthor=False))
