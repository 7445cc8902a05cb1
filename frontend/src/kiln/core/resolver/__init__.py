"""Dependency resolution: PubGrub over PEP 440 versions, for one target environment.

The entry point is :func:`resolve`; :func:`render_requirements` turns its result into a
``requirements.txt``. Nothing here prints.
"""

from __future__ import annotations

from kiln.core.resolver.compile import CompileOptions, render_requirements
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.errors import ResolutionError
from kiln.core.resolver.provider import MetadataBuilder, PrereleaseMode
from kiln.core.resolver.resolution import Dependency, Resolution, ResolvedPackage
from kiln.core.resolver.resolve import resolve

__all__ = [
    "CompileOptions",
    "Dependency",
    "MetadataBuilder",
    "PrereleaseMode",
    "Resolution",
    "ResolutionError",
    "ResolvedPackage",
    "TargetEnvironment",
    "render_requirements",
    "resolve",
]
