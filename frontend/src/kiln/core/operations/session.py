"""One run of resolving against the configured indexes, with a builder for sources."""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.builder.packagesettings import PackageBuildSettings
from kiln.core.builder.sourcebuilder import SourceBuilder
from kiln.core.index.locations import IndexLocations, IndexOptions
from kiln.core.index.runsettings import run_locations
from kiln.core.index.source import IndexPackageSource
from kiln.core.operations.buildenvs import installers_with
from kiln.core.operations.filters import FilteredSource, NoDepsBuilder, PolicySource
from kiln.core.operations.hashes import AllowedHashes, allowed_hashes, archive_check
from kiln.core.operations.options import Events, Settings
from kiln.core.requirements_file import RequirementsInput
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import Resolution, UniversalResolution
from kiln.core.types import DistFile, PackageSource

if TYPE_CHECKING:
    from kiln.core.resolver.provider import MetadataBuilder


def index_locations(
    inputs: RequirementsInput, settings: Settings, *, sys_platform: str | None = None
) -> IndexLocations:
    """The index settings of this run (:func:`~kiln.core.index.runsettings.run_locations`):
    command-line index options first, then those of the requirement files; ``sys_platform``
    is the target's."""
    if settings.locations is not None:
        return settings.locations
    options = settings.index
    merged = IndexOptions(
        index=options.index,
        default_index=options.default_index,
        index_url=options.index_url or inputs.index_url,
        extra_index_url=(*options.extra_index_url, *inputs.extra_index_urls),
        find_links=(*options.find_links, *inputs.find_links),
        no_index=options.no_index or inputs.no_index,
        strategy=options.strategy,
        torch_backend=options.torch_backend,
        keyring_provider=options.keyring_provider,
    )
    return run_locations(
        merged,
        project=settings.project,
        config_file=settings.config_file,
        no_config=settings.no_config,
        environ=settings.environ,
        sys_platform=sys_platform,
    )


class Session:
    """The index client, a work directory and a source builder, closed together."""

    def __init__(
        self,
        inputs: RequirementsInput,
        settings: Settings,
        target: TargetEnvironment,
        events: Events | None = None,
        *,
        hashes: AllowedHashes | None = None,
        require_hashes: bool = True,
    ) -> None:
        """``hashes``: the ``--hash`` digests every archive the builder reads or builds is
        checked against first; with ``require_hashes`` (hash checking), a package without
        any is refused, else it is not checked."""
        self.inputs = inputs
        self.settings = settings
        self.target = target
        self.events = events or Events()
        self.source = IndexPackageSource(
            index_locations(inputs, settings, sys_platform=target.markers.get("sys_platform")),
            settings.client,
            environ=settings.environ,
            marker_environment=dict(target.markers),
        )
        self._work = tempfile.TemporaryDirectory(prefix="kiln-pip-")
        editables = [s.requirement.url for s in inputs.requirements if s.editable]
        self.builder = SourceBuilder(
            self.source,
            Path(self._work.name),
            installers=installers_with(settings.build_environments),
            editables=[url for url in editables if url is not None],
            on_build=self.events.building,
            verify=(
                archive_check(hashes, require=require_hashes) if hashes is not None else None
            ),
            settings=(settings.build or PackageBuildSettings())._replace(choices=settings.choices),
        )

    def close(self) -> None:
        self.source.close()
        self._work.cleanup()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def download(self, files: Sequence[DistFile]) -> list[Path]:
        """Download ``files`` (each checked against its hashes) at once, telling the
        events; the paths come back in the same order."""
        events = self.events
        if files and events.downloading is not None:
            events.downloading(len(files))
        return self.source.download_many(files, progress=events.downloaded)

    def resolve(
        self,
        *,
        no_deps: bool = False,
        preferences: Sequence[Requirement] = (),
        preferred: Mapping[NormalizedName, Collection[Version]] | None = None,
    ) -> Resolution:
        """Resolve the inputs; ``preferences`` (``name==installed``) are tried first, all
        together; ``preferred`` versions are tried first one package at a time."""
        source, builder = self._resolver_inputs(no_deps)
        inputs = self.inputs
        requirements = self._requirements()
        constraints = list(inputs.constraints)

        from kiln.core.resolver.driver import resolve as run_resolver
        from kiln.core.resolver.errors import ResolutionError

        def run(constraints: list[Requirement]) -> Resolution:
            return run_resolver(
                requirements, source, env=self.target, constraints=constraints,
                overrides=inputs.overrides, excludes=inputs.excludes,
                prerelease=self.settings.prerelease, builder=builder,
                prerelease_packages=self.settings.prerelease_packages,
                dependencies=not no_deps, preferences=preferred, choices=self.settings.choices,
            )

        if preferences:
            try:
                return run([*constraints, *preferences])
            except ResolutionError:
                pass  # the installed versions do not fit: resolve freely
        return run(constraints)

    def _requirements(self) -> list[Requirement]:
        """The requirements to resolve: those of the inputs, less the excluded packages."""
        excluded = set(self.inputs.excludes)
        return [
            spec.requirement for spec in self.inputs.requirements
            if canonicalize_name(spec.requirement.name) not in excluded
        ]

    def resolve_universal(
        self,
        python: Version,
        *,
        no_deps: bool = False,
        overrides: Sequence[Requirement] = (),
        preferences: Mapping[NormalizedName, Collection[Version]] | None = None,
        environments: Sequence[Marker] = (),
        index_pins: Mapping[NormalizedName, tuple[tuple[Marker | None, str], ...]]
        | None = None,
        required_environments: Sequence[Marker] = (),
    ) -> UniversalResolution:
        """Resolve the inputs for every environment with Python ``python`` or newer
        (where one of ``environments`` holds, if any); ``preferences`` are tried first.
        ``index_pins``: packages pinned to a named index where a marker holds (a lock's
        ``index`` sources), whatever the index settings' own pins say;
        ``required_environments``: environments every chosen version must have a wheel
        (or a source distribution) for."""
        from kiln.core.resolver.universal import (  # the marker algebra: only here
            SourceRoutes,
            resolve_universal,
        )

        source, builder = self._resolver_inputs(no_deps)
        routes = None
        if index_pins:
            routes = SourceRoutes(
                index_pins, lambda assignment: self._resolver_inputs(
                    no_deps, self.routed_source(assignment))[0],
            )
        return resolve_universal(
            self._requirements(), source,
            python=python, markers=self.target.markers,
            constraints=list(self.inputs.constraints),
            overrides=[*self.inputs.overrides, *overrides], excludes=self.inputs.excludes,
            prerelease=self.settings.prerelease, builder=builder,
            prerelease_packages=self.settings.prerelease_packages,
            preferences=preferences, environments=environments, routes=routes,
            required=required_environments,
            choices=self.settings.choices, fork_strategy=self.settings.fork_strategy,
        )

    def routed_source(self, routes: Mapping[NormalizedName, str | None]) -> PackageSource:
        """The index client with each package of ``routes`` pinned to the index of that
        name (None: to none)."""
        locations = self.source.locations
        # Every index the run knows by name: those named in the settings, and the
        # default one (`pypi`) that no setting names.
        named = {i.name: i for i in locations.all_indexes() if i.name} | dict(locations.named)
        return self.source.routed(
            {name: None if index is None else named[index] for name, index in routes.items()}
        )

    def _resolver_inputs(
        self, no_deps: bool, base: PackageSource | None = None
    ) -> tuple[PackageSource, MetadataBuilder]:
        hashes = allowed_hashes([*self.inputs.requirements, *self.inputs.hashed_constraints])
        source: PackageSource = FilteredSource(
            base or self.source, hashes=hashes, no_deps=no_deps
        )
        settings = self.settings
        if (
            settings.exclude_newer is not None
            or settings.exclude_newer_packages
            or settings.resolution != "highest"
        ):
            lowest: frozenset[NormalizedName] | None = frozenset()
            if settings.resolution == "lowest":
                lowest = None
            elif settings.resolution == "lowest-direct":
                lowest = frozenset(
                    canonicalize_name(spec.requirement.name) for spec in self.inputs.requirements
                )
            source = PolicySource(
                source, exclude_newer=settings.exclude_newer, lowest=lowest,
                exclude_newer_packages=settings.exclude_newer_packages,
            )
        builder: MetadataBuilder = NoDepsBuilder(self.builder) if no_deps else self.builder
        return source, builder
