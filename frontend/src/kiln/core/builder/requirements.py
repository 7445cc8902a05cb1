"""Build requirements with sources: what an isolated build installs into its environment.

``build-system.requires`` (and whatever ``get_requires_for_build_*`` adds) is lowered through
:mod:`kiln.core.sources`, exactly like the project's own dependencies:

* a ``path`` to a project directory, a ``git`` checkout or a ``workspace = true`` member is
  built to a wheel in isolation, through the build service itself
  (:class:`~kiln.core.builder.service.BuildContext`; recursively: its own build requirements
  are lowered with its own sources);
* a ``path`` or ``url`` to a wheel is used as it is, to an sdist is built;
* ``index = "name"`` takes the package from that index only (kiln picks and downloads the file);
* anything else is left to the installer and the configured indexes.

Git checkouts, downloads and index pins are fetched by the service's
:class:`~kiln.core.builder.fetch.Fetcher`, like every other source kiln builds.

Lowered requirements reach the installer as ``name @ file:///.../x.whl``. The build
environment cache is keyed by what they resolved to (a digest of each wheel's contents), so a
changed source gives a new environment. Cycles among projects are reported with their chain,
and a failing nested build says which build requirement of which project it was building.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.requirements import Requirement
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import Version

from kiln.core.builder.constraints import BuildConstraints, explain_excluded, merge_constraints
from kiln.core.builder.errors import BackendError
from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.core.builder.envcache import BuildEnv, EnvProvider
    from kiln.core.builder.service import BuildContext
    from kiln.core.index.config import Index
    from kiln.core.sources.lower import LoweredRequirement
    from kiln.project.sources import ProjectSourceContext


class SourceSettings(NamedTuple):
    no_sources: bool = False
    #: ``--no-sources-package``: names whose sources are ignored.
    no_sources_packages: tuple[str, ...] = ()
    #: ``--build-constraint``.
    constraints: Path | None = None
    #: See :attr:`kiln.core.builder.service.BuildOptions.constraint_projects`.
    constraint_projects: tuple[Path, ...] = ()
    refresh: bool = False


class PreparedRequirements(NamedTuple):
    """Build requirements ready for the installer."""

    #: What the installer installs.
    install: tuple[str, ...]
    #: One entry per installed requirement, for the environment cache key.
    identity: tuple[str, ...]
    constraints: Path | None
    #: Requirements left to the package indexes (for "not found" messages).
    from_indexes: tuple[Requirement, ...] = ()


class _Resolved(NamedTuple):
    wheel: Path
    version: Version
    digest: str
    #: Where the version comes from, for messages.
    origin: str


def in_context(error: KilnError, line: str) -> KilnError:
    """``error`` with one more line of context; a backend failure keeps its output."""
    message = f"{error.message}\n{line}"
    if isinstance(error, BackendError):
        return BackendError(message, output=error.output, hint=error.hint)
    return KilnError(message, hint=error.hint)


def _is_project(directory: Path) -> bool:
    from kiln.project.pyproject import read_pyproject

    pyproject = read_pyproject(directory)
    project = pyproject.data.get("project") if pyproject is not None else None
    return isinstance(project, dict) and isinstance(project.get("name"), str)


def _lower(
    context: ProjectSourceContext, requirement: Requirement, settings: SourceSettings
) -> LoweredRequirement:
    from kiln.core.sources.lower import lower

    return lower(
        requirement,
        context.sources,
        project_root=context.project_root,
        no_sources_packages=settings.no_sources_packages,
        workspace_members=context.workspace_members,
    )


def _name_pattern(name: str) -> str:
    parts = re.split(r"[-_.]+", canonicalize_name(name))
    return r"[-_.]+".join(re.escape(part) for part in parts)


class BuildRequirementResolver:
    """Lowers and materialises build requirements for every build of one build service."""

    def __init__(self, context: BuildContext, settings: SourceSettings) -> None:
        self.context = context
        self.settings = settings
        self.reporter = context.reporter
        self._scratch = tempfile.TemporaryDirectory(prefix="kiln-build-requirements-")
        self.scratch = Path(self._scratch.name)
        self._memo: dict[object, _Resolved] = {}

    def close(self) -> None:
        self._scratch.cleanup()

    def for_project(
        self, sources_dir: Path | None, label: str, parent: ProjectRequirements | None = None
    ) -> ProjectRequirements:
        """The build requirements of one project (``sources_dir`` None: no lowering)."""
        return ProjectRequirements(self, sources_dir, label, parent)


class ProjectRequirements:
    """The build requirements of one project being built (maybe nested in another build)."""

    def __init__(
        self,
        resolver: BuildRequirementResolver,
        sources_dir: Path | None,
        label: str,
        parent: ProjectRequirements | None,
    ) -> None:
        self.resolver = resolver
        self.label = label
        self.parent = parent
        settings = resolver.settings
        self.sources_dir = sources_dir.resolve() if sources_dir is not None else None
        outer = parent.chain if parent is not None else ()
        own = ((self.sources_dir, label),) if self.sources_dir is not None else ()
        #: ``(directory, label)`` of the projects being built, outermost first.
        self.chain: tuple[tuple[Path, str], ...] = (*outer, *own)
        self.lowering = (
            self.sources_dir is not None
            and not settings.no_sources
            and _is_project(self.sources_dir)
        )
        self._context: ProjectSourceContext | None = None
        if parent is not None:
            self.constraints: BuildConstraints = parent.constraints
        else:
            self.constraints = merge_constraints(
                settings.constraints, self._pyprojects(), resolver.scratch
            )
            if self.lowering and self.sources_dir is not None:
                self._check_cycles(self.sources_dir)

    # -- configuration --------------------------------------------------------------------

    def _pyprojects(self) -> list[Path]:
        """The files whose ``build-constraint-dependencies`` apply: the built project's, its
        workspace root's, and those every build of the run takes."""
        files = list(self.resolver.settings.constraint_projects)
        if self.sources_dir is None:
            return files
        from kiln.project.workspace import find_workspace

        own = self.sources_dir / "pyproject.toml"
        workspace = find_workspace(self.sources_dir) if own.is_file() else None
        found = [own, *([workspace.root / "pyproject.toml"] if workspace is not None else [])]
        return [*found, *(f for f in files if f not in found)]

    @property
    def context(self) -> ProjectSourceContext:
        if self._context is None:
            from kiln.project.sources import load_project_sources

            assert self.sources_dir is not None
            self._context = load_project_sources(self.sources_dir)
        return self._context

    def lower(self, requirement: Requirement) -> LoweredRequirement | None:
        """``requirement`` lowered with the project's sources; None when lowering is off."""
        if not self.lowering:
            return None
        return _lower(self.context, requirement, self.resolver.settings)

    def has_sources(self, requires: Sequence[str]) -> bool:
        """Whether any of ``requires`` has a source (the fast path must then step aside)."""
        for text in requires:
            lowered = self.lower(Requirement(text))
            if lowered is not None and (lowered.source is not None or lowered.index is not None):
                return True
        return False

    def _check_cycles(self, start: Path) -> None:
        from kiln.core.sources.cycles import check_no_cycle
        from kiln.project.pyproject import project_label

        check_no_cycle(start, self._path_needs, describe=project_label)

    def _path_needs(self, directory: Path) -> list[Path]:
        """The project directories ``directory`` needs to build, through path/workspace sources."""
        from kiln.core.sources.model import PathSource
        from kiln.project.buildsystem import read_build_system
        from kiln.project.sources import load_project_sources

        if not _is_project(directory):
            return []
        context = load_project_sources(directory)
        found: list[Path] = []
        for text in read_build_system(directory).requires:
            lowered = _lower(context, Requirement(text), self.resolver.settings)
            if isinstance(lowered.source, PathSource) and lowered.source.path.is_dir():
                found.append(lowered.source.path.resolve())
        return found

    # -- preparing ------------------------------------------------------------------------

    def environment(self, envs: EnvProvider, requires: Sequence[str]) -> BuildEnv:
        """A build environment holding ``requires``, lowered."""
        prepared = self.prepare(requires)
        try:
            return envs.get(
                list(prepared.install), prepared.constraints, identity=list(prepared.identity)
            )
        except BackendError:
            raise
        except KilnError as exc:
            raise self._explain_install_failure(exc, prepared) from None

    def prepare(self, requires: Sequence[str]) -> PreparedRequirements:
        install: list[str] = []
        identity: list[str] = []
        plain: list[Requirement] = []
        for text in requires:
            requirement = Requirement(text)
            lowered = self.lower(requirement)
            if lowered is None or (lowered.source is None and lowered.index is None):
                install.append(text)
                identity.append(text)
                if requirement.url is None:
                    plain.append(requirement)
                continue
            if lowered.marker is not None and not lowered.marker.evaluate({"extra": ""}):
                continue
            resolved = self._resolve(lowered, requirement)
            extras = "[" + ",".join(sorted(lowered.extras)) + "]" if lowered.extras else ""
            install.append(f"{lowered.name}{extras} @ {resolved.wheel.as_uri()}")
            identity.append(f"{lowered.name}{extras} @ sha256:{resolved.digest}")
        return PreparedRequirements(
            tuple(install), tuple(identity), self.constraints.file, tuple(plain)
        )

    def _resolve(self, lowered: LoweredRequirement, requirement: Requirement) -> _Resolved:
        from kiln.core.sources.model import GitSource, PathSource

        source = lowered.source
        key = (lowered.name, source, lowered.index, self.sources_dir if lowered.index else None)
        memo = self.resolver._memo
        if key not in memo:
            if lowered.index is not None:
                memo[key] = self._from_index(lowered, requirement)
            elif isinstance(source, PathSource):
                memo[key] = self._from_path(lowered, source.path)
            elif isinstance(source, GitSource):
                memo[key] = self._from_git(lowered, source)
            else:
                memo[key] = self._from_url(lowered)
        resolved = memo[key]
        error = explain_excluded(
            lowered.name,
            self.label,
            [(resolved.version, resolved.origin)],
            requirement,
            self.constraints,
        )
        if error is not None:
            raise error
        return resolved

    def _where(self, lowered: LoweredRequirement) -> str:
        if lowered.workspace:
            return "the workspace member"
        if lowered.entry is not None:
            return f"`{lowered.entry.key}` in `{lowered.entry.origin}`"
        return "its source"

    # -- kinds of sources -----------------------------------------------------------------

    def _from_path(self, lowered: LoweredRequirement, path: Path) -> _Resolved:
        from kiln.core.builder.fetch import SDIST_SUFFIXES, WHEEL_SUFFIX

        where = self._where(lowered)
        if not path.exists():
            raise KilnError(
                f"{where}: the source of build requirement `{lowered.name}` of `{self.label}` "
                f"does not exist: `{path}`"
            )
        if path.is_dir():
            return self._wheel(lowered, self._build_project(lowered.name, path), where)
        if path.name.endswith(WHEEL_SUFFIX):
            return self._wheel(lowered, path, where)
        if path.name.endswith(SDIST_SUFFIXES):
            return self._wheel(lowered, self._build_sdist(lowered.name, path, None), where)
        raise KilnError(
            f"{where}: `{path}` is neither a project directory, a wheel nor a source distribution",
        )

    def _from_git(self, lowered: LoweredRequirement, source: object) -> _Resolved:
        from kiln.core.index.redaction import redact
        from kiln.core.sources.model import GitSource

        assert isinstance(source, GitSource)
        self.resolver.reporter.progress(
            f"Fetching `{redact(source.url)}` for build requirement `{lowered.name}`..."
        )
        checkout = self.resolver.context.fetcher.checkout(source)
        where = f"{self._where(lowered)} (commit `{checkout.commit}`)"
        return self._wheel(lowered, self._build_project(lowered.name, checkout.path), where)

    def _from_url(self, lowered: LoweredRequirement) -> _Resolved:
        from kiln.core.builder.fetch import WHEEL_SUFFIX
        from kiln.core.sources.model import UrlSource

        source = lowered.source
        assert isinstance(source, UrlSource)
        where = self._where(lowered)
        fetched = self.resolver.context.fetcher.archive(source, name=lowered.name)
        if fetched.path.name.endswith(WHEEL_SUFFIX):
            return self._wheel(lowered, fetched.path, where)
        wheel = self._build_sdist(lowered.name, fetched.path, fetched.subdirectory)
        return self._wheel(lowered, wheel, where)

    def _from_index(self, lowered: LoweredRequirement, requirement: Requirement) -> _Resolved:
        from kiln.core.builder.fetch import WHEEL_SUFFIX

        assert lowered.index is not None
        index = self._named_index(lowered.index, lowered)
        where = f"index `{lowered.index}`"
        excluded = self.constraints.excluding

        def allowed(version: Version) -> bool:
            return lowered.specifier.contains(version) and not excluded(lowered.name, version)

        offered, archive = self.resolver.context.fetcher.pinned(lowered.name, index, allowed)
        if archive is None:
            if not offered:
                raise KilnError(
                    f"build requirement `{lowered.name}` of `{self.label}` was not found on "
                    f"index `{lowered.index}`",
                    hint=f"{self._where(lowered)} pins it to that index, so no other index "
                    "is asked",
                )
            error = explain_excluded(
                lowered.name,
                self.label,
                [(version, where) for version in offered],
                requirement,
                self.constraints,
            )
            raise error or KilnError(
                f"index `{lowered.index}` has no file of build requirement `{lowered.name}` "
                f"that this interpreter can use (versions: "
                + ", ".join(str(v) for v in offered)
                + ")"
            )
        if not archive.name.endswith(WHEEL_SUFFIX):
            archive = self._build_sdist(lowered.name, archive, None)
        return self._wheel(lowered, archive, where)

    def _named_index(self, name: str, lowered: LoweredRequirement) -> Index:
        from kiln.project.indexes import index_config

        for pyproject in self._pyprojects():
            for index in index_config(pyproject).indexes:
                if index.name == name:
                    return index
        raise KilnError(
            f"{self._where(lowered)}: index `{name}` is not defined in `[[tool.kiln.index]]`"
        )

    # -- building -------------------------------------------------------------------------

    def _wheel(self, lowered: LoweredRequirement, wheel: Path, where: str) -> _Resolved:
        from kiln.core.builder.fetch import wheel_identity

        try:
            name, version, _, _ = parse_wheel_filename(wheel.name)
        except InvalidWheelFilename:
            raise KilnError(f"{where}: `{wheel.name}` is not a valid wheel file name") from None
        if name != lowered.name:
            raise KilnError(
                f"{where}: the source of build requirement `{lowered.name}` of `{self.label}` "
                f"is a distribution of `{name}`, not `{lowered.name}`",
            )
        return _Resolved(wheel, version, wheel_identity(wheel), where)

    def _build_project(self, name: NormalizedName, directory: Path) -> Path:
        directory = directory.resolve()
        for position, (outer, _label) in enumerate(self.chain):
            if outer == directory:
                labels = [label for _dir, label in self.chain[position:]]
                from kiln.project.pyproject import project_label

                chain = " -> ".join([*labels, project_label(directory)])
                raise KilnError(
                    f"build dependency cycle: {chain}",
                    hint="a project cannot need itself to build; remove one of the sources "
                    "in the chain",
                )
        return self._nested(name, directory, directory)

    def _build_sdist(self, name: NormalizedName, archive: Path, subdirectory: str | None) -> Path:
        return self._nested(name, archive, None, subdirectory)

    def _nested(
        self,
        name: NormalizedName,
        source: Path,
        sources_dir: Path | None,
        subdirectory: str | None = None,
    ) -> Path:
        """The wheel of ``source`` (a project directory or an sdist), built in isolation."""
        out = Path(tempfile.mkdtemp(prefix="wheel-", dir=self.resolver.scratch))
        self.resolver.reporter.progress(f"Building build requirement `{name}` of `{self.label}`...")
        try:
            return self.resolver.context.wheel_from(
                source, out, sources_dir=sources_dir, parent=self, subdirectory=subdirectory
            )
        except KilnError as exc:
            raise in_context(
                exc, f"while building build requirement `{name}` of `{self.label}`"
            ) from None

    # -- failures -------------------------------------------------------------------------

    def _explain_install_failure(
        self, error: KilnError, prepared: PreparedRequirements
    ) -> KilnError:
        for requirement in prepared.from_indexes:
            pattern = _name_pattern(requirement.name)
            missing = (
                rf"(?i)\b{pattern} was not found in",
                rf"(?i)no matching distribution found for {pattern}\b",
            )
            if any(re.search(p, error.message) for p in missing):
                return KilnError(
                    f"build requirement `{requirement.name}` of `{self.label}` was not found "
                    "on any package index",
                    hint=self._missing_hint(canonicalize_name(requirement.name)),
                )
        return error

    def _missing_hint(self, name: NormalizedName) -> str:
        settings = self.resolver.settings
        ignored = settings.no_sources or name in {
            canonicalize_name(p) for p in settings.no_sources_packages
        }
        if ignored and self.sources_dir is not None and _is_project(self.sources_dir):
            from kiln.project.sources import load_project_sources

            try:
                sources = load_project_sources(self.sources_dir).sources
            except KilnError:
                sources = None
            if sources is not None and name in sources:
                flag = "--no-sources" if settings.no_sources else "--no-sources-package"
                entry = sources.get(name)[0]
                return (
                    f"`{name}` has a source ({entry.where}), which `{flag}` ignores; "
                    f"publish `{name}` to an index before publishing `{self.label}`"
                )
        return "check the requirement name and the package index configuration"
