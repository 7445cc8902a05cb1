"""The build service: the one way kiln turns a source into an sdist, a wheel or an editable.

:class:`Builder` implements :class:`BuildContext`, the seam every build goes through:
``kiln build`` (:meth:`Builder.build`, :meth:`Builder.list_files`), the resolver's metadata
step and the installer (through :class:`~kiln.core.builder.sourcebuilder.SourceBuilder`) and
the build requirements that come from sources (:mod:`~kiln.core.builder.requirements`).

* :attr:`~BuildContext.fetcher` makes a source local (:mod:`~kiln.core.builder.fetch`: one
  index client, so one HTTP session and one download cache, for the builder's lifetime);
* :meth:`~BuildContext.build_one` builds one artifact of a source tree: in-process with the
  installed kiln_build when it can (:mod:`~kiln.core.builder.fastpath`), else through the
  backend's PEP 517 hooks (:mod:`~kiln.core.builder.hooks`, pypa/build) in an environment
  from the cache of build environments (:mod:`~kiln.core.builder.envcache`);
* :meth:`~BuildContext.wheel_from` is the wheel of a local directory, sdist or wheel.

Artifacts of ``kiln build`` are built into a staging directory and copied into the output
directory (each through a temporary name and an atomic rename) only when every requested
artifact was built, so a failure leaves the output directory untouched. Nothing here prints:
progress goes to a :class:`~kiln.core.builder.report.Reporter`.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from kiln.core.builder import fastpath
from kiln.core.builder.archives import SDIST_SUFFIX, archive_members, extract_sdist
from kiln.core.builder.configsettings import ConfigSettings
from kiln.core.builder.fetch import WHEEL_SUFFIX, Fetcher
from kiln.core.builder.report import Reporter
from kiln.core.record import Shown
from kiln.errors import KilnError
from kiln.project.buildsystem import read_build_system
from kiln.project.pyproject import project_label

if TYPE_CHECKING:
    from kiln.core.builder.envcache import EnvProvider
    from kiln.core.builder.installer import InstallerFactory
    from kiln.core.builder.requirements import BuildRequirementResolver, ProjectRequirements
    from kiln.core.index.locations import IndexLocations

#: What one build makes: ``kiln build`` plans sdists and wheels; installs also ask for
#: editables (PEP 660).
Kind = Literal["sdist", "wheel", "editable"]


class BuildContext(Protocol):
    """What turns a source into a wheel: the calls every caller builds through."""

    @property
    def reporter(self) -> Reporter: ...

    @property
    def fetcher(self) -> Fetcher:
        """Makes sources local: one index client, one download cache."""
        ...

    def build_one(
        self,
        kind: Kind,
        tree: Path,
        out_dir: Path,
        *,
        sources_dir: Path | None = None,
        parent: ProjectRequirements | None = None,
    ) -> Path:
        """One artifact of the source tree ``tree``, written into ``out_dir``.

        ``sources_dir`` is the project whose ``[tool.kiln.sources]`` apply to the build
        requirements (the tree itself, or the project an sdist was made from); None applies
        none. ``parent`` is the build this one is a build requirement of.
        """
        ...

    def wheel_from(
        self,
        path: Path,
        out_dir: Path,
        *,
        sources_dir: Path | None = None,
        parent: ProjectRequirements | None = None,
        subdirectory: str | None = None,
    ) -> Path:
        """The wheel of a local project directory, sdist (its ``subdirectory``, if given)
        or wheel (itself); built ones are written into ``out_dir``."""
        ...


class BuildOptions(Shown):
    """How the build service builds. A plain class, not a named tuple: a named tuple cannot
    have a field named ``index``. Instances are not changed once made: :meth:`replace`
    gives a changed copy."""

    _fields = (
        "sdist", "wheel", "config_settings", "constraints", "constraint_projects", "isolation",
        "use_cache", "refresh", "no_sources", "no_sources_packages", "index", "locate",
        "python", "offline", "upgrade_packages", "create_gitignore", "require_hashes",
        "building",
    )

    def __init__(
        self,
        sdist: bool = False,
        wheel: bool = False,
        config_settings: ConfigSettings | None = None,
        constraints: Path | None = None,
        constraint_projects: tuple[Path, ...] = (),
        isolation: bool = True,
        use_cache: bool = True,
        refresh: bool = False,
        no_sources: bool = False,
        no_sources_packages: tuple[str, ...] = (),
        index: IndexLocations | None = None,
        locate: Callable[[], IndexLocations] | None = None,
        python: str | None = None,
        offline: bool = False,
        upgrade_packages: frozenset[str] = frozenset(),
        create_gitignore: bool = True,
        require_hashes: bool = False,
        building: tuple[str, ...] = (),
    ) -> None:
        self.sdist = sdist
        self.wheel = wheel
        self.config_settings: ConfigSettings = {} if config_settings is None else config_settings
        self.constraints = constraints
        #: ``pyproject.toml`` files whose ``build-constraint-dependencies`` apply to every
        #: build (those of the project being locked), besides the built project's own.
        self.constraint_projects = constraint_projects
        self.isolation = isolation
        self.use_cache = use_cache
        self.refresh = refresh
        #: Ignore ``[tool.kiln.sources]`` for build requirements (``--no-sources``).
        self.no_sources = no_sources
        #: Ignore the sources of these packages (``--no-sources-package``).
        self.no_sources_packages = no_sources_packages
        #: The indexes of build environments (those of the ``kiln pip`` run that builds);
        #: None works them out as any run does (:mod:`kiln.core.index.runsettings`).
        self.index = index
        #: Without ``index``: works out the indexes when first needed (``kiln build``'s
        #: index options); None: :func:`~kiln.core.builder.installer.run_index`.
        self.locate = locate
        #: The interpreter build environments are made for and backends run with (``kiln
        #: build --python``; without isolation, the target environment's of ``kiln pip
        #: install --no-build-isolation``); None: kiln's own (without isolation: the active
        #: virtual environment's).
        self.python = python
        #: Use only cached index pages and files (``--offline``).
        self.offline = offline
        #: Make cached build environments holding these packages again
        #: (``--upgrade-package``).
        self.upgrade_packages = upgrade_packages
        #: Write a ``.gitignore`` (``*``) into an output directory that has none.
        self.create_gitignore = create_gitignore
        #: ``--require-build-hashes``: every package installed into a build environment must
        #: have a ``--hash`` in ``constraints`` and match it; builds then need isolation, and
        #: the in-process fast path (which installs nothing to check) is not taken.
        self.require_hashes = require_hashes
        #: The packages this build is for, outermost first (a build requirement built from
        #: source: the packages whose build environments need it); told to the installer.
        self.building = building


class Source(NamedTuple):
    path: Path
    is_sdist: bool


def resolve_source(path: Path) -> Source:
    path = path.absolute()
    if not path.exists():
        raise KilnError(f"source `{path}` does not exist")
    if path.is_dir():
        return Source(path, False)
    if path.name.endswith(SDIST_SUFFIX):
        return Source(path, True)
    raise KilnError(
        f"`{path}` is not a valid build source",
        hint=f"pass a project directory or a source distribution ending in `{SDIST_SUFFIX}`",
    )


def default_out_dir(source: Source) -> Path:
    return source.path.parent if source.is_sdist else source.path / "dist"


def _check_consistent(sdist: Path, wheel: Path) -> None:
    try:
        sdist_name, sdist_version = parse_sdist_filename(sdist.name)
        wheel_name, wheel_version, _, _ = parse_wheel_filename(wheel.name)
    except (InvalidSdistFilename, InvalidWheelFilename):
        return
    if canonicalize_name(sdist_name) != canonicalize_name(wheel_name):
        raise KilnError(
            f"the source distribution declares name `{sdist_name}`, but the wheel declares name `{wheel_name}`"
        )
    if sdist_version != wheel_version:
        raise KilnError(
            f"the source distribution declares version `{sdist_version}`, but the wheel declares version `{wheel_version}`"
        )


def prepare_out_dir(out_dir: Path, *, clear: bool, protect: Path | None = None) -> None:
    """Apply ``--clear``; refuses to clear a directory that holds the source."""
    if not clear or not out_dir.exists():
        return
    resolved = out_dir.resolve()
    if protect is not None and (
        resolved == protect.resolve() or protect.resolve().is_relative_to(resolved)
    ):
        raise KilnError(
            f"refusing to clear `{out_dir}`: it contains the project being built",
            hint="choose another `--out-dir`",
        )
    shutil.rmtree(out_dir)


def publish(files: list[Path], out_dir: Path, *, gitignore: bool = True) -> list[Path]:
    """Copy built files into ``out_dir`` atomically; with ``gitignore``, an ``out_dir``
    without a ``.gitignore`` gets one (``*``), as uv does."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KilnError(f"cannot create output directory `{out_dir}`: {exc.strerror}") from None
    ignore = out_dir / ".gitignore"
    if gitignore and not os.path.lexists(ignore):
        ignore.write_text("*", encoding="utf-8")
    results: list[Path] = []
    for built in files:
        target = out_dir / built.name
        handle, temporary = tempfile.mkstemp(prefix=f".{built.name}.", suffix=".tmp", dir=out_dir)
        os.close(handle)
        try:
            shutil.copy2(built, temporary)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        results.append(target)
    return results


class Builder:
    """The build service (a :class:`BuildContext`): holds the build environments, the build
    requirements' sources and the fetcher for its lifetime.

    ``installers`` makes the installer of build environments (needed with isolation);
    ``fetcher`` is a shared one (the run's index client), else the builder opens its own
    when something must be downloaded, and closes it on exit.
    """

    def __init__(
        self,
        options: BuildOptions,
        reporter: Reporter,
        *,
        installers: InstallerFactory | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.options = options
        self._reporter = reporter
        self._fetcher = fetcher or Fetcher(
            offline=options.offline, refresh=options.refresh, locations=options.index,
            locate=options.locate,
        )
        self._owns_fetcher = fetcher is None
        self.envs: EnvProvider | None = None
        self.requirements: BuildRequirementResolver | None = None
        if options.isolation:
            from kiln.core.builder.envcache import EnvProvider, cache_dir
            from kiln.core.builder.requirements import BuildRequirementResolver, SourceSettings

            if installers is None:
                raise ValueError("an isolated build needs `installers` for its environments")
            root = cache_dir() if options.use_cache else None
            installer = installers(reporter, options.index, options.building)
            self.envs = EnvProvider(
                installer, reporter, root=root, refresh=options.refresh,
                python=options.python or sys.executable, upgrade=options.upgrade_packages,
                require_hashes=options.require_hashes,
            )
            settings = SourceSettings(
                no_sources=options.no_sources,
                no_sources_packages=options.no_sources_packages,
                constraints=options.constraints,
                constraint_projects=options.constraint_projects,
                refresh=options.refresh,
            )
            self.requirements = BuildRequirementResolver(self, settings)

    @property
    def reporter(self) -> Reporter:
        return self._reporter

    @property
    def fetcher(self) -> Fetcher:
        return self._fetcher

    def __enter__(self) -> Builder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.envs is not None:
            self.envs.__exit__(exc_type, exc, tb)
        if self.requirements is not None:
            self.requirements.close()
        if self._owns_fetcher:
            self.fetcher.close()

    # -- BuildContext ---------------------------------------------------------------------

    def build_one(
        self,
        kind: Kind,
        tree: Path,
        out_dir: Path,
        *,
        sources_dir: Path | None = None,
        parent: ProjectRequirements | None = None,
    ) -> Path:
        """One artifact from one source tree, fast path or PEP 517 subprocess (see
        :meth:`BuildContext.build_one`)."""
        build_system = read_build_system(tree)
        label = project_label(tree)
        if self.options.require_hashes and not self.options.isolation:
            raise KilnError(
                f"`--require-build-hashes` cannot check the build requirements of `{label}`: "
                "it is built without build isolation, from what is installed already",
                hint="drop `--no-build-isolation` (or `--no-build-isolation-package`) for it, "
                "or `--require-build-hashes`",
            )
        requirements = None
        if self.requirements is not None:
            requirements = self.requirements.for_project(sources_dir, label, parent)
        if (
            fastpath.fast_path_applies(build_system)
            and not self.options.require_hashes
            and not (requirements is not None and requirements.has_sources(build_system.requires))
        ):
            self.reporter.debug(f"using the bundled `kiln_build` backend for `{tree}`")
            return fastpath.build_in_process(kind, tree, out_dir, self.options.config_settings)
        if build_system.fallback:
            self.reporter.debug(
                f"`{label}` has no `[build-system]`: using `{build_system.backend}`"
            )
        from kiln.core.builder.hooks import build_subprocess

        return build_subprocess(
            kind,
            tree,
            out_dir,
            build_system,
            self.options.config_settings,
            envs=self.envs,
            python=self.options.python,
            constraints=self.options.constraints,
            reporter=self.reporter,
            label=label,
            requirements=requirements,
        )

    def wheel_from(
        self,
        path: Path,
        out_dir: Path,
        *,
        sources_dir: Path | None = None,
        parent: ProjectRequirements | None = None,
        subdirectory: str | None = None,
    ) -> Path:
        if path.is_dir():
            return self.build_one("wheel", path, out_dir, sources_dir=sources_dir, parent=parent)
        if path.name.endswith(WHEEL_SUFFIX):
            return path
        if not path.name.endswith(SDIST_SUFFIX):
            raise KilnError(
                f"cannot build `{path.name}`: only `{SDIST_SUFFIX}` source distributions are supported"
            )
        with tempfile.TemporaryDirectory(prefix="kiln-sdist-") as unpacked:
            tree = extract_sdist(path, Path(unpacked))
            if subdirectory:
                tree = tree / subdirectory
                if not tree.is_dir():
                    raise KilnError(f'`subdirectory = "{subdirectory}"` does not exist in `{path}`')
            wheel = self.build_one("wheel", tree, out_dir, sources_dir=sources_dir, parent=parent)
        if not subdirectory:
            _check_consistent(path, wheel)
        return wheel

    # -- kiln build -----------------------------------------------------------------------

    def stage(self, source: Source, staging: Path) -> list[Path]:
        """Build the planned artifacts of ``source`` into ``staging``."""
        options = self.options
        if source.is_sdist:
            if options.sdist:
                raise KilnError(
                    f"cannot build an sdist from the source distribution `{source.path}`",
                    hint="drop `--sdist`",
                )
            return [self._wheel_from_sdist(source.path, staging, None)]
        if options.sdist or options.wheel:
            built: list[Path] = []
            if options.sdist:
                self.reporter.progress("Building source distribution...")
                built.append(self.build_one("sdist", source.path, staging, sources_dir=source.path))
            if options.wheel:
                self.reporter.progress("Building wheel...")
                built.append(self.build_one("wheel", source.path, staging, sources_dir=source.path))
            return built
        self.reporter.progress("Building source distribution...")
        sdist = self.build_one("sdist", source.path, staging, sources_dir=source.path)
        return [sdist, self._wheel_from_sdist(sdist, staging, source.path)]

    def _wheel_from_sdist(self, sdist: Path, staging: Path, sources_dir: Path | None) -> Path:
        """The wheel of ``sdist``; the sources of ``sources_dir`` (its project) apply."""
        self.reporter.progress("Building wheel from source distribution...")
        return self.wheel_from(sdist, staging, sources_dir=sources_dir)

    def build(self, source: Source, out_dir: Path) -> list[Path]:
        """Build ``source`` and publish the artifacts into ``out_dir``; return their paths."""
        with tempfile.TemporaryDirectory(prefix="kiln-build-") as staging:
            built = self.stage(source, Path(staging))
            return publish(built, out_dir.absolute(), gitignore=self.options.create_gitignore)

    def list_files(self, source: Source) -> list[tuple[str, list[str]]]:
        """``(artifact, members)`` for each planned artifact, writing nothing to the out dir."""
        kinds: list[Kind] = []
        if not source.is_sdist:
            if self.options.sdist or not self.options.wheel:
                kinds.append("sdist")
            if self.options.wheel or not self.options.sdist:
                kinds.append("wheel")
            listed = self._list_with_backend(source.path, kinds)
            if listed is not None:
                return listed
        with tempfile.TemporaryDirectory(prefix="kiln-list-") as staging:
            built = self.stage(source, Path(staging))
            return [(path.name, archive_members(path)) for path in built]

    def _list_with_backend(
        self, tree: Path, kinds: list[Kind]
    ) -> list[tuple[str, list[str]]] | None:
        if self.options.require_hashes or not fastpath.fast_path_applies(read_build_system(tree)):
            return None
        import kiln_build

        lister = getattr(kiln_build, "list_files", None)
        if lister is None:
            return None
        self.reporter.debug(f"listing files with `kiln_build.list_files` for `{tree}`")
        try:
            sdist_members, wheel_members = lister(tree)
        except Exception as exc:
            raise KilnError(f"`kiln_build.list_files` failed for `{tree}`:\n{exc}") from None
        found = {"sdist": list(sdist_members), "wheel": list(wheel_members)}
        return [(kind, found[kind]) for kind in kinds]
