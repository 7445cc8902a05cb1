"""Digests of kiln's own code, for cache entries whose content that code decides.

An entry made by other code (another release, a fix in a checkout) must not be read as if
this code had made it, so such caches put a digest of the code into their keys: the
files the modules are loaded from (their source, or their byte code when installed
without it), read, not run. A module not imported yet is found without importing it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Iterable
from types import ModuleType


def code_key(modules: Iterable[ModuleType | str], *facts: str) -> str | None:
    """A digest of the files of ``modules`` (modules or their names) and of ``facts``
    (versions of what the code relies on); None when a module has no file to read."""
    digest = hashlib.sha256("\0".join(facts).encode())
    for module in modules:
        if isinstance(module, str):
            loaded = sys.modules.get(module)
            spec = loaded.__spec__ if loaded is not None else importlib.util.find_spec(module)
            name = module
        else:
            spec, name = module.__spec__, module.__name__
        get_data = getattr(spec.loader, "get_data", None) if spec is not None else None
        if spec is None or get_data is None or not spec.has_location or spec.origin is None:
            return None
        try:
            code = get_data(spec.origin)
        except OSError:
            return None
        if not isinstance(code, bytes):
            return None
        digest.update(b"\0" + name.encode() + b"\0" + code)
    return digest.hexdigest()
