"""Creating virtual environments without ``ensurepip``.

The layout is written directly from the (cached) facts about the base interpreter:
``pyvenv.cfg``, interpreter links in the scripts directory, activation scripts and an
empty site-packages. ``seed``, a function given the new environment, then installs
the seed packages (see :mod:`kiln.core.operations.seeding`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from kiln import __version__
from kiln.core.activation import activation_scripts
from kiln.core.install.environment import Environment, venv_scheme
from kiln.core.install.envlock import LOCK_NAME, holding
from kiln.core.interpreter import Interpreter
from kiln.errors import KilnError

_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by kiln.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


class VenvResult(NamedTuple):
    env: Environment
    base: Interpreter
    prompt: str
    #: ``name==version`` of each seeded distribution.
    seeded: Sequence[str] = ()


#: Installs the seed packages into a new environment; returns ``name==version`` of each.
Seeder = Callable[[Environment], Sequence[str]]


def create_venv(
    path: str | os.PathLike[str],
    interpreter: Interpreter,
    *,
    prompt: str | None = None,
    seed: Seeder | None = None,
    clear: bool = False,
    allow_existing: bool = False,
    system_site_packages: bool = False,
    relocatable: bool = False,
) -> VenvResult:
    """Create a virtual environment at ``path`` for ``interpreter``.

    An existing virtual environment is replaced only with ``clear``; any other
    non-empty directory is never removed. With ``allow_existing``, the environment is
    written into the existing directory and its other files are kept (this wins over
    ``clear``). On failure nothing is left behind, except that an existing directory
    kept by ``allow_existing`` is left as it is. ``relocatable``: activation scripts and
    script launchers find the environment from their own location, so the directory can
    be moved. The new environment's lock is held throughout (seeding included), so a kiln
    process installing into the environment being replaced waits for it, and the other
    way round.
    """
    prefix = Path(os.path.abspath(path))
    _check_directory(prefix, clear, allow_existing)  # before anything, even the lock file
    created = _make_directory(prefix)
    kept = allow_existing and not created
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(holding(prefix / LOCK_NAME, prefix))
        except BaseException:
            if created:
                shutil.rmtree(prefix, ignore_errors=True)
            raise
        _check_directory(prefix, clear, allow_existing)  # again: another process may have been first
        if clear and not allow_existing:
            _empty(prefix)
        try:
            shown_prompt = _prompt(prefix, prompt)
            env = _write_layout(
                prefix, interpreter, shown_prompt, prompt, system_site_packages, relocatable
            )
            seeded = list(seed(env)) if seed is not None else []
        except BaseException:
            if created:
                shutil.rmtree(prefix, ignore_errors=True)
            elif not kept:
                _empty(prefix)
            raise
    return VenvResult(env, interpreter, shown_prompt, seeded)


def _check_directory(prefix: Path, clear: bool, allow_existing: bool) -> None:
    """Refuse a ``prefix`` that is not a directory and, unless ``allow_existing``, a
    non-empty directory that is not a virtual environment, and (without ``clear``) an
    existing virtual environment."""
    if prefix.is_symlink() or (prefix.exists() and not prefix.is_dir()):
        raise KilnError(f"`{prefix}` exists and is not a directory")
    if allow_existing or not prefix.exists():
        return
    if not any(p.name != LOCK_NAME for p in prefix.iterdir()):
        return
    if not (prefix / "pyvenv.cfg").is_file():
        raise KilnError(
            f"`{prefix}` exists and is not a virtual environment",
            hint="choose another path, remove the directory first, or pass "
            "`--allow-existing` to write the environment into it",
        )
    if not clear:
        raise KilnError(
            f"a virtual environment already exists at `{prefix}`",
            hint="pass `--clear` to replace it, or `--allow-existing` to keep its packages",
        )


def _make_directory(prefix: Path) -> bool:
    """Make ``prefix`` if it does not exist; True when this call made it."""
    try:
        prefix.mkdir(parents=True)
    except FileExistsError:
        return False
    except OSError as exc:
        raise KilnError(f"cannot create `{prefix}`: {exc.strerror}") from None
    return True


def _empty(prefix: Path) -> None:
    """Remove everything in ``prefix`` but the lock file (held by this process)."""
    with contextlib.suppress(OSError):
        for child in prefix.iterdir():
            if child.name == LOCK_NAME:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink()


def _prompt(prefix: Path, requested: str | None) -> str:
    if requested == ".":
        return Path.cwd().name
    if requested:
        return requested
    if prefix.name in (".venv", "venv") and prefix.parent.name:
        return prefix.parent.name
    return prefix.name


def _write_layout(
    prefix: Path,
    base: Interpreter,
    prompt: str,
    explicit_prompt: str | None,
    system_site_packages: bool,
    relocatable: bool = False,
) -> Environment:
    scheme = venv_scheme(prefix, base)
    scheme.scripts.mkdir(parents=True, exist_ok=True)
    python = _link_interpreter(scheme.scripts, Path(base.base_executable), base)
    scheme.purelib.mkdir(parents=True, exist_ok=True)
    scheme.platlib.mkdir(parents=True, exist_ok=True)
    _link_lib64(prefix, base)
    _write(prefix / "pyvenv.cfg", _pyvenv_cfg(base, system_site_packages, explicit_prompt, relocatable))
    if os.name != "nt":
        scripts = activation_scripts(
            str(prefix), scheme.scripts.name, prompt, relocatable=relocatable
        )
        for name, content in scripts.items():
            _write(scheme.scripts / name, content)
    _write(prefix / "CACHEDIR.TAG", _CACHEDIR_TAG)
    _write(prefix / ".gitignore", "# Created by kiln: ignore the whole environment.\n*\n")
    return Environment(prefix, python, base, scheme, relocatable=relocatable)


def _write(path: Path, text: str) -> None:
    """Write a file of the layout; a link already there (`--allow-existing`) is replaced,
    never written through."""
    if path.is_symlink():
        path.unlink()
    path.write_text(text, "utf-8")


def _link_interpreter(scripts: Path, base_executable: Path, base: Interpreter) -> Path:
    if os.name == "nt":
        for name in ("python.exe", "pythonw.exe"):
            source = base_executable.parent / name
            if source.exists():
                shutil.copy2(source, scripts / name)
        return scripts / "python.exe"
    python = scripts / "python"
    _remove_link(python)
    try:
        python.symlink_to(base_executable)
    except OSError:
        shutil.copy2(base_executable, python)
    major, minor = base.version[0], base.version[1]
    aliases = [f"python{major}", f"python{major}.{minor}"]
    if base.implementation == "pypy":
        aliases.append("pypy3")
    for alias in aliases:
        _remove_link(scripts / alias)
        with contextlib.suppress(FileExistsError):
            (scripts / alias).symlink_to("python")
    return python


def _remove_link(path: Path) -> None:
    """Remove ``path`` when it is a link or a file (an existing environment's interpreter),
    so that a new link replaces it instead of a copy being written through it."""
    if path.is_symlink() or path.is_file():
        path.unlink()


def _link_lib64(prefix: Path, base: Interpreter) -> None:
    if os.name == "nt" or sys.platform == "darwin" or sys.maxsize <= 2**32:
        return
    if base.venv_scheme["purelib"].split("/")[0] == "lib" and not (prefix / "lib64").exists():
        (prefix / "lib64").symlink_to("lib")


def _pyvenv_cfg(
    base: Interpreter, system_site_packages: bool, prompt: str | None, relocatable: bool = False
) -> str:
    lines = [
        f"home = {Path(base.base_executable).parent}",
        f"implementation = {base.implementation_display}",
        f"version_info = {base.version_string}",
        f"include-system-site-packages = {'true' if system_site_packages else 'false'}",
        f"kiln = {__version__}",
    ]
    if prompt:
        lines.append(f"prompt = {prompt}")
    if relocatable:
        lines.append("relocatable = true")
    return "\n".join(lines) + "\n"
