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
from collections.abc import Callable, Sequence
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
    from kiln.core.operations.options import Settings


class KilnInstaller(RunIndexes):
    name = "kiln"

    def __init__(
        self,
        index: IndexLocations | None,
        reporter: Reporter,
        settings: Settings | None = None,
        locate: Callable[[], IndexLocations] | None = None,
    ) -> None:
        """``settings``: how the run resolves (``kiln build``'s options); their cache,
        network, pre-release, resolution, hash and link-mode settings apply to build
        requirements too."""
        super().__init__(index, locate)
        self.reporter = reporter
        self.settings = settings

    def create(self, env_dir: Path, python: str) -> None:
        from kiln.core.interpreter import find_interpreter
        from kiln.core.venv import create_venv

        create_venv(env_dir, find_interpreter(python))

    def install(
        self,
        env_python: Path,
        requirements: Sequence[str],
        constraints: Path | None,
        *,
        require_hashes: bool = False,
    ) -> None:
        """Resolve and install ``requirements``; with ``require_hashes``
        (``--require-build-hashes``) every package must be pinned and hashed by
        ``constraints`` and match, and the builds this install needs require it too."""
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
        if self.settings is not None:
            given = self.settings
            settings = Settings(
                locations=self.index, client=given.client, prerelease=given.prerelease,
                prerelease_packages=given.prerelease_packages,
                resolution=given.resolution, exclude_newer=given.exclude_newer,
                require_hashes=given.require_hashes, link_mode=given.link_mode,
            )
        from dataclasses import replace

        # The `--hash` digests of the build constraints are always checked (as uv does);
        # `--require-build-hashes` requires one for every package, in nested builds too.
        settings = replace(settings, constraint_hashes="verify")
        if require_hashes:
            from kiln.core.builder.packagesettings import PackageBuildSettings

            build = PackageBuildSettings(constraints=constraints, require_hashes=True)
            settings = replace(settings, constraint_hashes="require", build=build)
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


def default_installer(
    reporter: Reporter,
    index: IndexLocations | None = None,
    locate: Callable[[], IndexLocations] | None = None,
) -> Installer:
    """kiln's own installer, unless ``KILN_BUILD_INSTALLER`` is ``uv`` or ``pip``;
    ``index`` are the indexes of the run (None: ``locate()``, else
    :func:`~kiln.core.builder.installer.run_index`, when first needed)."""
    choice = os.environ.get("KILN_BUILD_INSTALLER", "").strip().lower()
    if choice not in {"", "kiln", "uv", "pip"}:
        raise KilnError(
            f"`KILN_BUILD_INSTALLER` must be `kiln`, `uv` or `pip`, not `{choice}`",
        )
    if choice in {"", "kiln"}:
        return KilnInstaller(index, reporter, locate=locate)
    uv = find_uv() if choice == "uv" else None
    if uv is not None:
        return UvInstaller(uv, index, reporter, locate)
    if choice == "uv":
        raise KilnError("`KILN_BUILD_INSTALLER=uv` is set but `uv` was not found on `PATH`")
    return PipInstaller(index, reporter, locate)


def open_builder(
    options: BuildOptions, reporter: Reporter, settings: Settings | None = None
) -> Builder:
    """The build service with kiln's choice of installer for its build environments;
    ``settings`` (``kiln build``'s index and resolution options) say where build
    requirements come from and how they are resolved, instead of the defaults of a run."""
    from kiln.core.builder.service import Builder

    if settings is None:
        return Builder(options, reporter, installers=default_installer)
    import functools
    from dataclasses import replace

    locate = functools.cache(lambda: build_locations(settings))
    options = replace(options, locate=locate, offline=options.offline or settings.client.offline)

    def installers(reporter: Reporter, index: IndexLocations | None) -> Installer:
        installer = default_installer(reporter, index, locate)
        if isinstance(installer, KilnInstaller):
            installer.settings = settings
        return installer

    return Builder(options, reporter, installers=installers)


def build_locations(settings: Settings) -> IndexLocations:
    """Where build requirements come from with ``settings``: the run's index settings
    (:func:`~kiln.core.index.runsettings.run_locations`), as for any ``kiln pip`` run."""
    from kiln.core.index.runsettings import run_locations

    if settings.locations is not None:
        return settings.locations
    return run_locations(
        settings.index, project=settings.project, config_file=settings.config_file,
        no_config=settings.no_config, environ=settings.environ,
    )
