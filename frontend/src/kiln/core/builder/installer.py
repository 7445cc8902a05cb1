"""Creating build environments and installing requirements into them.

Anything with ``create`` and ``install`` fits ``Installer``: ``KilnInstaller`` (the
default) uses kiln's own resolver and installer, ``UvInstaller`` drives ``uv venv`` /
``uv pip install --python`` and ``PipInstaller`` uses ``venv`` plus pip inside the
environment. All three install from the index settings of the run
(:func:`kiln.core.index.runsettings.run_locations`), handed to uv and pip explicitly so
that neither adds settings of its own.

kiln's own installer resolves and installs with ``kiln pip``'s code, which itself may
build: it sits above the builder, in :mod:`kiln.core.operations.buildenvs` (with the choice
of installer, ``default_installer``), and reaches a
:class:`~kiln.core.builder.service.Builder` as an :data:`InstallerFactory`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiln.core.builder.report import Reporter
from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.core.index.locations import IndexLocations

#: uv's own index variables: dropped from uv's environment, which gets kiln's settings.
UV_INDEX_VARIABLES = (
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_NO_INDEX",
    "UV_INDEX_STRATEGY",
)


class Installer(Protocol):
    #: Short name, part of the environment cache key.
    name: str

    @property
    def index(self) -> IndexLocations:
        """The indexes requirements come from (part of the environment cache key)."""

    @property
    def settings_key(self) -> list[str]:
        """What else decides which requirements get installed (resolution, upload dates,
        binary and build choices, hashes...): part of the environment cache key."""

    def create(self, env_dir: Path, python: str) -> None:
        """Create an empty virtual environment at ``env_dir`` for ``python``."""

    def install(
        self,
        env_python: Path,
        requirements: Sequence[str],
        constraints: Path | None,
        *,
        require_hashes: bool = False,
    ) -> None:
        """Install ``requirements`` into the environment of ``env_python``; with
        ``require_hashes`` (``--require-build-hashes``), every package installed must have a
        ``--hash`` in ``constraints``, and its file must match one."""


def refuse_build_hashes(installer: str) -> None:
    """``--require-build-hashes`` with an installer that cannot check it (uv's, pip's)."""
    raise KilnError(
        f"`--require-build-hashes` is checked by kiln's own installer of build environments, "
        f"but `KILN_BUILD_INSTALLER={installer}` chooses {installer}",
        hint="unset `KILN_BUILD_INSTALLER` (or set it to `kiln`)",
    )


def redact(text: str) -> str:
    """Hide the credentials of any URL in ``text``."""
    from kiln.core.index.redaction import redact_text

    return redact_text(text)


def _run(
    command: list[str], what: str, reporter: Reporter, environ: Mapping[str, str] | None = None
) -> None:
    reporter.debug(redact("running " + " ".join(command)))
    result = subprocess.run(
        command,
        check=False,
        env=environ,
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


class RunIndexes:
    """The ``index`` of an installer: given, or worked out on first use (a build that
    needs no environment never reads any index setting); no ``settings_key`` of its own."""

    def __init__(
        self, index: IndexLocations | None, locate: Callable[[], IndexLocations] | None = None
    ) -> None:
        self._index = index
        self._locate = locate or run_index

    @property
    def index(self) -> IndexLocations:
        if self._index is None:
            self._index = self._locate()
        return self._index

    @property
    def settings_key(self) -> list[str]:
        return []


class UvInstaller(RunIndexes):
    name = "uv"

    def __init__(
        self,
        uv: str,
        index: IndexLocations | None,
        reporter: Reporter,
        locate: Callable[[], IndexLocations] | None = None,
    ) -> None:
        super().__init__(index, locate)
        self.uv = uv
        self.reporter = reporter

    def create(self, env_dir: Path, python: str) -> None:
        _run(
            [self.uv, "venv", "--quiet", "--python", python, str(env_dir)],
            "creating a build environment",
            self.reporter,
        )

    def install(
        self,
        env_python: Path,
        requirements: Sequence[str],
        constraints: Path | None,
        *,
        require_hashes: bool = False,
    ) -> None:
        if require_hashes:
            refuse_build_hashes("uv")
        if not requirements:
            return
        command = [
            self.uv, "pip", "install", "--no-config", "--python", str(env_python),
            *uv_index_args(self.index),
        ]
        if constraints is not None:
            command += ["--constraints", str(constraints)]
        environ = {k: v for k, v in os.environ.items() if k not in UV_INDEX_VARIABLES}
        _run([*command, *requirements], "installing build requirements", self.reporter, environ)


class PipInstaller(RunIndexes):
    name = "pip"

    def __init__(
        self,
        index: IndexLocations | None,
        reporter: Reporter,
        locate: Callable[[], IndexLocations] | None = None,
    ) -> None:
        super().__init__(index, locate)
        self.reporter = reporter

    def create(self, env_dir: Path, python: str) -> None:
        _run([python, "-m", "venv", str(env_dir)], "creating a build environment", self.reporter)

    def install(
        self,
        env_python: Path,
        requirements: Sequence[str],
        constraints: Path | None,
        *,
        require_hashes: bool = False,
    ) -> None:
        if require_hashes:
            refuse_build_hashes("pip")
        if not requirements:
            return
        command = [str(env_python), "-m", "pip", "install", "--disable-pip-version-check"]
        if constraints is not None:
            command += ["--constraint", str(constraints)]
        with tempfile.TemporaryDirectory(prefix="kiln-no-links-") as empty:
            environ = {**os.environ, **pip_index_environ(self.index, Path(empty))}
            _run([*command, *requirements], "installing build requirements", self.reporter, environ)


def uv_index_args(locations: IndexLocations) -> list[str]:
    """uv's options for ``locations``: the same indexes in the same order, and the strategy.

    Explicit indexes are left out: build requirements pinned to an index are fetched by
    kiln itself before the installer runs.
    """
    args: list[str] = []
    if locations.indexes:
        *others, default = locations.indexes
        for index in others:
            args += ["--index", index.url]
        args += ["--default-index", default.url]
    else:
        args.append("--no-index")
    for location in locations.find_links:
        args += ["--find-links", location.url]
    return [*args, "--index-strategy", locations.strategy]


def pip_index_environ(locations: IndexLocations, empty_dir: Path) -> dict[str, str]:
    """pip's index variables for ``locations``: they win over pip's configuration files.

    pip ignores an empty variable, so a list that must be empty is given a value that adds
    nothing instead: every index again as an extra index (pip drops repeated index URLs),
    the empty directory ``empty_dir`` as the only find-links location. pip has no strategy:
    it always takes the best version of every index.
    """
    indexes = [index.url for index in locations.indexes]
    links = [location.url for location in locations.find_links] or [str(empty_dir)]
    return {
        "PIP_INDEX_URL": indexes[-1] if indexes else "",
        "PIP_EXTRA_INDEX_URL": " ".join(indexes),
        "PIP_FIND_LINKS": " ".join(links),
        "PIP_NO_INDEX": "0" if indexes else "1",
    }


def find_uv() -> str | None:
    beside = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    if beside.is_file():
        return str(beside)
    return shutil.which("uv")


def run_index() -> IndexLocations:
    """The index settings of a run that has no index options of its own (``kiln build``):
    the same function, with the same inputs, as a ``kiln pip`` command in this directory."""
    from kiln.core.index.locations import IndexOptions
    from kiln.core.index.runsettings import run_locations
    from kiln.project.indexes import find_configured_pyproject

    return run_locations(IndexOptions(), project=find_configured_pyproject(Path.cwd()))


#: Makes the installer of a build's environments, given where it reports to, the
#: indexes of the run (None: :func:`run_index`, when first needed) and the packages the
#: build is for, outermost first (``BuildOptions.building``).
InstallerFactory = Callable[[Reporter, "IndexLocations | None", tuple[str, ...]], Installer]
