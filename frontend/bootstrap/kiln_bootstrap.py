"""The build backend of kiln itself: kiln_build, from this repository or from kiln's sdist.

In a checkout, kiln_build is imported from ``../backend/src``, the backend the repository
ships, so ``pip install ./backend ./frontend`` needs nothing from an index beyond the
backend's own runtime dependencies. kiln's sdist cannot point outside itself, so
:func:`build_sdist` puts a copy of that kiln_build next to this module
(``bootstrap/kiln_build/``, on the ``backend-path``): building from the sdist alone uses the
copy. No symbolic link is involved, so a clone works on every operating system.

Every hook but ``build_sdist`` is kiln_build's own.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
#: The project directory (``frontend/`` in the repository, the top directory of the sdist).
PROJECT = os.path.dirname(HERE)
#: Where the repository keeps kiln_build's sources.
CHECKOUT = os.path.join(os.path.dirname(PROJECT), "backend", "src")

if not os.path.isfile(os.path.join(HERE, "kiln_build", "__init__.py")):
    if not os.path.isfile(os.path.join(CHECKOUT, "kiln_build", "__init__.py")):
        raise ImportError(
            f"kiln_build is neither in {HERE} (an sdist of kiln) nor in {CHECKOUT} "
            "(the kiln repository): build kiln from the repository or from its sdist"
        )
    sys.path.insert(0, CHECKOUT)

import kiln_build  # noqa: E402
from kiln_build import (  # noqa: E402
    build_editable,
    build_wheel,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]


def _copy(source: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(source, target)


def build_sdist(sdist_directory: str, config_settings: dict[str, object] | None = None) -> str:
    """kiln_build's sdist of the project, with the kiln_build that builds it inside.

    The files kiln_build selects (``list_files``) are staged in a temporary directory
    together with kiln_build's package, which the project's ``source-include`` of
    ``bootstrap/**`` then takes into the sdist.
    """
    members, _wheel = kiln_build.list_files(PROJECT)
    package = os.path.dirname(os.path.abspath(kiln_build.__file__))
    with tempfile.TemporaryDirectory(prefix="kiln-sdist-") as staging:
        for member in members:
            rel = member.split("/", 1)[1]
            if rel != "PKG-INFO":
                _copy(os.path.join(PROJECT, *rel.split("/")), os.path.join(staging, rel))
        for folder, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".typed")):
                    rel = os.path.relpath(os.path.join(folder, name), package)
                    target = os.path.join(staging, "bootstrap", "kiln_build", rel)
                    _copy(os.path.join(folder, name), target)
        previous = os.getcwd()
        os.chdir(staging)
        try:
            return kiln_build.build_sdist(os.path.abspath(sdist_directory), config_settings)
        finally:
            os.chdir(previous)
