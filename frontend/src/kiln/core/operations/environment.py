"""Which environment ``kiln pip`` acts on: ``--python``, ``VIRTUAL_ENV`` or ``.venv``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kiln.core.install.environment import Environment
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


def target_of(env: Environment) -> TargetEnvironment:
    """The resolver's view of ``env``: its marker values and wheel tags."""
    return interpreter_target(env.interpreter)


def interpreter_target(interpreter: Interpreter) -> TargetEnvironment:
    """The resolver's view of an interpreter: its marker values and wheel tags."""
    return TargetEnvironment(dict(interpreter.markers), interpreter.tags)

