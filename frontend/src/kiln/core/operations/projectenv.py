"""The project environment: the virtual environment a project command installs into.

A stand-in until the full implementation (the variables that name the environment,
``.python-version``, ``requires-python``) lands: ``.venv`` at
the workspace root (with ``active``, ``VIRTUAL_ENV`` when set), made for ``python`` (else the
running interpreter) when it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kiln.core.install.environment import Environment

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet


class ProjectEnvironment(NamedTuple):
    env: Environment
    #: Made (or remade) by this call.
    created: bool
    path: Path


def project_environment(
    workspace_root: Path,
    requires_python: SpecifierSet | None,
    *,
    python: str | None = None,
    active: bool = False,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> ProjectEnvironment:
    """The environment of the workspace at ``workspace_root``, made when missing (with
    ``dry_run``, the environment it would be, without making it)."""
    import os

    variables = os.environ if environ is None else environ
    path = workspace_root / ".venv"
    if active and variables.get("VIRTUAL_ENV"):
        path = Path(variables["VIRTUAL_ENV"]).absolute()
    if (path / "pyvenv.cfg").is_file():
        return ProjectEnvironment(Environment.from_venv(path), False, path)
    from kiln.core.interpreter import find_interpreter, inspect_interpreter

    if python is not None:
        interpreter = find_interpreter(python)
    else:
        import sys

        interpreter = inspect_interpreter(sys.executable)
    if dry_run:
        from kiln.core.install.environment import venv_scheme

        scheme = venv_scheme(path, interpreter)
        env = Environment(path, path / "bin" / "python", interpreter, scheme)
        return ProjectEnvironment(env, True, path)
    from kiln.core.venv import create_venv

    result = create_venv(path, interpreter, allow_existing=True)
    return ProjectEnvironment(result.env, True, path)
