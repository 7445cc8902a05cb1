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
    InstallerFactory,
    PipInstaller,
    RunIndexes,
    UvInstaller,
    find_uv,
)
from kiln.core.builder.report import Reporter
from kiln.errors import KilnError

if TYPE_CHECKING:
    from datetime import datetime

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
        network, pre-release, resolution, upload-date, hash, binary and build choices, build
        and link-mode settings apply to build requirements too."""
        super().__init__(index, locate)
        self.reporter = reporter
        self.settings = settings
        #: The packages the environments are for, outermost first (with ``settings``, the
        #: packages built for them carry these on, so that a cycle is found, not followed).
        self.building: tuple[str, ...] = ()

    @property
    def settings_key(self) -> list[str]:
        """What of ``settings`` decides which build requirements get installed; with them,
        the packages the environment is for (an environment never waits for itself)."""
        if self.settings is None:
            return []
        return [*settings_key(self.settings), "for " + " ".join(self.building)]

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
        from packaging.utils import canonicalize_name

        from kiln.core.install.environment import Environment
        from kiln.core.operations.hashes import MissingHashError
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
                exclude_newer_packages=given.exclude_newer_packages, choices=given.choices,
                build=given.build and given.build._replace(
                    building=tuple(canonicalize_name(n) for n in self.building),
                ),
                require_hashes=given.require_hashes,
                link_mode=given.link_mode, build_environments=given,
            )
        # The `--hash` digests of the build constraints are always checked (as uv does);
        # `--require-build-hashes` requires one for every package, in nested builds too.
        if require_hashes:
            from kiln.core.builder.packagesettings import PackageBuildSettings

            build = (settings.build or PackageBuildSettings())._replace(
                constraints=constraints, require_hashes=True,
            )
            settings = settings.replace(require_hashes=True, build=build)
        env = Environment.from_venv(env_python.parent.parent)
        events = Events(building=lambda label: self.reporter.debug(f"building `{label}`"))
        try:
            report = install(env, inputs, settings, events)
        except MissingHashError as exc:
            raise KilnError(
                f"installing build requirements failed:\n{exc.message}",
                hint="build requirements take their pins and hashes from the "
                "`--build-constraint` file: give every package a line like "
                "`name==1.0 --hash=sha256:<digest>` there",
            ) from None
        except KilnError as exc:
            raise KilnError(
                f"installing build requirements failed:\n{exc.message}", hint=exc.hint
            ) from None
        for change in report.installed:
            self.reporter.debug(f"installed {change.name}=={change.version}")


def default_installer(
    reporter: Reporter,
    index: IndexLocations | None = None,
    building: tuple[str, ...] = (),
    *,
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
        installer = KilnInstaller(index, reporter, locate=locate)
        installer.building = building
        return installer
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

    given = settings
    locate = functools.cache(lambda: build_locations(given))
    options = options.replace(
        locate=locate, offline=options.offline or settings.client.offline,
        upgrade_packages=options.upgrade_packages | settings.client.refresh_packages,
    )
    if settings.build is not None:
        from kiln.core.builder.hooks import no_isolation_python

        # Build requirements built without isolation (`--no-build-isolation-package`) are
        # built where `kiln build --no-build-isolation` would build, as in uv; the build
        # constraints apply to their build environments too.
        settings = settings.replace(build=settings.build._replace(
            python=settings.build.python or Path(
                no_isolation_python(options.python)
            ),
            constraints=settings.build.constraints or options.constraints,
        ))

    return Builder(options, reporter, installers=installers_with(settings, locate))


def installers_with(
    settings: Settings | None, locate: Callable[[], IndexLocations] | None = None
) -> InstallerFactory:
    """The installers of build environments that install with ``settings`` (None: kiln's
    defaults, :func:`default_installer`); ``locate`` as for :func:`default_installer`."""

    def installers(
        reporter: Reporter, index: IndexLocations | None, building: tuple[str, ...]
    ) -> Installer:
        installer = default_installer(reporter, index, building, locate=locate)
        if settings is None:
            return installer
        if isinstance(installer, KilnInstaller):
            installer.settings = settings
        elif settings.require_hashes:  # never build unchecked when checking was asked for
            raise KilnError(
                f"`--require-hashes` needs kiln's own installer of build environments, "
                f"not `{installer.name}`",
                hint="unset `KILN_BUILD_INSTALLER`",
            )
        return installer

    return installers


def settings_key(settings: Settings) -> list[str]:
    """What of ``settings`` decides which build requirements are installed, and how those
    built from source are built: part of the build environment cache key."""
    choices = settings.choices
    build = settings.build
    key = [
        f"prerelease {settings.prerelease}",
        f"resolution {settings.resolution}",
        # A span (`7 days`) gives a new moment every run: its environments are kept for the
        # day. What one holds was uploaded before its cutoff, so before any later one too.
        f"exclude-newer {_moment(settings.exclude_newer)}" if settings.exclude_newer_span is None
        else f"exclude-newer-span {settings.exclude_newer_span} {_day(settings.exclude_newer)}",
        *(
            f"exclude-newer-package {name} {_moment(date)}"
            for name, date in sorted(settings.exclude_newer_packages.items())
        ),
        f"no-binary {choices.no_binary_all} {' '.join(sorted(choices.no_binary))}",
        f"no-build {choices.no_build_all} {' '.join(sorted(choices.no_build))}",
        f"require-hashes {settings.require_hashes}",
    ]
    if build is not None:
        import json

        key += [
            "config-settings " + json.dumps(dict(build.config_settings), sort_keys=True),
            "config-settings-package "
            + json.dumps(dict(build.package_config_settings), sort_keys=True),
            f"no-build-isolation {build.no_isolation} "
            + " ".join(sorted(build.no_isolation_packages)),
        ]
    return key


def _moment(moment: datetime | None) -> str:
    return "none" if moment is None else moment.isoformat()


def _day(moment: datetime | None) -> str:
    return "none" if moment is None else moment.date().isoformat()


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
