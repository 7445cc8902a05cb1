"""Leaving out the files of versions a caller cannot use (``files(name, versions)``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from kiln.core.types import DistFile


def version_test(versions: SpecifierSet) -> Callable[[Version], bool]:
    """``versions.contains`` with pre-releases allowed (the resolver applies the pre-release
    policy), remembered per version: the files of a page share a few version objects."""
    answers: dict[Version, bool] = {}

    def test(version: Version) -> bool:
        answer = answers.get(version)
        if answer is None:
            answer = answers[version] = versions.contains(version, prereleases=True)
        return answer

    return test


def narrow(files: Iterable[DistFile], versions: SpecifierSet | None) -> list[DistFile]:
    """The files of ``files`` whose version ``versions`` contains (all when it is None)."""
    if versions is None:
        return list(files)
    test = version_test(versions)
    return [file for file in files if test(file.version)]
