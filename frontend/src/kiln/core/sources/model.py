"""The value types of ``[tool.kiln.sources]``: one source per table, one or more per package."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Literal, NamedTuple

from packaging.markers import Marker
from packaging.utils import NormalizedName

from kiln.core.record import Record

GitRefKind = Literal["rev", "tag", "branch"]

# The sources are the variants of one union, compared with each other (in tests, and inside
# the records that hold them): as records (:mod:`kiln.core.record`), not named tuples, a
# source equals only a source of its own class with the same values.


class PathSource(Record):
    """A local project directory or distribution file."""

    __slots__ = ("editable", "package", "path", "raw")
    _fields = ("raw", "path", "editable", "package")

    def __init__(
        self, raw: str, path: Path, editable: bool | None = None, package: bool | None = None
    ) -> None:
        #: The path as written in the file.
        self.raw = raw
        #: ``raw`` resolved against the directory of the declaring ``pyproject.toml``.
        self.path = path
        #: None when not given (a directory is then installed non-editable).
        self.editable = editable
        #: ``package = false`` installs only the dependencies of the directory.
        self.package = package


class GitSource(Record):
    """A git repository, optionally at a ``rev``, ``tag`` or ``branch``."""

    __slots__ = ("branch", "rev", "subdirectory", "tag", "url")
    _fields = ("url", "rev", "tag", "branch", "subdirectory")

    def __init__(
        self,
        url: str,
        rev: str | None = None,
        tag: str | None = None,
        branch: str | None = None,
        subdirectory: str | None = None,
    ) -> None:
        self.url = url
        self.rev = rev
        self.tag = tag
        self.branch = branch
        self.subdirectory = subdirectory

    @property
    def reference(self) -> tuple[GitRefKind, str] | None:
        """The one reference given, as ``(kind, value)``; None means the default branch."""
        if self.rev is not None:
            return ("rev", self.rev)
        if self.tag is not None:
            return ("tag", self.tag)
        if self.branch is not None:
            return ("branch", self.branch)
        return None


class UrlSource(Record):
    """A remote wheel or source archive."""

    __slots__ = ("subdirectory", "url")
    _fields = ("url", "subdirectory")

    def __init__(self, url: str, subdirectory: str | None = None) -> None:
        self.url = url
        self.subdirectory = subdirectory


class IndexSource(Record):
    """A pin to a named ``[[tool.kiln.index]]``."""

    __slots__ = ("index",)
    _fields = ("index",)

    def __init__(self, index: str) -> None:
        self.index = index


class WorkspaceSource(Record):
    """The workspace member of the same name."""

    __slots__ = ("editable",)
    _fields = ("editable",)

    def __init__(self, editable: bool | None = None) -> None:
        #: None when not given (workspace members are installed editable by default).
        self.editable = editable


Source = PathSource | GitSource | UrlSource | IndexSource | WorkspaceSource


class SourceEntry(NamedTuple):
    """One source table with the conditions under which it applies."""

    source: Source
    marker: Marker | None = None
    extra: NormalizedName | None = None
    group: NormalizedName | None = None
    #: The ``pyproject.toml`` that declared the entry.
    origin: Path = Path("pyproject.toml")
    #: The dotted key of the entry, e.g. ``tool.kiln.sources.foo[1]``.
    key: str = ""

    @property
    def where(self) -> str:
        """``<file>: `<key>``` for messages."""
        return f"{self.origin}: `{self.key}`"


#: No sources (one shared object, so it cannot be changed).
_NO_ENTRIES: Mapping[NormalizedName, tuple[SourceEntry, ...]] = MappingProxyType({})


class ProjectSources:
    """The sources declared by one ``pyproject.toml`` (possibly merged with a workspace root's).

    A plain class rather than a record: it answers ``len()`` and ``in`` for its packages,
    which a tuple cannot do for its own fields.
    """

    __slots__ = ("entries", "origin")

    def __init__(
        self,
        entries: Mapping[NormalizedName, tuple[SourceEntry, ...]] = _NO_ENTRIES,
        origin: Path | None = None,
    ) -> None:
        self.entries = entries
        #: The file the sources were read from (None for an empty set).
        self.origin = origin

    def get(self, name: NormalizedName) -> tuple[SourceEntry, ...]:
        return self.entries.get(name, ())

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __len__(self) -> int:
        return len(self.entries)


def merge_workspace_sources(member: ProjectSources, root: ProjectSources) -> ProjectSources:
    """The sources that apply to a workspace member.

    The root's sources apply to every member; a package listed by the member replaces the
    root's entries for that package as a whole.
    """
    merged: dict[NormalizedName, tuple[SourceEntry, ...]] = dict(root.entries)
    merged.update(member.entries)
    return ProjectSources(entries=merged, origin=member.origin or root.origin)
