"""The newest release of each installed package on the configured indexes (``--outdated``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.index.source import IndexPackageSource
from kiln.core.install.environment import Environment
from kiln.core.operations.environment import target_of
from kiln.core.operations.filters import PolicySource
from kiln.core.operations.listing import Latest
from kiln.core.operations.options import Settings
from kiln.core.operations.session import index_locations
from kiln.core.requirements_file import RequirementsInput
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.types import DistFile


def latest_versions(
    env: Environment, names: Iterable[str], settings: Settings
) -> dict[NormalizedName, Latest | None]:
    """For each name, the newest release the environment could install from the indexes of
    ``settings``, or None when the indexes have none.

    A release counts when it has a file for the environment: a wheel whose tags the
    interpreter supports, or a source distribution, neither yanked nor excluding the
    interpreter's version by ``Requires-Python``. Pre-releases count only with
    ``prerelease="allow"``, and releases uploaded after the cutoff of ``exclude_newer``
    (or of the package in ``exclude_newer_packages``) do not count. Index pages are
    revalidated (not taken from the cache unasked) unless the client is offline.
    """
    wanted = sorted({canonicalize_name(name) for name in names})
    if not wanted:
        return {}
    client = settings.client
    if not client.offline:
        client = client._replace(refresh=True)
    target = target_of(env)
    locations = index_locations(RequirementsInput(), settings)
    with IndexPackageSource(
        locations, client, environ=settings.environ, marker_environment=dict(target.markers)
    ) as index, ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        source = PolicySource(
            index, exclude_newer=settings.exclude_newer,
            exclude_newer_packages=settings.exclude_newer_packages,
        )
        found = pool.map(lambda name: newest(source.files(name), target, settings), wanted)
        return dict(zip(wanted, found))


def newest(
    files: Sequence[DistFile], target: TargetEnvironment, settings: Settings
) -> Latest | None:
    """The newest version among ``files`` that ``target`` could install."""
    best: tuple[Version, bool] | None = None
    for file in files:
        if not installable(file, target, allow_prereleases=settings.prerelease == "allow"):
            continue
        key = (file.version, file.is_wheel)
        if best is None or key > best:
            best = key
    if best is None:
        return None
    return Latest(str(best[0]), "wheel" if best[1] else "sdist")


def installable(file: DistFile, target: TargetEnvironment, *, allow_prereleases: bool) -> bool:
    if file.yanked is not None:
        return False
    if file.version.is_prerelease and not allow_prereleases:
        return False
    if file.requires_python is not None and not file.requires_python.contains(
        target.python_version, prereleases=True
    ):
        return False
    return file.tags is None or any(target.tag_rank(tag) is not None for tag in file.tags)
