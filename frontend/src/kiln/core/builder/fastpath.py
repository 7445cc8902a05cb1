"""Building with the installed kiln_build in-process: no subprocess, no environment.

Taken when ``build-backend = "kiln_build"`` and ``requires`` is exactly one plain
requirement on ``kiln-build`` whose specifier admits the installed version.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from kiln.core.builder.configsettings import ConfigSettings
from kiln.errors import KilnError
from kiln.project.buildsystem import BuildSystem

BACKEND = "kiln_build"


def installed_version() -> str | None:
    """The version of the importable kiln_build, or None when it is missing."""
    try:
        import kiln_build
    except ImportError:
        return None
    return str(kiln_build.__version__)


def fast_path_applies(build_system: BuildSystem) -> bool:
    if build_system.backend != BACKEND or build_system.backend_path is not None:
        return False
    if len(build_system.requires) != 1:
        return False
    requirement = Requirement(build_system.requires[0])
    if canonicalize_name(requirement.name) != "kiln-build" or requirement.url:
        return False
    if requirement.marker is not None or requirement.extras:
        return False
    version = installed_version()
    return version is not None and requirement.specifier.contains(version, prereleases=True)


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run the block with ``path`` as the working directory (PEP 517 hooks expect it)."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def build_in_process(
    kind: Literal["sdist", "wheel", "editable"],
    source_dir: Path,
    out_dir: Path,
    config_settings: ConfigSettings,
) -> Path:
    """Call kiln_build's hook with cwd = ``source_dir``; return the built file."""
    import kiln_build

    settings = dict(config_settings) or None
    with working_directory(source_dir):
        try:
            if kind == "sdist":
                name = kiln_build.build_sdist(str(out_dir), settings)
            elif kind == "editable":
                name = kiln_build.build_editable(str(out_dir), settings)
            else:
                name = kiln_build.build_wheel(str(out_dir), settings)
        except KilnError:
            raise
        except Exception as exc:  # the backend reports user errors as exceptions
            message = str(exc) or type(exc).__name__
            raise KilnError(
                f"`kiln_build.build_{kind}` failed for `{source_dir}`:\n{message}",
            ) from None
    return out_dir / name
