"""Settings and progress callbacks shared by the ``kiln pip`` operations."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.locations import IndexLocations, IndexOptions
from kiln.core.types import BuildChoices, ResolutionMode

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from packaging.utils import NormalizedName

    from kiln.core.builder.packagesettings import PackageBuildSettings
    from kiln.core.install.linking import LinkMode
    from kiln.core.resolver.universal import ForkStrategy
    from kiln.core.types import DistFile, PrereleaseMode


@dataclass(frozen=True)
class Settings:
    """How to find, resolve and install packages (the command-line options)."""

    index: IndexOptions = field(default_factory=IndexOptions)
    client: ClientOptions = field(default_factory=ClientOptions)
    prerelease: PrereleaseMode = "if-necessary"
    #: ``--prerelease-package``: the mode of each package named, instead of ``prerelease``.
    prerelease_packages: Mapping[NormalizedName, PrereleaseMode] = field(default_factory=dict)
    #: The highest versions first, the lowest, or the lowest of direct requirements only.
    resolution: ResolutionMode = "highest"
    #: Leave out files uploaded after this moment (``--exclude-newer``); None: keep all.
    exclude_newer: datetime | None = None
    #: The span before now ``exclude_newer`` was computed from (``--exclude-newer "7 days"``);
    #: None for a fixed moment.
    exclude_newer_span: timedelta | None = None
    #: ``--exclude-newer-package``: a cutoff per package, instead of ``exclude_newer``.
    #: (None: the package is exempt from ``exclude_newer``, uv's ``NAME=false``).
    exclude_newer_packages: Mapping[NormalizedName, datetime | None] = field(
        default_factory=dict
    )
    #: Which kinds of file each package may use (``--no-binary``, ``--only-binary``,
    #: ``--no-build``, ``--no-build-package``, ``--no-binary-package``).
    choices: BuildChoices = field(default_factory=BuildChoices)
    #: How sdists and source trees are built (``-C``, ``--no-build-isolation``,
    #: ``--build-constraints``, ...); None: isolated, with no settings.
    build: PackageBuildSettings | None = None
    #: ``--fork-strategy`` of universal resolutions.
    fork_strategy: ForkStrategy = "requires-python"
    #: Ignore installed versions when resolving (``--upgrade``).
    upgrade: bool = False
    #: Ignore the installed versions of these packages only (``--upgrade-package``).
    upgrade_packages: frozenset[str] = frozenset()
    #: Reinstall even when the same version is installed.
    reinstall: bool = False
    reinstall_packages: frozenset[str] = frozenset()
    #: Install only the named requirements, not their dependencies.
    no_deps: bool = False
    require_hashes: bool = False
    link_mode: LinkMode = "hardlink"
    compile_bytecode: bool = False
    #: Where ``[tool.kiln.index]`` settings are read from (``pyproject.toml``), if anywhere.
    project: Path | None = None
    #: The only configuration file to read (``--config-file``), instead of discovering them.
    config_file: Path | None = None
    #: Read no configuration file (``--no-config``).
    no_config: bool = False
    environ: Mapping[str, str] | None = None
    #: The index settings already worked out (a build environment takes those of the run
    #: that builds); when set, ``index``, ``project``, ``config_file`` and ``no_config``
    #: are not read.
    locations: IndexLocations | None = None
    #: How the build environments of the packages built from source are filled (a build
    #: requirement built for ``kiln build`` builds with ``kiln build``'s options, at every
    #: level); None: as any run that builds (:func:`~kiln.core.operations.buildenvs.default_installer`).
    build_environments: Settings | None = None


def with_file_defaults(
    settings: Settings, cwd: Path, *, pip: bool, given: Collection[str]
) -> Settings:
    """``settings`` with the ``resolution``, ``prerelease``, ``exclude-newer`` and
    ``exclude-newer-package`` of the configuration files (``kiln.toml``, else ``uv.toml``;
    with ``pip``, their ``[pip]`` tables first) for those of the names in ``given`` (the
    option names the command line gave) it leaves unsaid, as uv reads them."""
    import os
    from dataclasses import replace

    from packaging.utils import canonicalize_name

    from kiln.core.index.configfiles import discover, load_settings

    environ = os.environ if settings.environ is None else settings.environ
    paths = discover(cwd, environ, config_file=settings.config_file, no_config=settings.no_config)
    if not paths:
        return settings
    files = load_settings(paths, pip=pip)
    changes: dict[str, Any] = {}
    if files.resolution is not None and "resolution" not in given:
        changes["resolution"] = files.resolution
    if files.prerelease is not None and "prerelease" not in given:
        changes["prerelease"] = files.prerelease
    if files.exclude_newer is not None and "exclude_newer" not in given:
        changes["exclude_newer"] = files.exclude_newer.moment
        changes["exclude_newer_span"] = files.exclude_newer.span
    if files.exclude_newer_packages:
        changes["exclude_newer_packages"] = {
            **{canonicalize_name(n): c for n, c in files.exclude_newer_packages.items()},
            **settings.exclude_newer_packages,
        }
    return replace(settings, **changes) if changes else settings


def building_in(settings: Settings, python: Path) -> Settings:
    """``settings`` whose builds without isolation (``--no-build-isolation``, ``-package``)
    run on ``python``, the environment being changed, as in uv, unless an interpreter was
    chosen for them."""
    from dataclasses import replace

    build = settings.build
    if build is None or build.python is not None:
        return settings
    if not (build.no_isolation or build.no_isolation_packages):
        return settings
    return replace(settings, build=build._replace(python=python))


@dataclass(frozen=True)
class Events:
    """Callbacks for progress; each may be None. They may run in worker threads."""

    #: A download finished: (file, finished count, total count).
    downloaded: Callable[[DistFile, int, int], None] | None = None
    #: About to download this many files.
    downloading: Callable[[int], None] | None = None
    #: A build started, with a label like ``demo @ file:///src/demo``.
    building: Callable[[str], None] | None = None
    #: A line for the user about a step taken, such as the environment being made.
    note: Callable[[str], None] | None = None
    #: A warning for the user.
    warning: Callable[[str], None] | None = None
