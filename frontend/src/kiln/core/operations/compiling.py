"""``compile``: resolve requirement inputs into a pinned ``requirements.txt``, or a
``pylock.toml`` written by the project lock's own writer (:mod:`kiln.core.lockfile`)."""

from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.index.source import IndexPackageSource
from kiln.core.operations.options import Events, Settings
from kiln.core.operations.session import Session
from kiln.core.requirements_file import RequirementsInput
from kiln.core.requirements_output import OutputOptions, PinHashes, render_requirements_txt
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import Resolution, ResolvedPackage, UniversalResolution
from kiln.core.types import DistFile


class CompileResult(NamedTuple):
    resolution: Resolution | UniversalResolution
    #: The ``requirements.txt`` (or ``pylock.toml``) text.
    text: str
    seconds: float


def compile_requirements(
    inputs: RequirementsInput,
    settings: Settings | None = None,
    *,
    target: TargetEnvironment | None = None,
    options: OutputOptions | None = None,
    events: Events | None = None,
    universal: bool = False,
    generate_hashes: bool = False,
    pylock: bool = False,
    existing: Path | None = None,
) -> CompileResult:
    """Resolve ``inputs`` for ``target`` (default: the running interpreter) and render them.

    ``universal``: resolve for every environment whose Python is at least ``target``'s
    ``python_version`` instead, pins carrying markers. ``generate_hashes``: write the
    sha256 of each pinned package's files (see :func:`pin_hashes`). ``pylock``: write a
    PEP 751 ``pylock.toml`` instead (every file with its sha256; paths relative to
    ``options.base``). ``existing``: the output file, whose pins are kept where they still
    fit unless ``settings`` upgrade them (see :func:`existing_pins`)."""
    started = time.monotonic()
    settings = settings or Settings()
    target = target or TargetEnvironment.current()
    options = options or OutputOptions()
    resolution: Resolution | UniversalResolution
    hashes = None
    preferred = existing_pins(existing, settings) if existing is not None else {}
    with Session(inputs, settings, target, events) as session:
        if universal:
            floor = Version(target.markers["python_version"])
            resolution = session.resolve_universal(
                floor, no_deps=settings.no_deps, preferences=preferred
            )
        else:
            resolution = session.resolve(no_deps=settings.no_deps, preferred=preferred)
        if pylock:
            text = _pylock(session, resolution, inputs, settings, target, options)
            return CompileResult(resolution, text, time.monotonic() - started)
        if generate_hashes:
            hashes = pin_hashes(session.source, resolution.pins, skip=options.no_emit)
        locations = session.source.locations
    text = render_requirements_txt(
        resolution, options, inputs=inputs, target=target, hashes=hashes, locations=locations,
    )
    return CompileResult(resolution, text, time.monotonic() - started)


def _pylock(
    session: Session,
    resolution: Resolution | UniversalResolution,
    inputs: RequirementsInput,
    settings: Settings,
    target: TargetEnvironment,
    options: OutputOptions,
) -> str:
    """``resolution`` as a ``pylock.toml`` for Pythons from ``target``'s up: for
    ``target`` alone (the wheels it can install) unless the resolution is universal."""
    from kiln.core.lockfile.document import CREATED_BY, LOCK_VERSION, render, validate
    from kiln.core.lockfile.entries import EntryMaker, file_hasher
    from kiln.core.operations.filters import PolicySource
    from kiln.core.requirements_output import header_lines

    floor = Version(target.markers["python_version"])
    universal = isinstance(resolution, UniversalResolution)
    maker = EntryMaker(
        options.base or Path.cwd(), floor,
        PolicySource(session.source, exclude_newer=settings.exclude_newer),
        session.source.locations.all_indexes(), session.builder.built,
        file_hasher(session.source.download),
        editables=[s.requirement.url for s in inputs.requirements
                   if s.editable and s.requirement.url],
        target=None if universal else target,
    )
    body = {
        "lock-version": LOCK_VERSION,
        "created-by": CREATED_BY,
        "requires-python": f">={floor}",
        "packages": maker.entries(p for p in resolution.pins if p.name not in options.no_emit),
    }
    validate(body)
    return "".join(f"{line}\n" for line in header_lines(options)) + render(body)


def existing_pins(path: Path, settings: Settings) -> dict[NormalizedName, set[Version]]:
    """The ``name==version`` pins of an existing output file, to be tried first: none with
    ``--upgrade``, none of the ``--upgrade-package`` names. A file that is missing or that
    does not read as a requirements file gives none (it is about to be replaced)."""
    from kiln.core.requirements_file import read_requirements
    from kiln.errors import KilnError

    if settings.upgrade or not path.is_file():
        return {}
    try:
        specs = read_requirements(path).requirements
    except KilnError:
        return {}
    upgrading = {canonicalize_name(name) for name in settings.upgrade_packages}
    found: dict[NormalizedName, set[Version]] = {}
    for spec in specs:
        requirement = spec.requirement
        name = canonicalize_name(requirement.name)
        pins = [s for s in requirement.specifier if s.operator == "=="]
        if name in upgrading or requirement.url is not None or len(pins) != 1:
            continue
        try:
            found.setdefault(name, set()).add(Version(pins[0].version))
        except InvalidVersion:
            continue
    return found


def pin_hashes(
    source: IndexPackageSource,
    pins: Collection[ResolvedPackage],
    *,
    skip: Collection[NormalizedName] = (),
) -> PinHashes:
    """The ``sha256:<hex>`` digests each pin may be installed from, sorted.

    From an index: the sha256 the index lists for every file of the pinned version (every
    platform's wheels and the sdist, yanked or not), plus the digest of each local file it
    lists without one, plus that of the file the resolution chose, downloaded (from the
    cache if it is there) when the index gives none. A direct reference to an archive: the
    digest of that archive, once it matches a ``#sha256=`` its URL gives. Directories and
    repositories have no hash: they are written without."""
    from kiln.core.fileio import file_sha256, file_url_path
    from kiln.core.index.simple import split_fragment

    found: dict[tuple[NormalizedName, str], set[str]] = {}
    #: Files to read (local) or download to hash, by URL.
    to_hash: dict[str, tuple[tuple[NormalizedName, str], DistFile]] = {}
    for pin in pins:
        if pin.name in skip:
            continue
        key = PinHashes.key(pin)
        digests = found.setdefault(key, set())
        if pin.direct_url is not None:
            url, listed = split_fragment(pin.direct_url)
            if url.startswith("git+") or (
                url.startswith("file:") and file_url_path(url).is_dir()
            ):
                continue
            filename = url.rsplit("/", 1)[-1]
            to_hash[url] = (key, DistFile(pin.name, pin.version, filename, url, listed))
            continue
        chosen = False
        for file in source.files(pin.name, SpecifierSet(f"=={pin.version}")):
            if file.version != pin.version:
                continue
            sha256 = file.hashes.get("sha256")
            if sha256 is not None:
                digests.add(sha256.lower())
            elif file.url.startswith("file:"):
                to_hash[file.url] = (key, file)
            else:
                continue
            chosen = chosen or file.url == pin.file.url
        if not chosen:
            to_hash[pin.file.url] = (key, pin.file)
    wanted = list(to_hash.values())
    # A download checks the hashes the index (or the URL) gives for the file.
    paths = source.download_many([file for _key, file in wanted])
    for (key, _file), path in zip(wanted, paths, strict=True):
        found[key].add(file_sha256(path))
    return PinHashes({key: tuple(f"sha256:{d}" for d in sorted(v)) for key, v in found.items()})
