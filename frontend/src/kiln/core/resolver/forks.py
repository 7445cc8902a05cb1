"""Universal resolution: the part of the environment space one solve covers (a fork).

A universal resolution starts with one fork, every environment from the Python floor up.
Inside a fork a requirement applies when its marker holds in some environment of the fork;
the marker of each pinned package is worked out afterwards from the dependency graph. Two
things split a fork into smaller ones, each solved on its own:

* a package (or the user) requiring one name differently under different markers
  (``numpy<2; python_version < "3.10"`` and ``numpy>=2; python_version >= "3.10"``): each
  part of the fork then sees exactly one of the requirements;
* the version the solver would pick supporting only the newer Pythons of the fork
  (``requires-python = ">=3.12"`` in a fork from 3.11 up): the newer part can use it, the
  older part looks for an older version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.markers import MarkerSet, marker_set, python_specifier_range, release_text
from kiln.core.resolver.pubgrub import Range
from kiln.core.types import DistFile


class ForkRequired(Exception):
    """Raised inside a solve: the fork must be split into ``regions``, each solved alone."""

    def __init__(self, regions: Sequence[MarkerSet]) -> None:
        super().__init__(f"split into {len(regions)} parts")  # caught inside kiln, never shown
        self.regions = tuple(regions)


class ForkEnvironment:
    """The environments of one fork, as the provider sees them."""

    concrete = False

    def __init__(
        self,
        space: MarkerSet,
        markers: Mapping[str, str],
        required: Sequence[tuple[MarkerSet, str]] = (),
        *,
        fork_on_python: bool = True,
    ) -> None:
        """``required``: environments that need a wheel or a source distribution of every
        version chosen (with their text); those that contain ``space`` apply."""
        self.space = space
        self._markers = markers
        self._required = [(where, text) for where, text in required if space.implies(where)]
        #: False for ``--fork-strategy fewest``: a version that suits only the newer
        #: Pythons of the fork is passed over instead of splitting the fork.
        self.fork_on_python = fork_on_python
        python = space.python_range()
        lower = python.intervals[0][0] if python.intervals else None
        self._python = Version(release_text(lower[0] if lower is not None else (0,)))

    @property
    def markers(self) -> Mapping[str, str]:
        """The running interpreter's values, for settings that need one environment."""
        return self._markers

    @property
    def python_version(self) -> Version:
        """The oldest Python of the fork: what every chosen version must support."""
        return self._python

    def tag_rank(self, tag: Tag) -> int:
        """Any wheel serves (all wheels of a version share their metadata); pure ones first."""
        return 0 if tag.platform == "any" else 1

    def evaluate(self, marker: Marker | None, extra: str = "") -> bool:
        return marker is None or self.space.overlaps(marker_set(marker, extra))

    def unserved(self, files: Sequence[DistFile]) -> str | None:
        """The first required environment that none of ``files`` (one version's) can be
        installed in, if any."""
        if not self._required:
            return None
        from kiln.core.resolver.platforms import serves

        for where, text in self._required:
            if not serves(files, where):
                return text
        return None

    def split(
        self, requirements: Sequence[Requirement], extra: str, *, also: Sequence[Marker] = ()
    ) -> None:
        """Fork when requirements on one name differ (in version or URL) by marker, or
        when a constraint in ``also`` applies to only part of the fork."""
        groups: dict[NormalizedName, list[Requirement]] = {}
        for requirement in requirements:
            groups.setdefault(canonicalize_name(requirement.name), []).append(requirement)
        markers = [marker_set(marker, extra) for marker in also]
        for group in groups.values():
            shapes = {(str(r.specifier), r.url or "") for r in group}
            if len(shapes) > 1:
                markers += [marker_set(r.marker, extra) for r in group]
        partial = [m for m in markers if not self.space.implies(m) and self.space.overlaps(m)]
        if not partial:
            return
        regions = [self.space]
        for marker in partial:
            regions = [
                piece
                for region in regions
                for piece in (region & marker, region & ~marker)
                if not piece.is_false()
            ]
        if len(regions) > 1:
            raise ForkRequired(regions)

    def split_python(self, requires_python: Sequence[SpecifierSet | None]) -> None:
        """Fork at the Python floor of a version that suits only the fork's newer Pythons
        (only lower bounds count: an upper bound in ``requires-python`` is ignored)."""
        if not self.fork_on_python:
            return
        floors = []
        for specifiers in requires_python:
            if specifiers is None:
                return
            versions = python_specifier_range(specifiers)
            if not versions.intervals:
                continue
            lower = versions.intervals[0][0]
            if lower is None:
                return
            floors.append(lower)
        if not floors:
            return
        value, inclusive = min(floors)
        supported = MarkerSet.python(Range.at_least(value, inclusive=inclusive))
        newer = self.space & supported
        if newer.is_false() or self.space.implies(supported):
            return
        raise ForkRequired([newer, self.space & ~supported])
