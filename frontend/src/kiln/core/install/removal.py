"""Removing an installed distribution: exactly the files its RECORD lists."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from kiln.core.install.environment import Environment
from kiln.core.install.installed import InstalledDistribution, find_installed
from kiln.core.install.ownership import is_environment_file
from kiln.core.install.record import parse_record
from kiln.core.install.transaction import Transaction
from kiln.errors import KilnError


class Removal(NamedTuple):
    """What uninstalling a distribution touches."""

    dist: InstalledDistribution
    paths: list[Path]
    #: RECORD entries ignored because they point outside the environment or at one of
    #: its own files (its interpreter, ``pyvenv.cfg``, activation scripts).
    skipped: Sequence[str] = ()


def plan_removal(
    env: Environment, dist: InstalledDistribution, *, replacing: bool = False
) -> Removal:
    """The files to remove to uninstall ``dist``: those its ``RECORD`` lists.

    ``replacing``: another install of the same name takes its place. Then a missing
    ``RECORD`` (an install cut off before its last file) removes the ``.dist-info``
    directory only: the files the new install brings overwrite the old ones with the same
    content (see :mod:`kiln.core.install.ownership`), and any other file is refused."""
    record_file = dist.dist_info / "RECORD"
    try:
        entries = parse_record(record_file.read_text("utf-8"))
    except FileNotFoundError:
        if not replacing:
            raise KilnError(
                f"cannot uninstall `{dist.display_name}`: `{record_file}` is missing",
                hint="it was not installed by a standards-based installer; remove its files "
                "by hand",
            ) from None
        entries = []
    except OSError:
        raise KilnError(
            f"cannot uninstall `{dist.display_name}`: `{record_file}` is missing",
            hint="it was not installed by a standards-based installer; remove its files by hand",
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise KilnError(f"cannot uninstall `{dist.display_name}`: `{record_file}`: {exc}") from None
    paths: dict[Path, None] = {}
    skipped = []
    for entry in entries:
        target = Path(os.path.normpath(dist.location / entry.path))
        if not _inside(target, env) or is_environment_file(env, target):
            skipped.append(entry.path)
            continue
        paths[target] = None
        if target.suffix == ".py":
            for cached in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
                paths[cached] = None
    for leftover in _walk(dist.dist_info):  # files written after RECORD, e.g. by other tools
        paths.setdefault(leftover, None)
    return Removal(dist, list(paths), skipped)


def _inside(target: Path, env: Environment) -> bool:
    boundaries = (env.prefix, *env.scheme.roots())
    return any(target != root and target.is_relative_to(root) for root in boundaries)


def _walk(folder: Path) -> Iterable[Path]:
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            yield Path(parent) / name


def uninstall(env: Environment, name: str) -> Removal:
    """Uninstall ``name`` from ``env``; all or nothing."""
    dist = find_installed(env, name)
    if dist is None:
        raise KilnError(f"`{name}` is not installed in `{env.prefix}`")
    removal = plan_removal(env, dist)
    with Transaction(env.site_packages) as transaction:
        apply_removal(transaction, removal)
        transaction.commit()
    prune_directories(env, removal.paths)
    return removal


def apply_removal(transaction: Transaction, removal: Removal) -> None:
    for path in removal.paths:
        transaction.remove(path)
    transaction.remove(removal.dist.dist_info)


def prune_directories(env: Environment, removed: Iterable[Path]) -> None:
    """Remove directories left empty (and their ``__pycache__``) after files were removed."""
    scheme = env.scheme
    keep = {env.prefix, scheme.purelib, scheme.platlib, scheme.scripts, scheme.data}
    folders = {path.parent for path in removed}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        current = folder
        while current not in keep and current.is_relative_to(env.prefix):
            if current.name != "__pycache__":
                with contextlib.suppress(OSError):
                    (current / "__pycache__").rmdir()
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent
