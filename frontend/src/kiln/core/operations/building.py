"""Turning sources into wheels: sdists, local projects, archives and git references.

:class:`SourceBuilder` is the resolver's :class:`~kiln.core.resolver.provider.MetadataBuilder`:
it builds through :mod:`kiln.build` (the code behind ``kiln build``), remembers each
built wheel and the PEP 610 ``direct_url.json`` it should be installed with.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import Version

from kiln.core.fileio import file_sha256
from kiln.core.index.download import Downloader
from kiln.core.index.http import file_url_path
from kiln.core.index.metadata import (
    MetadataNeedsBuild,
    parse_metadata,
    read_wheel_metadata,
)
from kiln.core.index.redaction import strip_credentials
from kiln.core.operations.hashes import AllowedHashes, check_all_hashed, verify_file
from kiln.core.types import DistFile, PackageSource
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.metadata import Metadata

    from kiln.build.frontend import Builder
    from kiln.core.index.locations import IndexLocations
    from kiln.project.buildsystem import BuildSystem

#: Told about each build as it starts, e.g. ``demo @ file:///src/demo``.
BuildCallback = Callable[[str], None]


@dataclass(frozen=True)
class Built:
    """A wheel ready to install, and how to record where it came from."""

    wheel: Path
    #: PEP 610 data for direct references; None for packages from an index.
    direct_url: dict[str, object] | None = None


class _Reporter:
    """Feeds :mod:`kiln.build`'s progress to a callback (backend output is dropped)."""

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
    """Builds what has no wheel, once per source, into a private work directory."""

    def __init__(
        self,
        source: PackageSource,
        downloader: Downloader,
        work_dir: Path,
        *,
        editables: Collection[str] = (),
        offline: bool = False,
        on_build: BuildCallback | None = None,
        hashes: AllowedHashes | None = None,
        index: IndexLocations | None = None,
    ) -> None:
        self.source = source
        #: The indexes of build environments: those of the run (None: work them out).
        self.index = index
        self.downloader = downloader
        self.work_dir = work_dir
        self.editables = frozenset(editables)
        self.offline = offline
        self.on_build = on_build
        #: With hash checking, the ``--hash`` digests of each package: every archive is
        #: checked against them before it is read or built (an index's own hashes, maybe
        #: only ``md5``, are not enough). None without hash checking.
        self.hashes = hashes
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
        sdist = self._verified(self.downloader.download(file), file.name)
        wheel = self._build_from_sdist(sdist, f"{file.name}=={file.version}")
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

    def _builder(self, label: str) -> Builder:
        from kiln.build.frontend import Builder, BuildOptions

        return Builder(BuildOptions(wheel=True, index=self.index), _Reporter(label, self.on_build))

    def _build_from_sdist(self, sdist: Path, label: str) -> Path:
        from kiln.build.frontend import Source

        if not sdist.name.endswith(".tar.gz"):
            raise KilnError(
                f"cannot build `{sdist.name}`: only `.tar.gz` source distributions are supported"
            )
        out = self._scratch()
        with self._builder(label) as builder:
            staged = builder.stage(Source(sdist, True), out)
        return Path(staged[-1])

    def _build_tree(self, tree: Path, label: str, *, editable: bool) -> Path:
        out = self._scratch()
        if editable:
            return build_editable(tree, out, label, self.on_build, index=self.index)
        with self._builder(label) as builder:
            return Path(builder.build_one("wheel", tree, out))

    def _build_direct(self, name: NormalizedName, url: str) -> Built:
        with self._lock:
            known = self.built.get(url)
        if known is not None:
            return known
        label = f"{name} @ {strip_credentials(url)}"
        if url.startswith("git+"):
            built = self._git(url, label)
        elif url.startswith("file:"):
            built = self._local(name, url, label)
        else:
            built = self._remote(name, url, label)
        _check_name(built.wheel, name, url)
        with self._lock:
            self.built[url] = built
        return built

    def _local(self, name: NormalizedName, url: str, label: str) -> Built:
        path = file_url_path(url.split("#", 1)[0])
        if path.is_dir():
            editable = url in self.editables
            wheel = self._build_tree(path, label, editable=editable)
            info: dict[str, object] = {"editable": True} if editable else {}
            return Built(wheel, {"url": path.as_uri(), "dir_info": info})
        if not path.is_file():
            raise KilnError(f"`{path}` does not exist (from `{url}`)")
        self._verified(path, name)
        archive: dict[str, object] = {"url": path.as_uri(), "archive_info": {"hashes": {"sha256": file_sha256(path)}}}
        if path.name.endswith(".whl"):
            return Built(path, archive)
        return Built(self._build_from_sdist(path, label), archive)

    def _remote(self, name: NormalizedName, url: str, label: str) -> Built:
        base, _, fragment = url.partition("#")
        filename = unquote(urlsplit(base).path.rsplit("/", 1)[-1])
        hashes: dict[str, str] = {}
        for part in fragment.split("&"):
            key, _, value = part.partition("=")
            if key in ("sha256", "sha384", "sha512", "md5") and value:
                hashes[key] = value
        file = DistFile(name, Version("0"), filename, base, hashes=hashes)
        path = self._verified(self.downloader.download(file), name)
        archive: dict[str, object] = {"url": base, "archive_info": {"hashes": {"sha256": file_sha256(path)}}}
        if filename.endswith(".whl"):
            return Built(path, archive)
        return Built(self._build_from_sdist(path, label), archive)

    def _git(self, url: str, label: str) -> Built:
        from kiln.core.sources.git import fetch
        from kiln.core.sources.model import GitSource

        parts = urlsplit(url.removeprefix("git+"))
        subdirectory = None
        for item in parts.fragment.split("&"):
            key, _, value = item.partition("=")
            if key == "subdirectory" and value:
                subdirectory = value
        path, at, revision = parts.path.rpartition("@")
        if not at or "/" in revision:
            path, revision = parts.path, ""
        repository = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        checkout = fetch(
            GitSource(url=repository, rev=revision or None, subdirectory=subdirectory),
            offline=self.offline,
        )
        wheel = self._build_tree(checkout.project, label, editable=False)
        vcs_info: dict[str, object] = {"vcs": "git", "commit_id": checkout.commit}
        if revision:
            vcs_info["requested_revision"] = revision
        data: dict[str, object] = {"url": checkout.url, "vcs_info": vcs_info}
        if subdirectory:
            data["subdirectory"] = subdirectory
        return Built(wheel, data)

    def _verified(self, archive: Path, name: NormalizedName) -> Path:
        """``archive`` once it matches the ``--hash`` digests of ``name`` (with hash checking)."""
        if self.hashes is not None:
            check_all_hashed([name], self.hashes)
            verify_file(archive, str(name), self.hashes[name])
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


def build_editable(
    tree: Path,
    out_dir: Path,
    label: str,
    on_build: BuildCallback | None = None,
    *,
    index: IndexLocations | None = None,
) -> Path:
    """Build an editable wheel of ``tree`` (PEP 660) into ``out_dir``; ``index`` are the
    indexes of its build environment (None: work them out for this run)."""
    from kiln.build import fastpath
    from kiln.project.buildsystem import read_build_system
    from kiln.project.pyproject import project_label

    build_system = read_build_system(tree)
    if on_build is not None:
        on_build(label)
    if fastpath.fast_path_applies(build_system):
        import kiln_build

        with fastpath.working_directory(tree):
            try:
                name = kiln_build.build_editable(str(out_dir), None)
            except KilnError:
                raise
            except Exception as exc:  # the backend reports user errors as exceptions
                raise KilnError(
                    f"`kiln_build.build_editable` failed for `{tree}`:\n{exc}"
                ) from None
        return out_dir / str(name)
    return _editable_subprocess(tree, out_dir, build_system, project_label(tree), index)


def _editable_subprocess(
    tree: Path,
    out_dir: Path,
    build_system: BuildSystem,
    label: str,
    index: IndexLocations | None,
) -> Path:
    from kiln.build.envcache import EnvProvider, cache_dir, normalize_requirements
    from kiln.build.installer import default_installer
    from kiln.build.isolated import HookSession
    from kiln.build.report import SilentReporter

    reporter = SilentReporter()
    with EnvProvider(default_installer(reporter, index), reporter, root=cache_dir()) as envs:
        env = envs.get(build_system.requires, None)
        session = HookSession(
            tree, build_system, env.python_executable, env.make_extra_environ(), reporter, label
        )
        extra = session.call(
            "get_requires_for_build_editable",
            lambda: session.caller.get_requires_for_build_editable(None),
        )
        known = set(normalize_requirements(build_system.requires))
        missing = [item for item in normalize_requirements(extra) if item not in known]
        if missing:
            env = envs.get([*build_system.requires, *missing], None)
            session = HookSession(
                tree, build_system, env.python_executable, env.make_extra_environ(),
                reporter, label,
            )
        name = session.call(
            "build_editable", lambda: session.caller.build_editable(str(out_dir), None)
        )
    return out_dir / name


def temporary_work_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="kiln-pip-")
