"""Reading and validating ``[tool.kiln.sources]`` (else ``[tool.uv.sources]``).

Every problem is a :class:`KilnError` that names the file and the key, e.g.
``/p/pyproject.toml: `tool.kiln.sources.foo`: unknown key `revision```.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.index.redaction import redact
from kiln.core.sources.model import (
    GitSource,
    IndexSource,
    PathSource,
    ProjectSources,
    Source,
    SourceEntry,
    UrlSource,
    WorkspaceSource,
)
from kiln.errors import KilnError
from kiln.project.toml import reject_unknown_keys

if TYPE_CHECKING:
    from kiln.core.markers import MarkerSet

#: The key that decides the kind of a source, in the order they are reported.
KINDS = ("path", "git", "url", "index", "workspace")
#: Keys each kind accepts besides its own.
_KIND_KEYS: Mapping[str, frozenset[str]] = {
    "path": frozenset({"editable", "package"}),
    "git": frozenset({"rev", "tag", "branch", "subdirectory"}),
    "url": frozenset({"subdirectory"}),
    "index": frozenset(),
    "workspace": frozenset({"editable"}),
}
_COMMON_KEYS = frozenset({"marker", "extra", "group"})
_ALL_KEYS = frozenset(KINDS) | _COMMON_KEYS | frozenset().union(*_KIND_KEYS.values())
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:")
_GIT_SCHEMES = frozenset({"https", "http", "ssh", "git", "file"})
_URL_SCHEMES = frozenset({"https", "http", "file"})
#: Markers longer than this are not quoted whole in an error message.
_SHOWN = 200


def load_sources(pyproject: Path, *, index_names: Collection[str] | None = None) -> ProjectSources:
    """The sources of ``pyproject`` (a missing file has none)."""
    from kiln.project.toml import load_toml

    if not pyproject.is_file():
        return ProjectSources(origin=pyproject)
    return parse_sources(load_toml(pyproject), pyproject, index_names=index_names)


def parse_sources(
    data: Mapping[str, Any],
    pyproject: Path,
    *,
    index_names: Collection[str] | None = None,
) -> ProjectSources:
    """Validate and convert the sources table of the parsed ``pyproject``.

    ``index_names`` are the names of the indexes that ``index = "..."`` may refer to (the
    project's and its workspace root's ``[[tool.kiln.index]]``); None skips that check.
    Relative paths are resolved against the directory of ``pyproject``.
    """
    tool = _table(data.get("tool", {}), pyproject, "tool")
    section = "uv"
    for owner in ("kiln", "uv"):
        owner_table = _table(tool.get(owner, {}), pyproject, f"tool.{owner}")
        if "sources" in owner_table:
            section = owner
            break
    owner_table = _table(tool.get(section, {}), pyproject, f"tool.{section}")
    prefix = f"tool.{section}.sources"
    raw = _table(owner_table.get("sources", {}), pyproject, prefix)
    entries: dict[NormalizedName, tuple[SourceEntry, ...]] = {}
    spelled: dict[NormalizedName, str] = {}
    for package, value in raw.items():
        key = f"{prefix}.{_key_part(package)}"
        name = canonicalize_name(package)
        if name in spelled:
            raise KilnError(
                f"{pyproject}: `{key}`: the package is already listed as `{spelled[name]}`",
                hint="package names are compared after normalisation (case, `-`, `_` and `.`)",
            )
        spelled[name] = package
        entries[name] = _parse_package(value, pyproject, key, index_names)
    return ProjectSources(entries=entries, origin=pyproject)


def _key_part(package: str) -> str:
    return package if re.fullmatch(r"[A-Za-z0-9_-]+", package) else f'"{package}"'


def _table(value: object, pyproject: Path, key: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise KilnError(f"{pyproject}: `{key}` must be a table")
    return cast("Mapping[str, Any]", value)


def _parse_package(
    value: object, pyproject: Path, key: str, index_names: Collection[str] | None
) -> tuple[SourceEntry, ...]:
    if isinstance(value, list):
        if not value:
            raise KilnError(f"{pyproject}: `{key}`: the list of sources is empty")
        parsed = tuple(
            _parse_entry(item, pyproject, f"{key}[{number}]", index_names)
            for number, item in enumerate(value)
        )
        _check_disjoint(parsed, pyproject, key)
        return parsed
    if not isinstance(value, dict):
        raise KilnError(
            f"{pyproject}: `{key}` must be a table or a list of tables",
            hint='e.g. `foo = { path = "../foo" }`',
        )
    return (_parse_entry(value, pyproject, key, index_names),)


def _parse_entry(
    value: object, pyproject: Path, key: str, index_names: Collection[str] | None
) -> SourceEntry:
    where = f"{pyproject}: `{key}`"
    if not isinstance(value, dict):
        raise KilnError(f"{where} must be a table", hint='e.g. `{ index = "pytorch" }`')
    table = cast("Mapping[str, Any]", value)
    reject_unknown_keys(table, where, _ALL_KEYS)
    kinds = [kind for kind in KINDS if kind in table]
    if not kinds:
        raise KilnError(
            f"{where}: a source needs one of " + ", ".join(f"`{k}`" for k in KINDS),
        )
    if len(kinds) > 1:
        raise KilnError(
            f"{where}: a source can have only one of `path`, `git`, `url`, `index` or `workspace`; "
            f"found `{kinds[0]}` and `{kinds[1]}`",
            hint="use a list of sources with disjoint `marker`s to choose between sources",
        )
    kind = kinds[0]
    allowed = _KIND_KEYS[kind] | _COMMON_KEYS | {kind}
    misplaced = sorted(set(table) - allowed)
    if misplaced:
        owners = [k for k in KINDS if misplaced[0] in _KIND_KEYS[k]]
        raise KilnError(
            f"{where}: `{misplaced[0]}` cannot be used with `{kind}`",
            hint=f"`{misplaced[0]}` belongs to " + " or ".join(f"`{k}`" for k in owners) + " sources",
        )
    source = _parse_kind(kind, table, pyproject, where, index_names)
    marker = _marker(table, where)
    extra = _name(table, "extra", where)
    group = _name(table, "group", where)
    if extra is not None and group is not None:
        raise KilnError(f"{where}: a source can name an `extra` or a `group`, not both")
    return SourceEntry(
        source=source, marker=marker, extra=extra, group=group, origin=pyproject, key=key
    )


def _parse_kind(
    kind: str,
    table: Mapping[str, Any],
    pyproject: Path,
    where: str,
    index_names: Collection[str] | None,
) -> Source:
    if kind == "path":
        raw = _string(table, "path", where)
        path = (pyproject.parent / raw).resolve()
        if not path.exists():
            raise KilnError(
                f"{where}: path `{raw}` does not exist",
                hint=f"it is resolved against the directory of the file: `{path}`",
            )
        return PathSource(
            raw=raw,
            path=path,
            editable=_optional_bool(table, "editable", where),
            package=_optional_bool(table, "package", where),
        )
    if kind == "git":
        return _parse_git(table, where)
    if kind == "url":
        url = _string(table, "url", where)
        scheme = urlsplit(url).scheme.lower()
        if scheme not in _URL_SCHEMES:
            raise KilnError(
                f"{where}: `url` must be an `https://`, `http://` or `file://` URL, "
                f"not `{redact(url)}`"
            )
        if urlsplit(url).path.rstrip("/").endswith(".git"):
            raise KilnError(
                f"{where}: `url` points to a git repository: `{redact(url)}`",
                hint=f'use a git source: `{{ git = "{redact(url)}" }}`',
            )
        return UrlSource(url=url, subdirectory=_subdirectory(table, where))
    if kind == "index":
        index = _string(table, "index", where)
        if index_names is not None and index not in index_names:
            known = ", ".join(f"`{n}`" for n in sorted(index_names)) or "none"
            raise KilnError(
                f"{where}: index `{index}` is not defined in `[[tool.kiln.index]]`",
                hint=f"define it with a `name = \"{index}\"` entry (defined names: {known})",
            )
        return IndexSource(index=index)
    value = table["workspace"]
    if value is not True:
        raise KilnError(
            f"{where}: `workspace` must be `true`",
            hint="remove the entry to take the package from an index",
        )
    return WorkspaceSource(editable=_optional_bool(table, "editable", where))


def _parse_git(table: Mapping[str, Any], where: str) -> GitSource:
    url = _string(table, "git", where)
    if url.startswith("git+"):
        url = url[len("git+") :]
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _GIT_SCHEMES and not _SCP_LIKE.match(url):
        raise KilnError(
            f"{where}: `git` must be a repository URL (`https://`, `ssh://`, `git@host:path` or "
            f"`file://`), not `{redact(url)}`"
        )
    if "#" in url:
        raise KilnError(
            f"{where}: `git` must not have a `#` fragment",
            hint="use `subdirectory = \"...\"` instead",
        )
    refs = [name for name in ("rev", "tag", "branch") if name in table]
    if len(refs) > 1:
        raise KilnError(
            f"{where}: can only specify one of `rev`, `tag` or `branch`; found "
            + " and ".join(f"`{r}`" for r in refs)
        )
    values = {name: _string(table, name, where) for name in refs}
    return GitSource(
        url=url,
        rev=values.get("rev"),
        tag=values.get("tag"),
        branch=values.get("branch"),
        subdirectory=_subdirectory(table, where),
    )


def _string(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise KilnError(f"{where}: `{key}` must be a non-empty string")
    return value.strip()


def _optional_bool(table: Mapping[str, Any], key: str, where: str) -> bool | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, bool):
        raise KilnError(f"{where}: `{key}` must be `true` or `false`")
    return value


def _subdirectory(table: Mapping[str, Any], where: str) -> str | None:
    if "subdirectory" not in table:
        return None
    raw = _string(table, "subdirectory", where)
    path = PurePosixPath(raw.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", raw):
        raise KilnError(
            f"{where}: `subdirectory` must be a relative path inside the archive or repository, "
            f"not `{raw}`"
        )
    normal = path.as_posix()
    return None if normal == "." else normal


def _marker(table: Mapping[str, Any], where: str) -> Marker | None:
    if "marker" not in table:
        return None
    raw = table["marker"]
    if not isinstance(raw, str):
        raise KilnError(f"{where}: `marker` must be a string")
    try:
        return Marker(raw)
    except InvalidMarker as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
        raise KilnError(f"{where}: invalid `marker` `{raw}`: {first_line}") from None


def _name(table: Mapping[str, Any], key: str, where: str) -> NormalizedName | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise KilnError(f"{where}: `{key}` must be the name of an {key}")
    return canonicalize_name(value)


def _check_disjoint(entries: tuple[SourceEntry, ...], pyproject: Path, key: str) -> None:
    """Entries for the same extra and group must have markers that never hold together."""
    for first_number, first in enumerate(entries):
        for second_number in range(first_number + 1, len(entries)):
            second = entries[second_number]
            if (first.extra, first.group) != (second.extra, second.group):
                continue
            if first.marker is None or second.marker is None:
                missing = first_number if first.marker is None else second_number
                raise KilnError(
                    f"{pyproject}: `{key}[{missing}]`: every source in a list needs a `marker` "
                    "(or a different `extra`/`group`)",
                    hint="add disjoint markers, e.g. `sys_platform == 'darwin'` and "
                    "`sys_platform != 'darwin'`",
                )
            where = f"{pyproject}: `{key}`: the markers of entries {first_number} and {second_number}"
            _check_pair(
                (first_number, first.marker), (second_number, second.marker), first.extra, where
            )


def _check_pair(
    first: tuple[int, Marker], second: tuple[int, Marker], scope: str | None, where: str
) -> None:
    """Raise when two markers have an environment in common.

    The markers are compared as sets of environments (:mod:`kiln.core.markers`), exactly. A
    comparison that module cannot relate to others (an opaque atom) is known only to exclude
    its own opposite, so markers told apart only by such comparisons count as overlapping (the
    rule uv follows too: source markers must be provably disjoint). ``extra`` in a marker is
    the extra the requirement is declared in: entries scoped to an extra (``scope``) are read
    with that one, others with every extra their markers name and with none.
    """
    from kiln.core.markers import extras_compared, marker_set

    (first_number, first_marker), (second_number, second_marker) = first, second
    if scope is not None:
        contexts = [str(scope)]
    else:
        contexts = sorted({""} | extras_compared(first_marker) | extras_compared(second_marker))
    for context in contexts:
        a, b = marker_set(first_marker, context), marker_set(second_marker, context)
        both = a & b
        if both.is_false():
            continue
        opaque = both.opaque_comparisons()
        shared = both.text()
        if not shared:
            region = " everywhere"
        elif len(shared) <= _SHOWN:
            region = f" where `{shared}`"
        else:
            region = f", e.g. where `{both.alternatives()[0]}`"
        if context and scope is None:
            region += f" (for a requirement declared in extra `{context}`)"
        message = (
            f"{where} overlap: `{first_marker}` and `{second_marker}` "
            f"{'may both hold' if opaque else 'both hold'}{region}"
        )
        if opaque:
            named = ", ".join(f"`{comparison}`" for comparison in opaque)
            hint = (
                f"make the markers disjoint; kiln relates {named} to nothing but "
                f"{'its' if len(opaque) == 1 else 'their'} own opposite, so it cannot tell that "
                "the markers never hold together (compare `sys_platform`, `platform_machine` or "
                "`python_version` instead)"
            )
        elif context and scope is None:
            hint = "make the markers disjoint"
        else:
            hint = "make the markers disjoint" + _rewrite(
                ((second_number, ~a & b), (first_number, a & ~b))
            )
        raise KilnError(message, hint=hint)


def _rewrite(options: tuple[tuple[int, MarkerSet], ...]) -> str:
    """A suggested marker for one of the entries, leaving out what the other one covers (the
    shorter suggestion of the two)."""
    written = [
        (len(text), number, text)
        for number, rest in options
        if not rest.is_false() and (text := rest.pep508())
    ]
    if not written:
        return ""
    _, number, text = min(written)
    return f", e.g. give entry {number} the marker `{text}`" if len(text) <= _SHOWN else ""
