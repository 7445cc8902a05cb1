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


def text_prefilter(versions: SpecifierSet) -> Callable[[str], bool] | None:
    """A cheap test on a normalized version string that every version ``versions``
    contains passes, for sets of exact pins (``==1.2``, not ``==1.2.*``): the epoch and
    release must equal the pin's, trailing zeros aside. It lets a caller skip parsing the
    versions that cannot match; the real test still decides for the others. None when the
    set has no such pin."""
    wanted: str | None = None
    for spec in versions:
        if spec.operator != "==" or spec.version.endswith(".*"):
            continue
        try:
            release = _release_key(str(Version(spec.version)))
        except InvalidVersion:
            return None
        if wanted is not None and release != wanted:
            return lambda _text: False  # two different pins: nothing fits both
        wanted = release
    if wanted is None:
        return None
    key = wanted
    return lambda text: _release_key(text) == key


_RELEASE = re.compile(r"(?:(\d+)!)?(\d+(?:\.\d+)*)")


def _release_key(text: str) -> str:
    """``[epoch!]release`` of a normalized version string, without trailing ``.0``s."""
    match = _RELEASE.match(text)
    if match is None:
        return text
    epoch, release = match.groups()
    while release.endswith(".0"):
        release = release[:-2]
    return f"{epoch}!{release}" if epoch not in (None, "0") else release
