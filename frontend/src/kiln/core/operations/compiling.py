"""``compile``: resolve requirement inputs into a pinned ``requirements.txt``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from packaging.version import Version

from kiln.core.index.redaction import redact
from kiln.core.operations.options import Events, Settings
from kiln.core.operations.session import Session
from kiln.core.requirements_file import RequirementsInput
from kiln.core.resolver.compile import CompileOptions, render_requirements
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import Resolution, UniversalResolution


@dataclass(frozen=True)
class CompileResult:
    resolution: Resolution | UniversalResolution
    #: The ``requirements.txt`` text.
    text: str
    seconds: float


def compile_requirements(
    inputs: RequirementsInput,
    settings: Settings | None = None,
    *,
    target: TargetEnvironment | None = None,
    options: CompileOptions | None = None,
    events: Events | None = None,
    universal: bool = False,
) -> CompileResult:
    """Resolve ``inputs`` for ``target`` (default: the running interpreter) and render them.

    ``universal``: resolve for every environment whose Python is at least ``target``'s
    ``python_version`` instead, pins carrying markers."""
    started = time.monotonic()
    settings = settings or Settings()
    target = target or TargetEnvironment.current()
    resolution: Resolution | UniversalResolution
    with Session(inputs, settings, target, events) as session:
        if universal:
            floor = Version(target.markers["python_version"])
            resolution = session.resolve_universal(floor, no_deps=settings.no_deps)
        else:
            resolution = session.resolve(no_deps=settings.no_deps)
        locations = session.source.locations
    seconds = time.monotonic() - started
    index_urls = {index.label: redact(index.url) for index in locations.all_indexes()}
    return CompileResult(resolution, render_requirements(resolution, options, index_urls), seconds)
