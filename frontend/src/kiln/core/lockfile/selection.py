"""Choosing from a lock what one environment installs (PEP 751's installation steps).

:func:`select` asks :meth:`packaging.pylock.Pylock.select` which entry of each package the
environment takes, for its marker values and wheel tags and the chosen extras and
dependency groups, and turns each into a :class:`LockedPackage`: a plain value with the
absolute URL of the file or source to install and the sha256 to check it against.

:func:`choose_groups` and :func:`choose_extras` turn the ``--group``/``--extra`` family
of options into those sets, checked against what the lock declares; :func:`walk` narrows
a selection to what some requirements reach (one workspace member, or the groups alone),
given each package's ``Requires-Dist``.

Library code only: no resolver, no index client; failures are :class:`KilnError`. The
module imports little, so that a ``kiln sync`` with nothing to do can name its options.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, NamedTuple

from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.tags import Tag
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from kiln.core.lockfile.document import LockFile
    from kiln.core.types import BuildChoices

Kind = Literal["wheel", "sdist", "directory", "vcs", "archive"]

#: No hashes (one object shared by every package without any, so one that cannot change).
_NO_HASHES: Mapping[str, str] = MappingProxyType({})


class LockedPackage(NamedTuple):
    """One package a lock selects for an environment, and where it comes from."""

    name: NormalizedName
    #: None for a ``directory`` entry (its version is whatever the tree builds).
    version: Version | None
    kind: Kind
    #: A wheel's or sdist's URL (``file:`` for a ``path``); a PEP 508 direct reference URL
    #: for ``directory`` (``file:``), ``vcs`` (``git+...@commit``) and ``archive`` entries.
    url: str
    #: The file name of a wheel or an sdist; "" otherwise.
    filename: str = ""
    #: Algorithm -> hex digest the file must match (wheels, sdists, archives).
    hashes: Mapping[str, str] = _NO_HASHES
    size: int | None = None
    #: A ``directory`` entry installed in editable mode.
    editable: bool = False
    #: For ``vcs`` entries: the commit the lock names.
    commit: str | None = None

    @property
    def is_direct(self) -> bool:
        return self.kind in ("directory", "vcs", "archive")

    @property
    def is_local(self) -> bool:
        """From a local directory or file named by a path source (not an index, even a
        local one): what ``--no-install-local`` leaves out."""
        return self.kind == "directory" or (
            self.kind == "archive" and self.url.startswith("file:")
        )

    @property
    def source_path(self) -> Path | None:
        """The local directory of a ``directory`` entry."""
        if self.kind != "directory":
            return None
        from kiln.core.fileio import file_url_path

        return file_url_path(self.url.partition("#")[0])

    def direct_url(self) -> dict[str, object] | None:
        """The PEP 610 data this package is installed with (None for index files): what an
        installed copy is compared with to know whether it is this package."""
        base = self.url.partition("#")[0]
        if self.kind == "directory":
            return {"url": base, "dir_info": {"editable": True} if self.editable else {}}
        if self.kind == "vcs":
            repository = base.removeprefix("git+").rpartition("@")[0]
            return {"url": repository, "vcs_info": {"vcs": "git", "commit_id": self.commit}}
        if self.kind == "archive":
            sha256 = self.hashes.get("sha256")
            info = {"hashes": {"sha256": sha256}} if sha256 else {}
            return {"url": base, "archive_info": info}
        return None


def select(
    lock: LockFile,
    *,
    markers: Mapping[str, str],
    tags: Sequence[Tag],
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
    editable: bool = True,
    choices: BuildChoices | None = None,
) -> list[LockedPackage]:
    """What ``lock`` installs into an environment with ``markers`` and ``tags``, for
    ``extras`` and ``groups`` (None: the lock's ``default-groups``), sorted by name.
    Without ``editable``, ``directory`` entries are installed as regular wheels; a package
    that ``choices`` forbids wheels of is installed from its sdist (``--no-binary``)."""
    from packaging.pylock import PackageWheel, PylockSelectError
    from packaging.utils import canonicalize_name

    base = lock.path.parent
    try:
        chosen = list(lock.pylock.select(
            environment=dict(markers),  # type: ignore[arg-type]
            tags=tags,
            extras=extras,
            dependency_groups=groups,
        ))
    except PylockSelectError as exc:
        raise KilnError(
            f"`{lock.path}` has nothing to install for this environment: {exc}",
            hint="lock for it (`kiln lock`), or use an interpreter the lock allows",
        ) from None
    if choices is not None and not choices.is_default:
        chosen = [
            (package, package.sdist)
            if isinstance(source, PackageWheel) and package.sdist is not None
            and not choices.wheels_allowed(canonicalize_name(package.name))
            else (package, source)
            for package, source in chosen
        ]
    found = [_locked(package, source, base, editable) for package, source in chosen]
    return sorted(found, key=lambda p: p.name)


def _locked(package: object, source: object, base: Path, editable: bool) -> LockedPackage:
    from packaging.pylock import (
        Package,
        PackageArchive,
        PackageDirectory,
        PackageSdist,
        PackageVcs,
        PackageWheel,
    )

    assert isinstance(package, Package)
    name, version = package.name, package.version
    if isinstance(source, (PackageWheel, PackageSdist)):
        kind: Kind = "wheel" if isinstance(source, PackageWheel) else "sdist"
        return LockedPackage(
            name, version, kind, _url(source.url, source.path, base), source.filename,
            dict(source.hashes), source.size,
        )
    if isinstance(source, PackageDirectory):
        path = _local(source.path, base)
        url = path.as_uri() + _fragment(source.subdirectory)
        return LockedPackage(
            name, version, "directory", url, editable=editable and bool(source.editable)
        )
    if isinstance(source, PackageVcs):
        if source.type != "git":
            raise KilnError(
                f"`{package.name}`: kiln installs `vcs` entries of type `git` only, not "
                f"`{source.type}`"
            )
        location = _url(source.url, source.path, base)
        url = f"git+{location}@{source.commit_id}" + _fragment(source.subdirectory)
        return LockedPackage(name, version, "vcs", url, commit=source.commit_id)
    assert isinstance(source, PackageArchive)
    url = _url(source.url, source.path, base)
    hashes = dict(source.hashes)
    fragment = _fragment(source.subdirectory)
    if not url.startswith("file:") and "sha256" in hashes:
        fragment += ("&" if fragment else "#") + f"sha256={hashes['sha256']}"
    return LockedPackage(name, version, "archive", url + fragment, hashes=hashes, size=source.size)


def _url(url: str | None, path: str | None, base: Path) -> str:
    if url is not None:
        return url
    assert path is not None
    return _local(path, base).as_uri()


def _local(path: str, base: Path) -> Path:
    import os

    return Path(os.path.normpath(base / path))


def _fragment(subdirectory: str | None) -> str:
    return f"#subdirectory={subdirectory}" if subdirectory else ""


# -- choosing extras and groups -------------------------------------------------------------------


class GroupChoice(NamedTuple):
    """The dependency-group options of ``kiln sync`` (uv's names)."""

    #: ``--group``.
    groups: tuple[str, ...] = ()
    #: ``--no-group``.
    no_groups: tuple[str, ...] = ()
    #: ``--only-group``.
    only_groups: tuple[str, ...] = ()
    all_groups: bool = False
    no_default_groups: bool = False
    #: ``--dev`` (True), ``--no-dev`` (False), or neither (None).
    dev: bool | None = None
    only_dev: bool = False

    @property
    def only(self) -> bool:
        """Whether only groups are installed: not the projects, nor their dependencies."""
        return bool(self.only_groups) or self.only_dev


def choose_groups(
    declared: Collection[str], defaults: Collection[str], choice: GroupChoice, where: str
) -> frozenset[NormalizedName]:
    """The groups ``choice`` installs, of those a lock ``declared`` (with its
    ``default-groups``); a group it does not declare is an error naming ``where``."""
    from packaging.utils import canonicalize_name

    known = {canonicalize_name(g) for g in declared}

    def checked(names: Iterable[str]) -> set[NormalizedName]:
        found = set()
        for name in names:
            normalized = canonicalize_name(name)
            if normalized not in known:
                listed = ", ".join(f"`{g}`" for g in sorted(known)) or "none"
                raise KilnError(
                    f"group `{name}` is not defined in any `[dependency-groups]` of {where}",
                    hint=f"defined groups: {listed}",
                )
            found.add(normalized)
        return found

    dev = canonicalize_name("dev")
    if choice.only:
        chosen = checked(choice.only_groups)
        if choice.only_dev:
            chosen |= checked(["dev"])
        return frozenset(chosen)
    chosen = set() if choice.no_default_groups else {canonicalize_name(g) for g in defaults}
    if choice.all_groups:
        chosen |= known
    chosen |= checked(choice.groups)
    if choice.dev is True:
        chosen |= checked(["dev"])
    elif choice.dev is False:
        chosen.discard(dev)
    chosen -= checked(choice.no_groups)
    return frozenset(chosen)


def choose_extras(
    declared: Collection[str],
    extras: Sequence[str],
    *,
    all_extras: bool = False,
    no_extras: Sequence[str] = (),
    where: str,
) -> frozenset[NormalizedName]:
    """The extras ``--extra``/``--all-extras``/``--no-extra`` install, checked against
    those a lock ``declared``."""
    from packaging.utils import canonicalize_name

    known = {canonicalize_name(e) for e in declared}
    for name in [*extras, *no_extras]:
        if canonicalize_name(name) not in known:
            listed = ", ".join(f"`{e}`" for e in sorted(known)) or "none"
            raise KilnError(
                f"extra `{name}` is not defined in any `[project.optional-dependencies]` of "
                f"{where}",
                hint=f"defined extras: {listed}",
            )
    chosen = set(known) if all_extras else {canonicalize_name(e) for e in extras}
    return frozenset(chosen - {canonicalize_name(e) for e in no_extras})


# -- narrowing to what requirements reach ---------------------------------------------------------


def walk(
    selected: Sequence[LockedPackage],
    roots: Iterable[Requirement],
    requires: Callable[[LockedPackage], Sequence[Requirement]],
    markers: Mapping[str, str],
) -> list[LockedPackage]:
    """The packages of ``selected`` that ``roots`` reach, following each package's
    requirements (``requires``, asked once per package) with the extras asked of it; a
    requirement on a package the selection does not hold (its marker excludes it here) is
    passed over."""
    from packaging.utils import canonicalize_name

    by_name = {package.name: package for package in selected}
    extras_of: dict[NormalizedName, set[str]] = {}
    queue: list[tuple[Requirement, str]] = [(requirement, "") for requirement in roots]
    expanded: dict[NormalizedName, list[Requirement]] = {}
    while queue:
        requirement, extra = queue.pop()
        if requirement.marker is not None and not requirement.marker.evaluate(
            {**markers, "extra": extra}
        ):
            continue
        name = canonicalize_name(requirement.name)
        package = by_name.get(name)
        if package is None:
            continue
        asked = {canonicalize_name(e) for e in requirement.extras}
        seen = extras_of.get(name)
        if seen is not None and asked <= seen:
            continue
        new = asked - seen if seen is not None else asked
        extras_of[name] = (seen or set()) | asked
        if name not in expanded:
            expanded[name] = list(requires(package))
            queue += [(dependency, "") for dependency in expanded[name]]
        for each in sorted(new):
            queue += [(dependency, each) for dependency in expanded[name]]
    return [package for package in selected if package.name in extras_of]
