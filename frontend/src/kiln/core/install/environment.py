"""A Python environment to install into: its prefix, interpreter and install scheme."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from kiln.core.interpreter import Interpreter, inspect_interpreter
from kiln.errors import KilnError


class Scheme(NamedTuple):
    """Where each kind of wheel content goes (the wheel spec's install scheme)."""

    purelib: Path
    platlib: Path
    scripts: Path
    data: Path
    #: Headers of distribution ``X`` go to ``headers_root / X``.
    headers_root: Path

    def directory(self, key: str, distribution: str) -> Path:
        if key == "headers":
            return self.headers_root / distribution
        value: Path = getattr(self, key)
        return value

    def roots(self) -> tuple[Path, ...]:
        return (self.purelib, self.platlib, self.scripts, self.data, self.headers_root)


def venv_scheme(prefix: Path, interpreter: Interpreter) -> Scheme:
    """The scheme of a virtual environment at ``prefix`` made from ``interpreter``."""

    def under(key: str) -> Path:
        return prefix / interpreter.venv_scheme[key]

    return Scheme(
        purelib=under("purelib"),
        platlib=under("platlib"),
        scripts=under("scripts"),
        data=under("data"),
        headers_root=prefix / "include" / "site" / f"python{interpreter.short_version}",
    )


def _absolute_scheme(paths: Mapping[str, str]) -> Scheme:
    return Scheme(
        purelib=Path(paths["purelib"]),
        platlib=Path(paths["platlib"]),
        scripts=Path(paths["scripts"]),
        data=Path(paths["data"]),
        headers_root=Path(paths["include"]),
    )


class Environment:
    """An environment to install into. Instances are not changed once made."""

    __slots__ = ("interpreter", "prefix", "python", "relocatable", "scheme")

    def __init__(
        self,
        prefix: Path,
        python: Path,
        interpreter: Interpreter,
        scheme: Scheme,
        relocatable: bool = False,
    ) -> None:
        self.prefix = prefix
        #: The interpreter of the environment (what launchers' shebangs point at).
        self.python = python
        self.interpreter = interpreter
        self.scheme = scheme
        #: Script launchers find the interpreter beside themselves (`kiln venv --relocatable`).
        self.relocatable = relocatable

    @property
    def site_packages(self) -> Path:
        return self.scheme.purelib

    @classmethod
    def from_venv(cls, path: str | os.PathLike[str]) -> Environment:
        """The virtual environment at ``path`` (which must contain ``pyvenv.cfg``)."""
        prefix = Path(os.path.abspath(path))
        if not (prefix / "pyvenv.cfg").is_file():
            raise KilnError(
                f"`{prefix}` is not a virtual environment: it has no `pyvenv.cfg`",
                hint="create one with `kiln venv`",
            )
        python = _venv_python(prefix)
        interpreter = inspect_interpreter(python)
        scheme = venv_scheme(prefix, interpreter)
        return cls(prefix, python, interpreter, scheme, relocatable=_relocatable(prefix))

    @classmethod
    def from_interpreter(cls, interpreter: Interpreter) -> Environment:
        """The environment an interpreter runs in (a venv or its own installation)."""
        return cls(
            Path(interpreter.prefix),
            Path(interpreter.executable),
            interpreter,
            _absolute_scheme(interpreter.paths),
        )


def _relocatable(prefix: Path) -> bool:
    """Whether ``pyvenv.cfg`` says ``relocatable = true`` (as uv and kiln write it)."""
    try:
        text = (prefix / "pyvenv.cfg").read_text("utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "relocatable":
            return value.strip().lower() == "true"
    return False


def _venv_python(prefix: Path) -> Path:
    for relative in ("bin/python", "bin/python3", "Scripts/python.exe"):
        candidate = prefix / relative
        if candidate.exists():
            return candidate
    raise KilnError(
        f"virtual environment `{prefix}` has no Python interpreter",
        hint="recreate it with `kiln venv --clear`",
    )
