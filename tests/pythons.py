"""The Python interpreters installed on this machine, for tests that run other Pythons.

An interpreter of version 3.X is looked for as ``~/.pyenv/versions/3.X.*/bin/python3.X``
(real binaries, not pyenv's shims) and then as ``python3.X`` on ``PATH``; a candidate
counts only when it runs and reports that version.
"""

from __future__ import annotations

import functools
import glob
import shutil
import subprocess
from pathlib import Path

#: The Python versions kiln can target (3.8 and newer), as far as tests look for them.
TARGET_VERSIONS = [(3, minor) for minor in range(8, 15)]


@functools.cache
def find_python(version: tuple[int, int]) -> str | None:
    """The path of a working Python ``version`` interpreter, or None when there is none."""
    name = f"python{version[0]}.{version[1]}"
    pattern = str(Path.home() / f".pyenv/versions/{version[0]}.{version[1]}.*/bin/{name}")
    candidates = sorted(glob.glob(pattern), reverse=True)
    found = shutil.which(name)
    if found:
        candidates.append(found)
    for candidate in candidates:
        try:
            probe = subprocess.run(
                [candidate, "-c", "import sys; sys.stdout.write('%d %d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30, check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and probe.stdout.split() == [str(part) for part in version]:
            return candidate
    return None


def version_id(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"
