"""The value types of ``[tool.kiln.sources]``: one source per table, one or more per package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.markers import Marker
from packaging.utils import NormalizedName

GitRefKind = Literal["rev", "tag", "branch"]


@dataclass(frozen=True)
class PathSource:
    """A local project directory or distribution file."""

    #: The path as written in the file.
    raw: str
    #: ``raw`` resolved against the directory of the declaring ``pyproject.toml``.
    path: Path
    #: None when not given (a directory is then installed non-editable).
    editable: bool | None = None
    #: ``package = false`` installs only the dependencies of the directory.
    package: bool | None = None


@dataclass(frozen=True)
class GitSource:
    """A git repository, optionally at a ``rev``, ``tag`` or ``branch``."""

    url: str
    rev: str | None = None
    tag: str | None = None
    branch: str | None = None
    subdirectory: str | None = None

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


@dataclass(frozen=True)
class UrlSource:
    """A remote wheel or source archive."""

    url: str
    subdirectory: str | None = None


@dataclass(frozen=True)
class IndexSource:
    """A pin to a named ``[[tool.kiln.index]]``."""

    index: str


@dataclass(frozen=True)
class WorkspaceSource:
    """The workspace member of the same name."""

    #: None when not given (workspace members are installed editable by default).
    editable: bool | None = None


Source = PathSource | GitSource | UrlSource | IndexSource | WorkspaceSource


@dataclass(frozen=True)
class SourceEntry:
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


@dataclass(frozen=True)
class ProjectSources:
    """The sources declared by one ``pyproject.toml`` (possibly merged with a workspace root's)."""

    entries: Mapping[NormalizedName, tuple[SourceEntry, ...]] = field(default_factory=dict)
    #: The file the sources were read from (None for an empty set).
    origin: Path | None = None

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
