"""Which environment ``kiln pip`` acts on: ``--python``, ``VIRTUAL_ENV`` or ``.venv``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kiln.core.install.environment import Environment, Scheme, venv_scheme
from kiln.core.interpreter import Interpreter
from kiln.core.resolver.environment import TargetEnvironment
from kiln.errors import KilnError


def find_environment(
    python: str | None = None,
    *,
    system: bool = False,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Environment:
    """The environment to install into or inspect.

    ``python`` may be a virtual environment directory, an interpreter path or a version;
    without it, ``VIRTUAL_ENV``, then a ``.venv`` in the working directory or a parent.
    Interpreters outside a virtual environment are only used with ``system``.
    """
    env = os.environ if environ is None else environ
    if python is not None:
        return _from_request(python, system)
    active = env.get("VIRTUAL_ENV")
    if active:
        return Environment.from_venv(active)
    start = (cwd or Path.cwd()).absolute()
    for folder in (start, *start.parents):
        candidate = folder / ".venv"
        if (candidate / "pyvenv.cfg").is_file():
            return Environment.from_venv(candidate)
    if system:
        from kiln.core.interpreter import find_interpreter

        return Environment.from_interpreter(find_interpreter(None))
    raise KilnError(
        "no virtual environment found",
        hint="create one with `kiln venv`, activate one, or pass `--python`",
    )


def _from_request(python: str, system: bool) -> Environment:
    from kiln.core.interpreter import find_interpreter

    path = Path(python).expanduser()
    if (path / "pyvenv.cfg").is_file():
        return Environment.from_venv(path)
    interpreter = find_interpreter(python)
    if interpreter.is_venv:
        return Environment.from_venv(interpreter.prefix)
    if not system:
        raise KilnError(
            f"`{interpreter.executable}` is not in a virtual environment",
            hint="pass `--system` to change that interpreter's own packages, "
            "or create a virtual environment with `kiln venv`",
        )
    return Environment.from_interpreter(interpreter)


def directory_environment(
    python: str | None = None, *, target: Path | None = None, prefix: Path | None = None
) -> Environment:
    """``--target DIR`` (packages at the top of ``DIR``, scripts in ``DIR/bin``) or
    ``--prefix DIR`` (the layout of a virtual environment at ``DIR``: ``lib/pythonX.Y/
    site-packages``, ``bin``...), for the interpreter ``--python`` (else the one
    :func:`find_environment` finds, a system one included)."""
    found = find_environment(python, system=True)
    interpreter = found.interpreter
    if target is not None:
        root = Path(os.path.abspath(target))
        scheme = Scheme(
            purelib=root, platlib=root, scripts=root / "bin", data=root,
            headers_root=root / "include",
        )
    elif prefix is not None:
        root = Path(os.path.abspath(prefix))
        scheme = venv_scheme(root, interpreter)
    else:
        raise ValueError("directory_environment needs a target or a prefix")
    return Environment(root, found.python, interpreter, scheme)


def externally_managed(env: Environment) -> Path | None:
    """The ``EXTERNALLY-MANAGED`` marker (PEP 668) of ``env``'s interpreter, when ``env``
    is that interpreter's own installation and the distributor has placed one in its
    standard library; None otherwise (a virtual environment is never managed)."""
    interpreter = env.interpreter
    if interpreter.is_venv or env.prefix != Path(interpreter.prefix):
        return None
    base = Path(interpreter.base_prefix)
    stdlib = (
        base / "Lib" if interpreter.markers.get("os_name") == "nt"
        else base / "lib" / f"python{interpreter.short_version}"
    )
    marker = stdlib / "EXTERNALLY-MANAGED"
    return marker if marker.is_file() else None


def refuse_if_managed(env: Environment, *, allowed: bool) -> None:
    """Refuse to change an ``EXTERNALLY-MANAGED`` installation (PEP 668) unless
    ``allowed`` (``--break-system-packages``)."""
    marker = externally_managed(env)
    if marker is not None and not allowed:
        raise KilnError(
            f"`{env.prefix}` is externally managed: its packages belong to the system's "
            f"package manager (`{marker}`)",
            hint="install into a virtual environment (`kiln venv`) or a directory "
            "(`--target`), or pass `--break-system-packages` to change it anyway",
        )


def for_python(
    env: Environment, python_version: str | None, python_platform: str | None
) -> tuple[Environment, TargetEnvironment]:
    """``--python-version``/``--python-platform`` of ``install`` and ``sync``: the target
    to resolve for, and ``env`` as the installer sees it (its Python version then being
    the one asked for, which the wheels' ``Requires-Python`` are checked against)."""
    if python_version is None and python_platform is None:
        return env, target_of(env)
    from packaging.version import Version

    own = ".".join(map(str, env.interpreter.version))
    target = TargetEnvironment.for_target(python_version or own, python_platform)
    if python_version is None:
        return env, target
    major, minor, micro, *_ = (*Version(target.markers["python_full_version"]).release, 0, 0)
    interpreter = env.interpreter.replace(version=(major, minor, micro))
    moved = Environment(env.prefix, env.python, interpreter, env.scheme, env.relocatable)
    return moved, target


def target_of(env: Environment) -> TargetEnvironment:
    """The resolver's view of ``env``: its marker values and wheel tags."""
    return interpreter_target(env.interpreter)


def interpreter_target(interpreter: Interpreter) -> TargetEnvironment:
    """The resolver's view of an interpreter: its marker values and wheel tags."""
    return TargetEnvironment(dict(interpreter.markers), interpreter.tags)

