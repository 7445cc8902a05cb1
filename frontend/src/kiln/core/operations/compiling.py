"""``compile``: resolve requirement inputs into a pinned ``requirements.txt``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kiln.core.operations.options import Events, Settings
from kiln.core.operations.session import Session
from kiln.core.requirements_file import RequirementsInput
from kiln.core.resolver import (
    CompileOptions,
    Resolution,
    TargetEnvironment,
    render_requirements,
)


@dataclass(frozen=True)
class CompileResult:
    resolution: Resolution
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
) -> CompileResult:
    """Resolve ``inputs`` for ``target`` (default: the running interpreter) and render them."""
    started = time.monotonic()
    settings = settings or Settings()
    with Session(inputs, settings, target or TargetEnvironment.current(), events) as session:
        resolution = session.resolve(no_deps=settings.no_deps)
    seconds = time.monotonic() - started
    return CompileResult(resolution, render_requirements(resolution, options), seconds)
