"""Creating virtual environments without ``ensurepip``.

The layout is written directly from the (cached) facts about the base interpreter:
``pyvenv.cfg``, interpreter links in the scripts directory, activation scripts and an
empty site-packages. ``seed=True`` then installs the interpreter's bundled pip wheel
with kiln's own installer.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kiln import __version__
from kiln.core.activation import activation_scripts
from kiln.core.install.environment import Environment, venv_scheme
from kiln.core.install.envlock import LOCK_NAME, holding
from kiln.core.install.installer import install_wheel
from kiln.core.install.linking import LinkMode
from kiln.core.interpreter import Interpreter
from kiln.errors import KilnError

_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by kiln.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


@dataclass(frozen=True)
class VenvResult:
    env: Environment
    base: Interpreter
    prompt: str
    #: ``name==version`` of each seeded distribution.
    seeded: list[str] = field(default_factory=list)


def create_venv(
    path: str | os.PathLike[str],
    interpreter: Interpreter,
    *,
    prompt: str | None = None,
    seed: bool = False,
    clear: bool = False,
    system_site_packages: bool = False,
    link_mode: LinkMode = "hardlink",
) -> VenvResult:
    """Create a virtual environment at ``path`` for ``interpreter``.

    An existing virtual environment is replaced only with ``clear``; any other
    non-empty directory is never touched. On failure nothing is left behind. The new
    environment's lock is held throughout, so a kiln process installing into the
    environment being replaced waits for it (and the other way round).
    """
    prefix = Path(os.path.abspath(path))
    _check_directory(prefix, clear)  # before anything, even the lock file, is written
    created = _make_directory(prefix)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(holding(prefix / LOCK_NAME, prefix))
        except BaseException:
            if created:
                shutil.rmtree(prefix, ignore_errors=True)
            raise
        _check_directory(prefix, clear)  # again: another process may have been first
        if clear:
            _empty(prefix)
        try:
            shown_prompt = _prompt(prefix, prompt)
            env = _write_layout(prefix, interpreter, shown_prompt, prompt, system_site_packages)
            seeded = _seed(env, interpreter, link_mode) if seed else []
        except BaseException:
            if created:
                shutil.rmtree(prefix, ignore_errors=True)
            else:
                _empty(prefix)
            raise
    return VenvResult(env, interpreter, shown_prompt, seeded)


def _check_directory(prefix: Path, clear: bool) -> None:
    """Refuse a ``prefix`` that is not a directory, a non-empty directory that is not a
    virtual environment, and (without ``clear``) an existing virtual environment."""
    if prefix.is_symlink() or (prefix.exists() and not prefix.is_dir()):
        raise KilnError(f"`{prefix}` exists and is not a directory")
    if not prefix.exists() or not any(p.name != LOCK_NAME for p in prefix.iterdir()):
        return
    if not (prefix / "pyvenv.cfg").is_file():
        raise KilnError(
            f"`{prefix}` exists and is not a virtual environment",
            hint="choose another path, or remove the directory first",
        )
    if not clear:
        raise KilnError(
            f"a virtual environment already exists at `{prefix}`",
            hint="pass `--clear` to replace it",
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
) -> Environment:
    scheme = venv_scheme(prefix, base)
    scheme.scripts.mkdir(parents=True, exist_ok=True)
    python = _link_interpreter(scheme.scripts, Path(base.base_executable), base)
    scheme.purelib.mkdir(parents=True, exist_ok=True)
    scheme.platlib.mkdir(parents=True, exist_ok=True)
    _link_lib64(prefix, base)
    (prefix / "pyvenv.cfg").write_text(
        _pyvenv_cfg(base, system_site_packages, explicit_prompt), "utf-8"
    )
    if os.name != "nt":
        scripts = activation_scripts(str(prefix), scheme.scripts.name, prompt)
        for name, content in scripts.items():
            (scheme.scripts / name).write_text(content, "utf-8")
    (prefix / "CACHEDIR.TAG").write_text(_CACHEDIR_TAG, "utf-8")
    (prefix / ".gitignore").write_text("# Created by kiln: ignore the whole environment.\n*\n")
    return Environment(prefix, python, base, scheme)


def _link_interpreter(scripts: Path, base_executable: Path, base: Interpreter) -> Path:
    if os.name == "nt":
        for name in ("python.exe", "pythonw.exe"):
            source = base_executable.parent / name
            if source.exists():
                shutil.copy2(source, scripts / name)
        return scripts / "python.exe"
    python = scripts / "python"
    try:
        python.symlink_to(base_executable)
    except OSError:
        shutil.copy2(base_executable, python)
    major, minor = base.version[0], base.version[1]
    for alias in (f"python{major}", f"python{major}.{minor}"):
        with contextlib.suppress(FileExistsError):
            (scripts / alias).symlink_to("python")
    if base.implementation == "pypy":
        with contextlib.suppress(FileExistsError):
            (scripts / "pypy3").symlink_to("python")
    return python


def _link_lib64(prefix: Path, base: Interpreter) -> None:
    if os.name == "nt" or sys.platform == "darwin" or sys.maxsize <= 2**32:
        return
    if base.venv_scheme["purelib"].split("/")[0] == "lib" and not (prefix / "lib64").exists():
        (prefix / "lib64").symlink_to("lib")


def _pyvenv_cfg(base: Interpreter, system_site_packages: bool, prompt: str | None) -> str:
    lines = [
        f"home = {Path(base.base_executable).parent}",
        f"implementation = {base.implementation_display}",
        f"version_info = {base.version_string}",
        f"include-system-site-packages = {'true' if system_site_packages else 'false'}",
        f"kiln = {__version__}",
    ]
    if prompt:
        lines.append(f"prompt = {prompt}")
    return "\n".join(lines) + "\n"


def _seed(env: Environment, base: Interpreter, link_mode: LinkMode) -> list[str]:
    wheels = [Path(w) for w in base.bundled_wheels if Path(w).name.startswith("pip-")]
    if not wheels:
        raise KilnError(
            f"cannot seed pip: Python at `{base.executable}` has no bundled pip wheel",
            hint="create the environment without `--seed` and install pip into it",
        )
    result = install_wheel(env, wheels[-1], link_mode=link_mode)
    return [f"{result.name}=={result.version}"]
