"""What the resolver and the installer build: sdists of an index and direct references.

:class:`SourceBuilder` is the resolver's :class:`~kiln.core.resolver.provider.MetadataBuilder`
and gives the installer its wheels. It has no build logic of its own: each source is fetched
and built by the build service (:class:`~kiln.core.builder.service.Builder`, the code behind
``kiln build``) through the run's index client, and remembered with the PEP 610
``direct_url.json`` it should be installed with.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from kiln.core.builder.fetch import Fetched, Fetcher, parse_direct_url
from kiln.core.builder.packagesettings import PackageBuildSettings
from kiln.core.index.metadata import (
    MetadataNeedsBuild,
    parse_metadata,
    read_wheel_metadata,
)
from kiln.core.index.redaction import strip_credentials
from kiln.core.sources.model import PathSource
from kiln.core.types import Built, DistFile, PackageSource
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.metadata import Metadata

    from kiln.core.builder.installer import InstallerFactory
    from kiln.core.builder.service import Builder
    from kiln.core.index.source import IndexPackageSource

#: Told about each build as it starts, e.g. ``demo @ file:///src/demo``.
BuildCallback = Callable[[str], None]
#: Checks an archive of a package before it is read or built (``--hash`` checking).
ArchiveCheck = Callable[[Path, NormalizedName], None]


class _Reporter:
    """Feeds the build service's progress to a callback (backend output is dropped)."""

    def __init__(self, label: str, callback: BuildCallback | None) -> None:
        self.label = label
        self.callback = callback
        self.told = False

    def progress(self, message: str) -> None:
        if self.callback is not None and not self.told:
            self.told = True
            self.callback(self.label)

    def debug(self, message: str) -> None:
        pass

    def backend_line(self, line: str) -> None:
        pass


class SourceBuilder:
    """Builds what has no wheel, once per source, into a private work directory.

    Thread-safe: the resolver asks for the metadata of several sdists at once. Every build
    shares one :class:`~kiln.core.builder.fetch.Fetcher` over ``client``, the run's index
    client.
    """

    def __init__(
        self,
        client: IndexPackageSource,
        work_dir: Path,
        *,
        installers: InstallerFactory,
        source: PackageSource | None = None,
        editables: Collection[str] = (),
        on_build: BuildCallback | None = None,
        verify: ArchiveCheck | None = None,
        settings: PackageBuildSettings | None = None,
    ) -> None:
        """``source`` is where index sdists' metadata is asked first (default: ``client``);
        ``settings`` say how each package is built (default: isolated, no settings)."""
        self.settings = settings or PackageBuildSettings()
        self.source: PackageSource = client if source is None else source
        self.fetcher = Fetcher(client)
        #: The indexes of build environments: those of the run.
        self.index = client.locations
        self.installers = installers
        self.work_dir = work_dir
        self.editables = frozenset(editables)
        self.on_build = on_build
        #: With hash checking, what checks every archive against the ``--hash`` digests of
        #: its package before it is read or built (an index's own hashes, maybe only
        #: ``md5``, are not enough). None without hash checking.
        self.verify = verify
        #: URL (of an sdist file or a direct reference) -> what was built from it.
        self.built: dict[str, Built] = {}
        self._lock = threading.Lock()
        self._count = 0

    # -- MetadataBuilder --------------------------------------------------------------------

    def sdist_metadata(self, file: DistFile) -> Metadata:
        try:
            return self.source.metadata(file)
        except MetadataNeedsBuild:
            pass
        built = self.wheel_for_sdist(file)
        return self._wheel_metadata(built.wheel, file.name)

    def direct_reference(self, name: NormalizedName, url: str) -> tuple[DistFile, Metadata]:
        built = self._build_direct(name, url)
        metadata = self._wheel_metadata(built.wheel, name)
        _name, version, _build, tags = parse_wheel_filename(built.wheel.name)
        file = DistFile(name, version, built.wheel.name, url, tags=tags)
        return file, metadata

    # -- wheels -------------------------------------------------------------------------------

    def wheel_for_sdist(self, file: DistFile) -> Built:
        """The wheel built from the sdist ``file`` of an index (downloaded and verified)."""
        with self._lock:
            known = self.built.get(file.url)
        if known is not None:
            return known
        label = f"{file.name}=={file.version}"
        self.settings.check_buildable(file.name, label)
        sdist = self._verified(self.fetcher.download(file), file.name)
        wheel = self._build_archive(sdist, label, None, file.name)
        built = Built(wheel)
        with self._lock:
            self.built[file.url] = built
        return built

    def _scratch(self) -> Path:
        with self._lock:
            self._count += 1
            path = self.work_dir / f"build-{self._count}"
        path.mkdir(parents=True)
        return path

    def _builder(self, label: str, name: NormalizedName) -> Builder:
        from kiln.core.builder.service import Builder

        reporter = _Reporter(label, self.on_build)
        return Builder(
            self.settings.options(name, self.index),
            reporter,
            installers=self.installers,
            fetcher=self.fetcher,
        )

    def _build_archive(
        self, archive: Path, label: str, subdirectory: str | None, name: NormalizedName
    ) -> Path:
        """The wheel of a wheel or sdist file (which must be a ``.tar.gz``)."""
        if archive.name.endswith(".whl"):
            return archive
        self.settings.check_buildable(name, label)
        out = self._scratch()
        with self._builder(label, name) as builder:
            builder.reporter.progress("Building wheel from source distribution...")
            return builder.wheel_from(archive, out, subdirectory=subdirectory)

    def _build_tree(
        self, tree: Path, label: str, name: NormalizedName, *, editable: bool
    ) -> Path:
        if not editable:  # as in uv, an editable is built whatever `--no-build` says
            self.settings.check_buildable(name, label)
        out = self._scratch()
        with self._builder(label, name) as builder:
            if editable:
                builder.reporter.progress("Building editable wheel...")  # always told
                return builder.build_one("editable", tree, out)
            return builder.build_one("wheel", tree, out)

    def _build_direct(self, name: NormalizedName, url: str) -> Built:
        with self._lock:
            known = self.built.get(url)
        if known is not None:
            return known
        label = f"{name} @ {strip_credentials(url)}"
        source = parse_direct_url(url)
        fetched = self.fetcher.fetch(source, name=name)
        editable = isinstance(source, PathSource) and url in self.editables
        built = self._build_fetched(name, fetched, label, editable=editable)
        _check_name(built.wheel, name, url)
        with self._lock:
            self.built[url] = built
        return built

    def _build_fetched(
        self, name: NormalizedName, fetched: Fetched, label: str, *, editable: bool
    ) -> Built:
        if fetched.is_archive:
            self._verified(fetched.path, name)
            return Built(
                self._build_archive(fetched.path, label, fetched.subdirectory, name),
                fetched.direct_url,
            )
        wheel = self._build_tree(fetched.path, label, name, editable=editable)
        if not editable:
            return Built(wheel, fetched.direct_url)
        return Built(wheel, {**fetched.direct_url, "dir_info": {"editable": True}})

    def _verified(self, archive: Path, name: NormalizedName) -> Path:
        """``archive`` once it matches the ``--hash`` digests of ``name`` (with hash checking)."""
        if self.verify is not None:
            self.verify(archive, name)
        return archive

    def _wheel_metadata(self, wheel: Path, name: NormalizedName) -> Metadata:
        try:
            _, version, _, tags = parse_wheel_filename(wheel.name)
        except InvalidWheelFilename as exc:
            raise KilnError(f"the build produced an invalid wheel name: {exc}") from None
        raw = read_wheel_metadata(wheel, wheel.name)
        metadata = parse_metadata(
            raw, DistFile(name, version, wheel.name, wheel.as_uri(), tags=tags)
        )
        return checked_fields(metadata, wheel.name)


#: The METADATA fields the resolver reads, as the METADATA file spells them.
_RESOLVER_FIELDS = {"requires_python": "Requires-Python", "requires_dist": "Requires-Dist"}


def checked_fields(metadata: Metadata, filename: str) -> Metadata:
    """``metadata`` of the wheel ``filename``, once the fields the resolver reads are known
    to be valid: packaging checks a field when it is first read, which would otherwise be in
    the middle of resolving, as a traceback."""
    from packaging.metadata import InvalidMetadata

    for attribute, header in _RESOLVER_FIELDS.items():
        try:
            getattr(metadata, attribute)
        except InvalidMetadata as exc:
            reason = str(exc).split("\n", 1)[0]
            if len(reason) > 200:
                reason = reason[:197] + "..."
            raise KilnError(
                f"`{filename}` has an invalid `{header}` in its METADATA: {reason}",
                hint="the wheel was built wrongly; rebuild it or ask its authors to fix it",
            ) from None
    return metadata


def _check_name(wheel: Path, name: NormalizedName, url: str) -> None:
    try:
        wheel_name = parse_wheel_filename(wheel.name)[0]
    except InvalidWheelFilename as exc:
        raise KilnError(f"`{strip_credentials(url)}`: {exc}") from None
    if canonicalize_name(wheel_name) != name:
        raise KilnError(
            f"`{strip_credentials(url)}` is the package `{wheel_name}`, not `{name}`",
            hint=f"require it as `{wheel_name} @ {strip_credentials(url)}`",
        )


def temporary_work_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="kiln-pip-")
