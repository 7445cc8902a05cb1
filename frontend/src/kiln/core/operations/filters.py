"""Views of a package source for ``--no-deps`` and for hash-checked requirements."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.builder.sourcebuilder import checked_fields
from kiln.core.operations.hashes import AllowedHashes
from kiln.core.types import DistFile, PackageSource

if TYPE_CHECKING:
    from datetime import datetime

    from packaging.metadata import Metadata

    from kiln.core.resolver.provider import MetadataBuilder


def without_dependencies(metadata: Metadata) -> Metadata:
    """A copy of ``metadata`` that requires nothing."""
    stripped = copy.copy(metadata)
    stripped.__dict__["requires_dist"] = []
    return stripped


def hash_allows(file: DistFile, allowed: Mapping[str, frozenset[str]]) -> bool:
    """False when ``file`` advertises a hash that none of the allowed digests match."""
    comparable = [algo for algo in allowed if algo in file.hashes]
    if not comparable:
        return True
    return any(file.hashes[algo].lower() in allowed[algo] for algo in comparable)


class FilteredSource:
    """Prefers files whose advertised hashes are allowed; optionally strips dependencies."""

    def __init__(
        self, source: PackageSource, *, hashes: AllowedHashes, no_deps: bool = False
    ) -> None:
        self.source = source
        self.hashes = hashes
        self.no_deps = no_deps

    def files(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[DistFile]:
        files = self.source.files(name, versions)
        allowed = self.hashes.get(name)
        if not allowed:
            return files
        matching = [f for f in files if hash_allows(f, allowed)]
        # With no match at all, keep every file: the download check then says what differs.
        return matching or files

    def metadata(self, file: DistFile) -> Metadata:
        metadata = self.source.metadata(file)
        if not file.index:  # a wheel given directly (`./x.whl`, `name @ https://...whl`)
            checked_fields(metadata, file.filename)
        return without_dependencies(metadata) if self.no_deps else metadata

    def resolution_hints(self) -> Sequence[str]:
        return self.source.resolution_hints()

    def version_order(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[Version] | None:
        """The wrapped source's version preference (index order), if it states one."""
        return self.source.version_order(name, versions)


class NoDepsBuilder:
    """A metadata builder whose packages require nothing."""

    def __init__(self, builder: MetadataBuilder) -> None:
        self.builder = builder

    def sdist_metadata(self, file: DistFile) -> Metadata:
        return without_dependencies(self.builder.sdist_metadata(file))

    def direct_reference(self, name: NormalizedName, url: str) -> tuple[DistFile, Metadata]:
        file, metadata = self.builder.direct_reference(name, url)
        return file, without_dependencies(metadata)


class PolicySource:
    """A source seen through ``--exclude-newer`` and ``--resolution``: files uploaded after
    ``exclude_newer`` (or the package's own cutoff in ``exclude_newer_packages``, where None
    exempts the package) are left out, and so are files whose index gives no upload time,
    as in uv (a cutoff cannot vouch for them); and
    the versions of the packages in ``lowest`` (of every package when it is None) are
    tried lowest first."""

    def __init__(
        self,
        source: PackageSource,
        *,
        exclude_newer: datetime | None = None,
        lowest: frozenset[NormalizedName] | None = frozenset(),
        exclude_newer_packages: Mapping[NormalizedName, datetime | None] | None = None,
    ) -> None:
        self.source = source
        self.exclude_newer = exclude_newer
        self.exclude_newer_packages = exclude_newer_packages or {}
        self.lowest = lowest
        #: Packages with files left out only for having no upload time (for the hints).
        self.undated: set[NormalizedName] = set()

    def files(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[DistFile]:
        files = self.source.files(name, versions)
        cutoff = self.exclude_newer_packages.get(name, self.exclude_newer)
        if cutoff is None:
            return files
        if any(f.upload_time is None for f in files):
            self.undated.add(name)
        return [f for f in files if f.upload_time is not None and upload_time(f) <= cutoff]

    def metadata(self, file: DistFile) -> Metadata:
        return self.source.metadata(file)

    def resolution_hints(self) -> Sequence[str]:
        hints = list(self.source.resolution_hints())
        for name in sorted(self.undated):
            hints.append(
                f"files of `{name}` were left out because their index gives no upload time, "
                f"which `--exclude-newer` needs; `--exclude-newer-package {name}=false` "
                "takes every file of it"
            )
        return hints

    def version_order(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[Version] | None:
        if self.lowest is None or name in self.lowest:
            return sorted({f.version for f in self.files(name, versions)})
        return self.source.version_order(name, versions)


def upload_time(file: DistFile) -> datetime:
    """The upload time of ``file`` (which must have one), in UTC."""
    from kiln.core.timestamps import parse_timestamp

    assert file.upload_time is not None
    return parse_timestamp(file.upload_time)
