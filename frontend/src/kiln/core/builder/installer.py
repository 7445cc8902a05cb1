"""Creating build environments and installing requirements into them.

Anything with ``create`` and ``install`` fits ``Installer``: ``UvInstaller`` drives
``uv venv`` / ``uv pip install --python`` and ``PipInstaller`` uses ``venv`` plus pip
inside the environment. Both use the index settings of pip's configuration. kiln's own
installer (the default) resolves and installs with ``kiln pip``'s code, which itself may
build: it sits above the builder, in :mod:`kiln.core.operations.buildenvs`, and reaches a
:class:`~kiln.core.builder.service.Builder` as an :data:`InstallerFactory`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from kiln.core.builder.pipconfig import IndexSettings
from kiln.core.builder.report import Reporter
from kiln.errors import KilnError


class Installer(Protocol):
    #: Short name, part of the environment cache key.
    name: str
    index: IndexSettings

    def create(self, env_dir: Path, python: str) -> None:
        """Create an empty virtual environment at ``env_dir`` for ``python``."""

    def install(
        self, env_python: Path, requirements: Sequence[str], constraints: Path | None
    ) -> None:
        """Install ``requirements`` into the environment of ``env_python``."""


#: Makes the installer of a build's environments, given where it reports to.
InstallerFactory = Callable[[Reporter], Installer]


def redact(text: str) -> str:
    """Hide the credentials of any URL in ``text``."""
    from kiln.core.index.redaction import redact_text

    return redact_text(text)


def _run(command: list[str], what: str, reporter: Reporter) -> None:
    reporter.debug(redact("running " + " ".join(command)))
    result = subprocess.run(
        command,
        check=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    output = redact(result.stdout)
    for line in output.splitlines():
        reporter.backend_line(line)
    if result.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-20:])
        raise KilnError(
            f"{what} failed (exit status {result.returncode}):\n{tail}",
            hint="check the requirement names and the package index configuration",
        )


def env_python(env_dir: Path) -> Path:
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


class UvInstaller:
    name = "uv"

    def __init__(self, uv: str, index: IndexSettings, reporter: Reporter) -> None:
        self.uv = uv
        self.index = index
        self.reporter = reporter

    def create(self, env_dir: Path, python: str) -> None:
        _run(
            [self.uv, "venv", "--quiet", "--python", python, str(env_dir)],
            "creating a build environment",
            self.reporter,
        )

    def install(
        self, env_python: Path, requirements: Sequence[str], constraints: Path | None
    ) -> None:
        if not requirements:
            return
        command = [self.uv, "pip", "install", "--python", str(env_python), *self.index.as_args()]
        if constraints is not None:
            command += ["--constraints", str(constraints)]
        _run([*command, *requirements], "installing build requirements", self.reporter)


class PipInstaller:
    name = "pip"

    def __init__(self, index: IndexSettings, reporter: Reporter) -> None:
        self.index = index
        self.reporter = reporter

    def create(self, env_dir: Path, python: str) -> None:
        _run([python, "-m", "venv", str(env_dir)], "creating a build environment", self.reporter)

    def install(
        self, env_python: Path, requirements: Sequence[str], constraints: Path | None
    ) -> None:
        if not requirements:
            return
        command = [str(env_python), "-m", "pip", "install", "--disable-pip-version-check"]
        if constraints is not None:
            command += ["--constraint", str(constraints)]
        _run([*command, *requirements], "installing build requirements", self.reporter)


def find_uv() -> str | None:
    beside = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    if beside.is_file():
        return str(beside)
    return shutil.which("uv")
