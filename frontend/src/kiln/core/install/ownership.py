"""Which files of an environment a wheel may replace.

Installing may replace a file that another installed distribution's ``RECORD`` lists (two
distributions shipping the same file: the later install wins, as with pip). It never
replaces:

* the environment's own files: ``pyvenv.cfg``, its lock file, the interpreter links and the
  activation scripts of the scripts directory, whatever any ``RECORD`` claims;
* any other existing file that no installed distribution's ``RECORD`` lists (a file the
  user put there, or one a tool wrote).

Two kinds of unowned file may be replaced, as replacing them changes nothing that matters:
bytecode caches (``__pycache__/*.pyc``, which Python writes again) and a file with exactly
the content being installed (what an install killed halfway leaves behind).

The question comes up only when a file to install already exists, which a fresh top-level
directory or a replaced distribution (its files are moved aside first) never causes; the
``RECORD`` files of the environment are read the first time it does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from kiln.core.install.environment import Environment
from kiln.core.install.envlock import LOCK_NAME
from kiln.errors import KilnError

#: Interpreter names a scripts directory holds (``python``, ``python3.12``, ``pypy3``...).
INTERPRETER_NAME = re.compile(r"^(python|pythonw|pypy|graalpy)(\d+(\.\d+t?)?)?(\.exe)?$")
#: Activation scripts (``activate``, ``activate.fish``, ``Activate.ps1``, ``activate_this.py``...).
_ACTIVATION_NAME = re.compile(r"^(activate|deactivate)([._].*)?$", re.IGNORECASE)


def is_environment_file(env: Environment, path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is one of the environment's own files, which belong to no
    distribution: never replaced or removed by installing and uninstalling."""
    folder, name = os.path.split(os.path.normpath(path))
    if folder == os.path.normpath(env.prefix):
        return name in ("pyvenv.cfg", LOCK_NAME)
    if folder == os.path.normpath(env.scheme.scripts):
        return bool(INTERPRETER_NAME.match(name) or _ACTIVATION_NAME.match(name))
    return False


class Owners:
    """The files that installed distributions' ``RECORD`` files list, read on first use
    and kept up to date by :meth:`add` as a batch installs more."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._paths: set[str] | None = None

    def owns(self, path: str) -> bool:
        if self._paths is None:
            self._paths = set(_recorded_paths(self.env))
        return os.path.normpath(path) in self._paths

    def add(self, paths: Iterable[str]) -> None:
        if self._paths is not None:
            self._paths.update(os.path.normpath(path) for path in paths)


def _recorded_paths(env: Environment) -> Iterable[str]:
    from kiln.core.install.installed import installed_distributions
    from kiln.core.install.record import parse_rows

    for dist in installed_distributions(env):
        try:
            rows = parse_rows((dist.dist_info / "RECORD").read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        location = str(dist.location)
        for path, _digest, _size in rows:
            yield os.path.normpath(os.path.join(location, path))


def check_replace(
    env: Environment, owners: Owners, wheel: str, final: str, staged: str
) -> None:
    """Raise unless installing ``staged`` (from the wheel file ``wheel``) may replace the
    existing ``final``."""
    shown = _shown(env, final)
    if is_environment_file(env, final):
        raise KilnError(
            f"cannot install `{wheel}` into `{env.prefix}`: it would overwrite `{shown}`, "
            "a file of the environment itself",
            hint="nothing of it was installed; no package may replace the environment's "
            "interpreter, `pyvenv.cfg` or activation scripts",
        )
    if final.endswith(".pyc") and os.path.basename(os.path.dirname(final)) == "__pycache__":
        return
    if owners.owns(final) or _same_content(staged, final):
        return
    raise KilnError(
        f"cannot install `{wheel}` into `{env.prefix}`: it would overwrite `{shown}`, "
        "which no installed package lists in its `RECORD`",
        hint="nothing of it was installed; remove that file first if it is not needed",
    )


def _same_content(staged: str, final: str) -> bool:
    try:
        mine, there = os.stat(staged), os.lstat(final)
    except OSError:
        return False
    if os.path.samestat(mine, there):
        return True
    if not os.path.isfile(final) or os.path.islink(final) or mine.st_size != there.st_size:
        return False
    import filecmp

    try:
        return filecmp.cmp(staged, final, shallow=False)
    except OSError:
        return False


def _shown(env: Environment, path: str) -> str:
    relative = os.path.relpath(path, env.prefix)
    return path if relative.startswith("..") else relative.replace(os.sep, "/")
