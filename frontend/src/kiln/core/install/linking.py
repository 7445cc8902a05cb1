"""Putting a cached file into an environment: a hard link when possible, else a copy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

LinkMode = Literal["hardlink", "copy"]


def link_or_copy(
    source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    mode: LinkMode = "hardlink",
) -> bool:
    """Link ``source`` at ``destination`` (copy as a fallback); True when it was linked."""
    if mode == "hardlink":
        try:
            os.link(source, destination)
        except OSError:  # another file system, no hard link support, too many links
            pass
        else:
            return True
    shutil.copy2(source, destination)
    return False


def move(source: Path, destination: Path) -> None:
    """Rename ``source`` to ``destination``, copying across file systems."""
    try:
        os.replace(source, destination)
    except OSError:
        if not source.exists() and not source.is_symlink():
            raise
        shutil.move(str(source), str(destination))
