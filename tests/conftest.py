"""Session-wide test setup shared by every test file."""

from __future__ import annotations

import os
import tempfile


def pytest_configure() -> None:
    # Keep kiln's caches (and kiln_build's metadata cache) out of the user's home and
    # separate per test process, so tests never see each other's or a developer's state.
    root = tempfile.mkdtemp(prefix="kiln-test-cache-")
    os.environ.setdefault("KILN_CACHE_DIR", os.path.join(root, "kiln"))
    os.environ.setdefault("KILN_BUILD_CACHE_DIR", os.path.join(root, "build-backend"))
