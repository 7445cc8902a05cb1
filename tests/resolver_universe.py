"""An in-memory PackageSource for resolver tests: packages, versions, files, metadata."""

from __future__ import annotations

from collections.abc import Sequence

from packaging.metadata import Metadata, RawMetadata
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.resolver.driver import resolve
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import Resolution
from kiln.core.types import DistFile

ANY_WHEEL = "py3-none-any"


class Universe:
    """Packages served from memory; ``add`` one file per call."""

    def __init__(self) -> None:
        self._files: dict[NormalizedName, list[DistFile]] = {}
        self._metadata: dict[str, Metadata] = {}
        self.files_calls: list[str] = []
        #: ``name==version`` of each sdist whose metadata was asked of the universe as a
        #: :class:`MetadataBuilder` (in a real resolution: built), in order.
        self.built: list[str] = []
        #: The ``versions`` argument of the last ``files`` call, per name.
        self.narrowing: dict[str, SpecifierSet | None] = {}

    def add(
        self,
        name: str,
        version: str,
        requires: Sequence[str] = (),
        *,
        tag: str | None = ANY_WHEEL,
        requires_python: str | None = None,
        file_requires_python: str | None = None,
        yanked: str | None = None,
        extras: Sequence[str] = (),
    ) -> DistFile:
        normalized = canonicalize_name(name)
        if tag is None:
            filename = f"{normalized}-{version}.tar.gz"
            tags: frozenset[Tag] | None = None
        else:
            filename = f"{normalized.replace('-', '_')}-{version}-{tag}.whl"
            tags = frozenset(parse_tag(tag))
        file = DistFile(
            name=normalized,
            version=Version(version),
            filename=filename,
            url=f"memory://{filename}",
            requires_python=None if file_requires_python is None
            else SpecifierSet(file_requires_python),
            yanked=yanked,
            tags=tags,
            index="memory",
        )
        raw: RawMetadata = {
            "metadata_version": "2.1",
            "name": name,
            "version": version,
            "requires_dist": list(requires),
            "provides_extra": list(extras),
        }
        if requires_python is not None:
            raw["requires_python"] = requires_python
        self._metadata[file.url] = Metadata.from_raw(raw)
        self._files.setdefault(normalized, []).append(file)
        return file

    def files(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[DistFile]:
        self.files_calls.append(name)
        self.narrowing[name] = versions
        return [
            f for f in self._files.get(name, [])
            if versions is None or versions.contains(f.version, prereleases=True)
        ]

    def metadata(self, file: DistFile) -> Metadata:
        return self._metadata[file.url]

    # -- as a MetadataBuilder: an sdist's metadata "built" (and counted) --------------------

    def sdist_metadata(self, file: DistFile) -> Metadata:
        self.built.append(f"{file.name}=={file.version}")
        return self._metadata[file.url]

    def direct_reference(self, name: NormalizedName, url: str) -> tuple[DistFile, Metadata]:
        raise AssertionError(f"no direct references in a universe: {name} @ {url}")

    def version_order(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[Version] | None:
        return None  # highest first

    def resolution_hints(self) -> Sequence[str]:
        return ()


def pins(resolution: Resolution) -> dict[str, str]:
    """``{name: version}`` of a resolution, for compact assertions."""
    return {name: str(p.version) for name, p in resolution.packages.items()}


def linux(python: str = "3.12") -> TargetEnvironment:
    return TargetEnvironment.for_target(python, "linux")


def solve(universe: Universe, *requirements: str, **kwargs: object) -> dict[str, str]:
    from packaging.requirements import Requirement

    env = kwargs.pop("env", None) or linux()
    result = resolve([Requirement(r) for r in requirements], universe, env=env, **kwargs)  # type: ignore[arg-type]
    return pins(result)
