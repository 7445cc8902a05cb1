"""Build environments made by kiln itself: ``kiln.core.venv`` plus the ``kiln pip`` core.

No uv or pip is needed: the environment is written directly and the build requirements
are resolved and installed with kiln's resolver and installer, from the index settings of
the run (the same as the other installers use).

This is the operations layer's side of the build service (:mod:`kiln.core.builder`):
installing build requirements is an install, which may itself build an sdist, so kiln's
installer lives here and reaches the builder as its
:data:`~kiln.core.builder.installer.InstallerFactory` (:func:`default_installer`);
:func:`open_builder` is the builder ``kiln build`` uses.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.core.builder.installer import (
    Installer,
    PipInstaller,
    RunIndexes,
    UvInstaller,
    find_uv,
)
from kiln.core.builder.report import Reporter
from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.core.builder.service import Builder, BuildOptions
    from kiln.core.index.locations import IndexLocations


class KilnInstaller(RunIndexes):
    name = "kiln"

    def __init__(self, index: IndexLocations | None, reporter: Reporter) -> None:
        super().__init__(index)
        self.reporter = reporter

    def create(self, env_dir: Path, python: str) -> None:
        from kiln.core.interpreter import find_interpreter
        from kiln.core.venv import create_venv

        create_venv(env_dir, find_interpreter(python))

    def install(
        self, env_python: Path, requirements: Sequence[str], constraints: Path | None
    ) -> None:
        if not requirements:
            return
        from kiln.core.install.environment import Environment
        from kiln.core.operations.installing import install
        from kiln.core.operations.options import Events, Settings
        from kiln.core.requirements_file import (
            RequirementsInput,
            parse_requirement,
            read_requirements,
        )

        inputs = RequirementsInput(
            requirements=[parse_requirement(r, origin="build requirements") for r in requirements]
        )
        if constraints is not None:
            inputs.merge(read_requirements(constraints, constraints=True))
        settings = Settings(locations=self.index)
        env = Environment.from_venv(env_python.parent.parent)
        events = Events(building=lambda label: self.reporter.debug(f"building `{label}`"))
        try:
            report = install(env, inputs, settings, events)
        except KilnError as exc:
            raise KilnError(
                f"installing build requirements failed:\n{exc.message}", hint=exc.hint
            ) from None
        for change in report.installed:
            self.reporter.debug(f"installed {change.name}=={change.version}")


def default_installer(reporter: Reporter, index: IndexLocations | None = None) -> Installer:
    """kiln's own installer, unless ``KILN_BUILD_INSTALLER`` is ``uv`` or ``pip``;
    ``index`` are the indexes of the run (None:
    :func:`~kiln.core.builder.installer.run_index`, when first needed)."""
    choice = os.environ.get("KILN_BUILD_INSTALLER", "").strip().lower()
    if choice not in {"", "kiln", "uv", "pip"}:
        raise KilnError(
            f"`KILN_BUILD_INSTALLER` must be `kiln`, `uv` or `pip`, not `{choice}`",
        )
    if choice in {"", "kiln"}:
        return KilnInstaller(index, reporter)
    uv = find_uv() if choice == "uv" else None
    if uv is not None:
        return UvInstaller(uv, index, reporter)
    if choice == "uv":
        raise KilnError("`KILN_BUILD_INSTALLER=uv` is set but `uv` was not found on `PATH`")
    return PipInstaller(index, reporter)


def open_builder(options: BuildOptions, reporter: Reporter) -> Builder:
    """The build service with kiln's choice of installer for its build environments."""
    from kiln.core.builder.service import Builder

    return Builder(options, reporter, installers=default_installer)
