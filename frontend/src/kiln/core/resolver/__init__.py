"""Dependency resolution: PubGrub over PEP 440 versions, for one target environment or,
with :func:`resolve_universal`, for all of them at once.

The entry point is :func:`resolve`; :func:`render_requirements` turns its result into a
``requirements.txt``. Nothing here prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._lazy import lazy_exports

if TYPE_CHECKING:
    from kiln.core.resolver.compile import CompileOptions, render_requirements
    from kiln.core.resolver.driver import resolve
    from kiln.core.resolver.environment import TargetEnvironment
    from kiln.core.resolver.errors import ResolutionError
    from kiln.core.resolver.provider import MetadataBuilder, PrereleaseMode
    from kiln.core.resolver.resolution import (
        Dependency,
        Resolution,
        ResolvedPackage,
        UniversalResolution,
    )
    from kiln.core.resolver.universal import resolve_universal

if not TYPE_CHECKING:  # the type checker reads the imports above instead
    #: Where each public name lives: imported on first use, so a command that resolves nothing loads no solver.
    __getattr__ = lazy_exports(__name__, {
        "CompileOptions": "kiln.core.resolver.compile",
        "Dependency": "kiln.core.resolver.resolution",
        "MetadataBuilder": "kiln.core.resolver.provider",
        "PrereleaseMode": "kiln.core.resolver.provider",
        "Resolution": "kiln.core.resolver.resolution",
        "ResolutionError": "kiln.core.resolver.errors",
        "ResolvedPackage": "kiln.core.resolver.resolution",
        "TargetEnvironment": "kiln.core.resolver.environment",
        "render_requirements": "kiln.core.resolver.compile",
        "resolve": "kiln.core.resolver.driver",
        "resolve_universal": "kiln.core.resolver.universal",
        "UniversalResolution": "kiln.core.resolver.resolution",
    })

__all__ = [
    "CompileOptions",
    "Dependency",
    "MetadataBuilder",
    "PrereleaseMode",
    "Resolution",
    "ResolutionError",
    "ResolvedPackage",
    "TargetEnvironment",
    "UniversalResolution",
    "render_requirements",
    "resolve",
    "resolve_universal",
]
