"""Settings and progress callbacks shared by the ``kiln pip`` operations."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.locations import IndexLocations, IndexOptions
from kiln.core.record import Shown
from kiln.core.types import BuildChoices, ResolutionMode

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from packaging.utils import NormalizedName

    from kiln.core.builder.packagesettings import PackageBuildSettings
    from kiln.core.install.linking import LinkMode
    from kiln.core.resolver.universal import ForkStrategy
    from kiln.core.types import DistFile, PrereleaseMode


#: The default of the mapping settings: empty, and shared by every ``Settings``, so it
#: cannot be changed in place.
_NO_ENTRIES: Mapping[Any, Any] = MappingProxyType({})
#: The defaults of the other settings that are records, shared likewise (none of them
#: is changed once made).
_DEFAULT_INDEX = IndexOptions()
_DEFAULT_CLIENT = ClientOptions()
_DEFAULT_CHOICES = BuildChoices()


class Settings(Shown):
    """How to find, resolve and install packages (the command-line options).

    A plain class (:mod:`kiln.core.record`), not a named tuple, which cannot have a field
    named ``index``. Instances are not changed once made: :meth:`replace` makes the changed
    copies.
    """

    __slots__ = (
        "build", "build_environments", "choices", "client", "compile_bytecode", "config_file",
        "environ", "exclude_newer", "exclude_newer_packages", "exclude_newer_span",
        "fork_strategy", "index", "link_mode", "locations", "no_config", "no_deps", "prerelease",
        "prerelease_packages", "project", "reinstall", "reinstall_packages", "require_hashes",
        "resolution", "upgrade", "upgrade_packages",
    )
    _fields = (
        "index", "client", "prerelease", "prerelease_packages", "resolution", "exclude_newer",
        "exclude_newer_span", "exclude_newer_packages", "choices", "build", "fork_strategy",
        "upgrade", "upgrade_packages", "reinstall", "reinstall_packages", "no_deps",
        "require_hashes", "link_mode", "compile_bytecode", "project", "config_file",
        "no_config", "environ", "locations", "build_environments",
    )

    def __init__(
        self,
        *,
        index: IndexOptions = _DEFAULT_INDEX,
        client: ClientOptions = _DEFAULT_CLIENT,
        prerelease: PrereleaseMode = "if-necessary",
        prerelease_packages: Mapping[NormalizedName, PrereleaseMode] = _NO_ENTRIES,
        resolution: ResolutionMode = "highest",
        exclude_newer: datetime | None = None,
        exclude_newer_span: timedelta | None = None,
        exclude_newer_packages: Mapping[NormalizedName, datetime | None] = _NO_ENTRIES,
        choices: BuildChoices = _DEFAULT_CHOICES,
        build: PackageBuildSettings | None = None,
        fork_strategy: ForkStrategy = "requires-python",
        upgrade: bool = False,
        upgrade_packages: frozenset[str] = frozenset(),
        reinstall: bool = False,
        reinstall_packages: frozenset[str] = frozenset(),
        no_deps: bool = False,
        require_hashes: bool = False,
        link_mode: LinkMode = "hardlink",
        compile_bytecode: bool = False,
        project: Path | None = None,
        config_file: Path | None = None,
        no_config: bool = False,
        environ: Mapping[str, str] | None = None,
        locations: IndexLocations | None = None,
        build_environments: Settings | None = None,
    ) -> None:
        self.index = index
        self.client = client
        self.prerelease = prerelease
        #: ``--prerelease-package``: the mode of each package named, instead of
        #: ``prerelease``.
        self.prerelease_packages = prerelease_packages
        #: The highest versions first, the lowest, or the lowest of direct requirements
        #: only.
        self.resolution = resolution
        #: Leave out files uploaded after this moment (``--exclude-newer``); None: keep all.
        self.exclude_newer = exclude_newer
        #: The span before now ``exclude_newer`` was computed from (``--exclude-newer "7
        #: days"``); None for a fixed moment.
        self.exclude_newer_span = exclude_newer_span
        #: ``--exclude-newer-package``: a cutoff per package, instead of ``exclude_newer``.
        #: (None: the package is exempt from ``exclude_newer``, uv's ``NAME=false``).
        self.exclude_newer_packages = exclude_newer_packages
        #: Which kinds of file each package may use (``--no-binary``, ``--only-binary``,
        #: ``--no-build``, ``--no-build-package``, ``--no-binary-package``).
        self.choices = choices
        #: How sdists and source trees are built (``-C``, ``--no-build-isolation``,
        #: ``--build-constraints``, ...); None: isolated, with no settings.
        self.build = build
        #: ``--fork-strategy`` of universal resolutions.
        self.fork_strategy = fork_strategy
        #: Ignore installed versions when resolving (``--upgrade``).
        self.upgrade = upgrade
        #: Ignore the installed versions of these packages only (``--upgrade-package``).
        self.upgrade_packages = upgrade_packages
        #: Reinstall even when the same version is installed.
        self.reinstall = reinstall
        self.reinstall_packages = reinstall_packages
        #: Install only the named requirements, not their dependencies.
        self.no_deps = no_deps
        self.require_hashes = require_hashes
        self.link_mode = link_mode
        self.compile_bytecode = compile_bytecode
        #: Where ``[tool.kiln.index]`` settings are read from (``pyproject.toml``), if
        #: anywhere.
        self.project = project
        #: The only configuration file to read (``--config-file``), instead of
        #: discovering them.
        self.config_file = config_file
        #: Read no configuration file (``--no-config``).
        self.no_config = no_config
        self.environ = environ
        #: The index settings already worked out (a build environment takes those of the
        #: run that builds); when set, ``index``, ``project``, ``config_file`` and
        #: ``no_config`` are not read.
        self.locations = locations
        #: How the build environments of the packages built from source are filled (a
        #: build requirement built for ``kiln build`` builds with ``kiln build``'s options,
        #: at every level); None: as any run that builds
        #: (:func:`~kiln.core.operations.buildenvs.default_installer`).
        self.build_environments = build_environments


def with_file_defaults(
    settings: Settings, cwd: Path, *, pip: bool, given: Collection[str]
) -> Settings:
    """``settings`` with the ``resolution``, ``prerelease``, ``exclude-newer`` and
    ``exclude-newer-package`` of the configuration files (``kiln.toml``, else ``uv.toml``;
    with ``pip``, their ``[pip]`` tables first) for those of the names in ``given`` (the
    option names the command line gave) it leaves unsaid, as uv reads them."""
    import os

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
    return settings.replace(**changes) if changes else settings


def building_in(settings: Settings, python: Path) -> Settings:
    """``settings`` whose builds without isolation (``--no-build-isolation``, ``-package``)
    run on ``python``, the environment being changed, as in uv, unless an interpreter was
    chosen for them."""
    build = settings.build
    if build is None or build.python is not None:
        return settings
    if not (build.no_isolation or build.no_isolation_packages):
        return settings
    return settings.replace(build=build._replace(python=python))


class Events(NamedTuple):
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
