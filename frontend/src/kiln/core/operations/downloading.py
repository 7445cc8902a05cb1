"""``kiln pip download`` and ``kiln pip wheel``: resolve requirements and save their files.

Both resolve like ``kiln pip install`` (one :class:`~kiln.core.operations.session.Session`:
the run's indexes, its index client and its source builder) for a target environment, then
write one file per pinned package into a directory instead of installing anything:

* :func:`download` saves the file the resolver chose: a wheel for the target when the
  index has one, else the sdist; downloaded through the index client, so checked against
  the index's hash (and against ``--hash`` when hash checking is on);
* :func:`build_wheels` saves a wheel for every package: downloaded when the index has one,
  else built from the sdist by the build service (:mod:`kiln.core.builder`).

A package from a direct reference (``name @ url``, a path, git) is saved as the wheel the
build service made of it (or the wheel the URL names). Each file is written under a
temporary name and renamed into place, so a failure leaves no partial file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from kiln.core.operations.hashes import (
    allowed_hashes,
    check_all_hashed,
    hash_checking,
    verify_file,
)
from kiln.core.operations.options import Events, Settings
from kiln.core.operations.session import Session
from kiln.core.requirements_file import RequirementsInput
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import Resolution, ResolvedPackage
from kiln.errors import KilnError


class SaveReport:
    """What a download or wheel run resolved and wrote (filled in as it goes)."""

    __slots__ = ("built", "resolution", "resolve_seconds", "save_seconds", "saved")

    def __init__(self) -> None:
        self.resolution: Resolution | None = None
        self.resolve_seconds = 0.0
        #: The files written, in package-name order.
        self.saved: list[Path] = []
        #: How many of them were built from an sdist.
        self.built = 0
        self.save_seconds = 0.0


def download(
    inputs: RequirementsInput,
    settings: Settings,
    target: TargetEnvironment,
    dest: Path,
    events: Events | None = None,
) -> SaveReport:
    """Resolve ``inputs`` for ``target`` and save the chosen file of every package
    (wheel or sdist) into ``dest``."""
    return _save(inputs, settings, target, dest, events or Events(), wheels=False)


def build_wheels(
    inputs: RequirementsInput,
    settings: Settings,
    target: TargetEnvironment,
    dest: Path,
    events: Events | None = None,
) -> SaveReport:
    """Resolve ``inputs`` for ``target`` and save a wheel of every package into ``dest``:
    the index's, else one built from the sdist."""
    return _save(inputs, settings, target, dest, events or Events(), wheels=True)


def _save(
    inputs: RequirementsInput,
    settings: Settings,
    target: TargetEnvironment,
    dest: Path,
    events: Events,
    *,
    wheels: bool,
) -> SaveReport:
    checking = hash_checking(inputs.requirements, settings.require_hashes, inputs.hashed_constraints)
    allowed = allowed_hashes([*inputs.requirements, *inputs.hashed_constraints])
    report = SaveReport()
    started = time.monotonic()
    with Session(
        inputs, settings, target, events, hashes=allowed if checking or allowed else None,
        require_hashes=checking,
    ) as session:
        resolution = session.resolve(no_deps=settings.no_deps)
        report.resolution = resolution
        report.resolve_seconds = time.monotonic() - started
        if checking:
            check_all_hashed(resolution.packages, allowed)
        started = time.monotonic()
        packages = [resolution.packages[name] for name in sorted(resolution.packages)]
        chosen: list[tuple[str, Path]] = []
        downloads: list[ResolvedPackage] = []
        for package in packages:
            built = (
                session.builder.built.get(package.direct_url)
                if package.direct_url is not None else None
            )
            if built is not None:
                chosen.append((package.name, built.wheel))
            elif wheels and not package.file.is_wheel:
                report.built += 1  # the builder checks the sdist against `allowed` first
                chosen.append((package.name, session.builder.wheel_for_sdist(package.file).wheel))
            else:
                downloads.append(package)
        if downloads and events.downloading is not None:
            events.downloading(len(downloads))
        paths = session.source.download_many(
            [package.file for package in downloads], progress=events.downloaded
        )
        for package, path in zip(downloads, paths):
            if package.name in allowed:
                verify_file(path, str(package.name), allowed[package.name])
            chosen.append((package.name, path))
        _make_dir(dest)
        for _name, path in sorted(chosen):
            report.saved.append(_copy_into(path, dest))
    report.save_seconds = time.monotonic() - started
    return report


def _make_dir(dest: Path) -> None:
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KilnError(f"cannot create `{dest}`: {exc.strerror or exc}") from None


def _copy_into(source: Path, dest: Path) -> Path:
    """``source`` copied to ``dest/<its name>`` through a temporary name and a rename."""
    target = dest / source.name
    handle, temporary = tempfile.mkstemp(prefix=f".{source.name}.", suffix=".tmp", dir=dest)
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise KilnError(f"cannot write `{target}`: {exc.strerror or exc}") from None
    return target
