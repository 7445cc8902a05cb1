"""Choosing the file to use for one version of a package."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from kiln.core.resolver.environment import ResolverEnvironment
from kiln.core.types import DistFile


@dataclass(frozen=True)
class FileChoice:
    """The best file of a version, or why none can be used."""

    file: DistFile | None
    reason: str = ""


def python_supports(specifiers: SpecifierSet | None, python: Version) -> bool:
    """``requires-python`` check on the release only (3.13.0b1 counts as 3.13.0)."""
    if specifiers is None:
        return True
    return specifiers.contains(_release(python), prereleases=True)


@lru_cache(maxsize=32)
def _release(python: Version) -> Version:
    return Version(".".join(str(part) for part in python.release))


def choose_file(
    files: Sequence[DistFile], env: ResolverEnvironment, *, allow_yanked: bool
) -> FileChoice:
    """Prefer the compatible wheel with the best tag, then an sdist."""
    usable = [f for f in files if allow_yanked or f.yanked is None]
    if not usable:
        reasons = {f.yanked for f in files if f.yanked}
        why = f" (reason: {sorted(reasons)[0]})" if reasons else ""
        return FileChoice(None, f"was yanked{why}")
    python = env.python_version
    supported = [f for f in usable if python_supports(f.requires_python, python)]
    if not supported:
        specifiers = next(f.requires_python for f in usable if f.requires_python is not None)
        return FileChoice(
            None, f"requires Python {specifiers} (the target Python is {python})"
        )
    best: tuple[int, DistFile] | None = None
    for file in supported:
        if file.tags is None:
            continue
        ranks = [r for r in (env.tag_rank(tag) for tag in file.tags) if r is not None]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), file)
    if best is not None:
        return FileChoice(best[1])
    sdists = [f for f in supported if f.tags is None]
    if sdists:
        return FileChoice(sdists[0])
    return FileChoice(
        None, "has no wheel compatible with the target environment and no source distribution"
    )
