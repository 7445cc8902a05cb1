"""Putting a cached file into an environment: a hard link when possible, else a copy.

A hard link is the same file as the cache's copy: editing an installed file in place (not
replacing it, as editors that write a new file and rename it do) edits the cache, and so
every environment that links it and every later install. ``copy`` avoids that.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, cast

from kiln.errors import KilnError

LinkMode = Literal["hardlink", "copy"]
LINK_MODES: tuple[LinkMode, ...] = ("hardlink", "copy")


def choose_link_mode(option: str | None, environ: Mapping[str, str]) -> LinkMode:
    """A command's link mode: its ``--link-mode``, else ``KILN_LINK_MODE``, else hard links."""
    if option is not None:
        chosen = option
    else:
        chosen = environ.get("KILN_LINK_MODE", "").strip() or "hardlink"
        if chosen not in LINK_MODES:
            raise KilnError(
                f"`KILN_LINK_MODE`: unknown link mode `{chosen}`",
                hint="use one of " + ", ".join(f"`{mode}`" for mode in LINK_MODES),
            )
    return cast(LinkMode, chosen)


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
