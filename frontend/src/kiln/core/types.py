"""Value types shared by the index client, the resolver, the build service and the installer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.record import Record

if TYPE_CHECKING:
    from pathlib import Path

    from packaging.metadata import Metadata

#: When the resolver may choose a pre-release version of a package (``--prerelease``, and
#: per package ``--prerelease-package`` and ``prerelease-package``); the resolver's
#: candidate ordering (:mod:`kiln.core.resolver.candidates`) applies it.
PrereleaseMode = Literal["if-necessary", "allow", "disallow", "explicit"]

#: Every value a pre-release mode may be written as: the modes, and uv's
#: ``if-necessary-or-explicit``, its older name of ``if-necessary``.
PRERELEASE_VALUES = ("if-necessary", "allow", "disallow", "explicit", "if-necessary-or-explicit")


def prerelease_mode(value: str) -> PrereleaseMode | None:
    """The pre-release mode ``value`` names, or None when it names none."""
    if value == "if-necessary-or-explicit":
        return "if-necessary"
    if value in PRERELEASE_VALUES:
        return value  # type: ignore[return-value]
    return None


#: ``--resolution`` (and ``resolution`` of ``[tool.kiln]``): which version of a package is
#: tried first.
ResolutionMode = Literal["highest", "lowest", "lowest-direct"]
RESOLUTION_MODES: tuple[ResolutionMode, ...] = ("highest", "lowest", "lowest-direct")


class DistFile(Record):
    """One distribution file (wheel or sdist) offered by an index or a find-links location.

    A record with slots (:mod:`kiln.core.record`), not a named tuple, which cannot have a
    field named ``index``: pages make tens of thousands of them, and a positional call of
    this ``__init__`` is the cheapest way to build one. Instances are treated as immutable;
    equality compares every field, and an instance is not hashable (its hash mappings are
    not).
    """

    __slots__ = (
        "filename",
        "has_metadata_file",
        "hashes",
        "index",
        "metadata_hashes",
        "name",
        "requires_python",
        "size",
        "tags",
        "upload_time",
        "url",
        "version",
        "yanked",
    )
    _fields = (
        "name", "version", "filename", "url", "hashes", "requires_python", "yanked", "tags",
        "has_metadata_file", "metadata_hashes", "index", "size", "upload_time",
    )

    name: NormalizedName
    version: Version
    filename: str
    url: str
    #: Hash algorithm -> hex digest, from the index page (may be empty).
    hashes: Mapping[str, str]
    requires_python: SpecifierSet | None
    #: None when not yanked; otherwise the reason ("" when none was given).
    yanked: str | None
    #: Wheel tags; None for an sdist.
    tags: frozenset[Tag] | None
    #: True when the index serves the core metadata beside the file (PEP 658/714).
    has_metadata_file: bool
    #: Hash algorithm -> hex digest of that metadata file, when the index gives one.
    metadata_hashes: Mapping[str, str]
    #: The name of the index (or find-links location) that offered the file.
    index: str
    #: The file's size in bytes, when the index gives it (PEP 700).
    size: int | None
    #: When the file was uploaded, as the index writes it (ISO 8601, PEP 700).
    upload_time: str | None

    def __init__(
        self,
        name: NormalizedName,
        version: Version,
        filename: str,
        url: str,
        hashes: Mapping[str, str] | None = None,
        requires_python: SpecifierSet | None = None,
        yanked: str | None = None,
        tags: frozenset[Tag] | None = None,
        has_metadata_file: bool = False,
        metadata_hashes: Mapping[str, str] | None = None,
        index: str = "",
        size: int | None = None,
        upload_time: str | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.filename = filename
        self.url = url
        # A fresh mapping per file when none is given, as the dataclass's default_factory.
        self.hashes = {} if hashes is None else hashes
        self.requires_python = requires_python
        self.yanked = yanked
        self.tags = tags
        self.has_metadata_file = has_metadata_file
        self.metadata_hashes = {} if metadata_hashes is None else metadata_hashes
        self.index = index
        self.size = size
        self.upload_time = upload_time

    __hash__ = None  # type: ignore[assignment]  # its hash mappings are not hashable

    @property
    def is_wheel(self) -> bool:
        return self.tags is not None


class BuildChoices(NamedTuple):
    """Which kinds of file each package may use: wheels, sdists (built), or both.

    ``--no-binary`` (``no_binary``) forbids wheels, ``--only-binary``/``--no-build``
    (``no_build``) forbids building sdists and source trees, each for every package
    (``*_all``) or for the named ones. As in uv, a package named in one list is exempt
    from the other's ``:all:``: ``--only-binary :all: --no-binary a`` builds ``a`` and
    takes wheels for everything else.
    """

    no_binary_all: bool = False
    no_binary: frozenset[NormalizedName] = frozenset()
    no_build_all: bool = False
    no_build: frozenset[NormalizedName] = frozenset()

    def wheels_allowed(self, name: NormalizedName) -> bool:
        return name not in self.no_binary and not (
            self.no_binary_all and name not in self.no_build
        )

    def builds_allowed(self, name: NormalizedName) -> bool:
        return name not in self.no_build and not (
            self.no_build_all and name not in self.no_binary
        )

    @property
    def is_default(self) -> bool:
        return self == BuildChoices()

    def record(self) -> dict[str, list[str]]:
        """The settings as plain data, for lock stamps (empty when nothing is restricted)."""
        record: dict[str, list[str]] = {}
        for key, every, names in (
            ("no-binary", self.no_binary_all, self.no_binary),
            ("no-build", self.no_build_all, self.no_build),
        ):
            if every or names:
                record[key] = [":all:"] * every + sorted(names)
        return record


class Built(NamedTuple):
    """A wheel the build service made (or took as it was), ready to install, and how to
    record where it came from: what the installer installs and the lockfile describes."""

    wheel: Path
    #: PEP 610 data for direct references; None for packages from an index.
    direct_url: dict[str, object] | None = None


class PackageSource(Protocol):
    """What the resolver needs from the outside world: every method the resolver calls
    on a source is declared here.

    The index client implements it over HTTP and the file system; tests may
    implement it over in-memory data.
    """

    def files(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[DistFile]:
        """Every file of every version of ``name`` that the index configuration allows.

        ``versions``, when given, says that the caller can use no version outside it (a
        requirement pins the package), so files of other versions may be left out; a
        source may still return them. It never changes which index serves ``name``.
        """
        ...

    def metadata(self, file: DistFile) -> Metadata:
        """The core metadata of ``file`` (from a metadata file, a range request, or the file)."""
        ...

    def version_order(
        self, name: NormalizedName, versions: SpecifierSet | None = None
    ) -> Sequence[Version] | None:
        """The versions of ``name`` in the order the source prefers them, best first
        (index priority under ``unsafe-first-match``), or None for "highest first".

        ``versions`` is the same narrowing as for :meth:`files`. Versions missing from
        the order are tried after those in it."""
        ...

    def resolution_hints(self) -> Sequence[str]:
        """What the source saw that may explain a failed resolution (an index that
        refused access, say), one hint per item; empty when there is nothing to add."""
        ...
