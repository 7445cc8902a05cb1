"""PEP 440 versions and specifiers as PubGrub ranges.

A :class:`Point` is a position on the PEP 440 number line. Besides real versions it
can be one of two sentinels, so that specifiers become plain intervals:

* ``max_local(V)`` sorts after every ``V+local`` (``==2.5.1`` is ``[2.5.1, max_local]``,
  so it matches ``2.5.1+cpu``);
* ``max_post(V)`` sorts after every post-release of ``V`` (``>1.0`` excludes ``1.0.post1``).

``<V`` for a final ``V`` excludes the pre-releases of ``V`` by ending at ``V.dev0``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from kiln.core.resolver.pubgrub.ranges import Range

_INF = 1 << 62
_PHASES = {"a": 0, "b": 1, "rc": 2}

LocalKey = tuple[tuple[int, int, str], ...]
SortKey = tuple[int, tuple[int, ...], tuple[int, int], int, int, LocalKey]

_MAX_LOCAL: LocalKey = ((2, 0, ""),)


def _local_key(local: str | None) -> LocalKey:
    if local is None:
        return ()
    parts = []
    for segment in local.replace("-", ".").replace("_", ".").split("."):
        if segment.isdigit():
            parts.append((1, int(segment), ""))
        else:
            parts.append((0, 0, segment.lower()))
    return tuple(parts)


def sort_key(version: Version) -> SortKey:
    """The PEP 440 ordering of ``version`` as a plain tuple of ints and strings."""
    release = list(version.release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    if version.pre is not None:
        pre = (_PHASES[version.pre[0]], version.pre[1])
    elif version.post is None and version.dev is not None:
        pre = (-1, 0)  # a bare dev release sorts before every pre-release
    else:
        pre = (3, 0)
    post = -1 if version.post is None else version.post
    dev = _INF if version.dev is None else version.dev
    return (version.epoch, tuple(release), pre, post, dev, _local_key(version.local))


class Point:
    """A version, or a sentinel next to one, with PEP 440 ordering."""

    __slots__ = ("_label", "key", "version")

    def __init__(self, version: Version, key: SortKey | None = None, label: str = "") -> None:
        self.version = version
        self.key = sort_key(version) if key is None else key
        self._label = label

    @property
    def label(self) -> str:
        """How the point reads in messages; real versions read as themselves (rendered
        only when needed: a resolution makes a point for every version it sees)."""
        return self._label or str(self.version)

    @classmethod
    def max_local(cls, version: Version) -> Point:
        key = sort_key(version)
        return cls(version, (*key[:5], _MAX_LOCAL), str(version))

    @classmethod
    def max_post(cls, version: Version) -> Point:
        key = sort_key(version)
        return cls(version, (key[0], key[1], key[2], _INF, _INF, _MAX_LOCAL), str(version))

    @classmethod
    def before_prereleases(cls, version: Version) -> Point:
        """The first point of release ``version`` (its ``.dev0``), labelled as ``version``."""
        public = Version(version.public)
        base = Version(f"{public.epoch}!{'.'.join(map(str, public.release))}.dev0")
        return cls(base, sort_key(base), str(version))

    @property
    def is_sentinel(self) -> bool:
        return self.key != sort_key(self.version)

    @property
    def is_max_local(self) -> bool:
        return self.key[5] == _MAX_LOCAL and self.version.local is None and self.key[3] != _INF

    @property
    def is_prerelease(self) -> bool:
        return self.version.is_prerelease

    def __lt__(self, other: Any) -> bool:
        return bool(self.key < other.key)

    def __le__(self, other: Any) -> bool:
        return bool(self.key <= other.key)

    def __gt__(self, other: Any) -> bool:
        return bool(self.key > other.key)

    def __ge__(self, other: Any) -> bool:
        return bool(self.key >= other.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Point({self.label!r})"

    def __str__(self) -> str:
        return self.label


VersionRange = Range[Point]


def exact(version: Version) -> VersionRange:
    """Exactly ``version`` (no local variants)."""
    return Range.singleton(Point(version))


def _equal(version: Version) -> VersionRange:
    if version.local is not None:
        return exact(version)
    return Range.between(
        Point(version), Point.max_local(version), low_inclusive=True, high_inclusive=True
    )


def _prefix(text: str) -> VersionRange:
    """``==V.*``: every version whose release starts with V's segments."""
    version = Version(text)
    low = Point.before_prereleases(version)
    release = list(version.release)
    release[-1] += 1
    upper = Version(f"{version.epoch}!{'.'.join(map(str, release))}")
    high = Point.before_prereleases(upper)
    high = Point(high.version, high.key, f"{upper}")
    return Range.between(low, high)


def specifier_range(specifier: Specifier) -> VersionRange:
    """The versions ``specifier`` admits, with PEP 440's pre-release exclusions applied."""
    op, text = specifier.operator, specifier.version
    if op == "==" and text.endswith(".*"):
        return _prefix(text[:-2])
    if op == "!=" and text.endswith(".*"):
        return _prefix(text[:-2]).complement()
    if op == "===":
        try:
            return exact(Version(text))
        except InvalidVersion:
            return Range.empty()
    version = Version(text)
    if op == "==":
        return _equal(version)
    if op == "!=":
        return _equal(version).complement()
    if op == ">=":
        return Range.at_least(Point(version))
    if op == "<=":
        top = Point(version) if version.local is not None else Point.max_local(version)
        return Range.at_most(top)
    if op == ">":
        if version.is_postrelease:
            return Range.at_least(Point.max_local(version), inclusive=False)
        return Range.at_least(Point.max_post(version), inclusive=False)
    if op == "<":
        if version.is_prerelease:
            return Range.at_most(Point(version), inclusive=False)
        if version.is_postrelease:
            dev = Version(f"{version.public}.dev0")
            return Range.at_most(Point(dev, label=str(version)), inclusive=False)
        return Range.at_most(Point.before_prereleases(version), inclusive=False)
    if op == "~=":
        release = version.release[:-1]
        prefix = ".".join(map(str, release))
        if version.epoch:
            prefix = f"{version.epoch}!{prefix}"
        return Range.at_least(Point(version)).intersection(_prefix(prefix))
    raise InvalidSpecifier(f"unsupported operator `{op}`")


def specifier_set_range(specifiers: SpecifierSet | Iterable[Specifier]) -> VersionRange:
    """The versions every specifier admits, in ``n log n`` for ``n`` specifiers."""
    ranges = [specifier_range(specifier) for specifier in specifiers]
    if len(ranges) < 3:
        result: VersionRange = Range.full()
        for one in ranges:
            result = result.intersection(one)
        return result
    return Range.intersection_all(ranges)


def mentions_prerelease(specifiers: SpecifierSet | Iterable[Specifier]) -> bool:
    """True when a specifier names a pre-release (PEP 440's opt-in); ``!=`` never does."""
    for specifier in specifiers:
        if specifier.operator == "!=":
            continue
        text = specifier.version.removesuffix(".*")
        try:
            if Version(text).is_prerelease:
                return True
        except InvalidVersion:
            continue
    return False
