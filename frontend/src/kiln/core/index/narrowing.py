"""Leaving out the files of versions a caller cannot use (``files(name, versions)``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

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


#: What :func:`pinned_release` gives for pins that no version satisfies together.
NO_RELEASE = "\0"


def pinned_release(versions: SpecifierSet) -> str | None:
    """The :func:`release_key` that every version ``versions`` contains has, when the set
    pins one exactly (``==1.2``, not ``==1.2.*``); :data:`NO_RELEASE` for two different
    pins; None when nothing is pinned. Comparing the key of a version's normalized text
    with it lets a caller skip parsing the versions that cannot match; the real test still
    decides for the others."""
    wanted: str | None = None
    for spec in versions:
        if spec.operator != "==" or spec.version.endswith(".*"):
            continue
        try:
            release = release_key(str(Version(spec.version)))
        except InvalidVersion:
            return None
        if wanted is not None and release != wanted:
            return NO_RELEASE
        wanted = release
    return wanted


_RELEASE = re.compile(r"(?:(\d+)!)?(\d+(?:\.\d+)*)")


def release_key(text: str) -> str:
    """``[epoch!]release`` of a normalized version string, without trailing ``.0``s."""
    match = _RELEASE.match(text)
    if match is None:
        return text
    epoch, release = match.groups()
    while release.endswith(".0"):
        release = release[:-2]
    return f"{epoch}!{release}" if epoch not in (None, "0") else release
