"""Portable glob patterns: validation (uv_build's rules) and matching (via pathspec).

Includes are anchored at the project root; excludes match at any depth unless they
start with ``/``. Matching is done on ``/``-separated paths relative to the project
root. A pattern that names a directory also selects everything below it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kiln_build._record import record
from kiln_build.errors import BuildBackendError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import pathspec

_CLASS_CHARS = "_-."
_PLAIN_CHARS = "_-./*?"
_WILDCARDS = "*?[\\"


def _fail(field: str, glob: str, problem: str, hint: str | None = None) -> BuildBackendError:
    return BuildBackendError(
        f"`pyproject.toml`: unsupported glob `{glob}` in `{field}`: {problem}", hint=hint
    )


def validate(glob: str, field: str, *, escapes: bool = True) -> None:
    """Check ``glob`` against the portable syntax; ``escapes`` allows ``\\x``.

    The strict variant (``escapes=False``) is PEP 639's, used for license files.
    """
    if not glob:
        raise _fail(field, glob, "the pattern is empty")
    i = 0
    n = len(glob)
    stars = 0
    while i < n:
        ch = glob[i]
        pos = i + 1
        if ch == "*":
            stars += 1
            if stars > 2:
                raise _fail(field, glob, f"too many consecutive `*` at position {pos}")
            i += 1
            continue
        if stars == 2 and ch != "/":
            raise _fail(
                field, glob, f"`**` must be followed by `/` or end the pattern (position {pos})"
            )
        stars = 0
        if ch == "\\":
            if not escapes:
                raise _fail(
                    field, glob, f"only `/` separates path segments (backslash at position {pos})"
                )
            if i + 1 >= n:
                raise _fail(field, glob, f"trailing backslash at position {pos}")
            if glob[i + 1] in "/\\":
                raise _fail(field, glob, f"path separators cannot be escaped (position {pos + 1})")
            i += 2
            continue
        if ch == "[":
            end = glob.find("]", i + 1)
            if end == -1:
                raise _fail(field, glob, f"unclosed `[` at position {pos}")
            for offset, member in enumerate(glob[i + 1 : end]):
                if not (member.isalnum() or member in _CLASS_CHARS):
                    raise _fail(
                        field,
                        glob,
                        f"invalid character `{member}` in range at position {pos + offset + 1}",
                    )
            i = end + 1
            continue
        if not (ch.isalnum() or ch in _PLAIN_CHARS):
            hint = "characters can be escaped with a backslash" if escapes else None
            raise _fail(field, glob, f"invalid character `{ch}` at position {pos}", hint)
        i += 1
    if stars > 2:  # pragma: no cover - caught in the loop
        raise _fail(field, glob, "too many consecutive `*`")
    for index, segment in enumerate(glob.split("/")):
        if segment == "..":
            position = sum(len(s) + 1 for s in glob.split("/")[:index]) + 1
            raise _fail(
                field,
                glob,
                f"the parent directory operator `..` at position {position} is not allowed",
            )


def _strip_dot(glob: str) -> str:
    while glob.startswith("./"):
        glob = glob[2:]
    return glob


def anchored(glob: str) -> str:
    """An include pattern in gitwildmatch form, anchored at the project root."""
    glob = _strip_dot(glob)
    if glob.startswith(("/", "**/")) or glob == "**":
        return glob
    return "/" + glob


def unanchored(glob: str) -> str:
    """An exclude pattern in gitwildmatch form: any depth unless it starts with ``/``."""
    glob = _strip_dot(glob)
    if glob.startswith(("/", "**/")):
        return glob
    return "**/" + glob


def literal_prefix(glob: str) -> tuple[str, ...]:
    """The leading path segments of an anchored pattern that contain no wildcard."""
    parts: list[str] = []
    for segment in glob.lstrip("/").split("/"):
        if not segment or any(c in segment for c in _WILDCARDS):
            break
        parts.append(segment)
    else:
        return tuple(parts)
    return (*tuple(parts), "*")


@record
class Matcher:
    """A compiled set of patterns with directory pruning for includes."""

    spec: pathspec.PathSpec[Any]
    prefixes: tuple[tuple[str, ...], ...]
    #: True when some pattern can match at any depth (``**`` before a literal).
    anywhere: bool

    def matches(self, rel: str) -> bool:
        return bool(self.spec.match_file(rel))

    def matches_dir(self, rel: str) -> bool:
        return bool(self.spec.match_file(rel)) or bool(self.spec.match_file(rel + "/"))

    def may_contain(self, rel: str) -> bool:
        """Could a file below directory ``rel`` match? (Conservative.)"""
        if self.anywhere:
            return True
        parts = tuple(rel.split("/"))
        for prefix in self.prefixes:
            literal = prefix[:-1] if prefix and prefix[-1] == "*" else prefix
            shorter = min(len(parts), len(literal))
            if parts[:shorter] == literal[:shorter]:
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.prefixes)


def _pathspec(lines: Iterable[str]) -> pathspec.PathSpec[Any]:
    import pathspec

    # pathspec 1.x calls git's pattern style "gitignore"; 0.12 knows only "gitwildmatch".
    try:
        factory = pathspec.util.lookup_pattern("gitignore")
    except KeyError:  # pragma: no cover - pathspec < 1.0
        factory = pathspec.util.lookup_pattern("gitwildmatch")
    return pathspec.PathSpec.from_lines(factory, lines)


def include_matcher(globs: Sequence[str]) -> Matcher:
    patterns = [anchored(g) for g in globs]
    prefixes = tuple(literal_prefix(p) for p in patterns)
    anywhere = any(p.startswith("**") for p in patterns)
    return Matcher(spec=_pathspec(patterns), prefixes=prefixes, anywhere=anywhere)


def exclude_matcher(globs: Sequence[str]) -> Matcher:
    patterns = [unanchored(g) for g in globs]
    return Matcher(
        spec=_pathspec(patterns), prefixes=tuple(literal_prefix(p) for p in patterns), anywhere=True
    )


class LicenseGlob:
    """A PEP 639 ``license-files`` pattern, matched on project-relative paths.

    ``*`` and ``?`` stay inside one path segment, ``**`` is any number of directories
    (at the end: everything below). The walk uses :meth:`may_contain` to visit only
    the directories a match can lie in, so ``LICEN[CS]E*`` reads the project root only.
    """

    def __init__(self, glob: str) -> None:
        import re

        self.glob = glob
        parts = _strip_dot(glob).split("/")
        self._segments = [None if p == "**" else re.compile(_segment_regex(p)) for p in parts]
        pieces = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "**":
                pieces.append(".+" if last else "(?:[^/]+/)*")
            else:
                pieces.append(_segment_regex(part) + ("" if last else "/"))
        self._regex = re.compile("".join(pieces))

    def matches(self, rel: str) -> bool:
        return self._regex.fullmatch(rel) is not None

    def may_contain(self, rel: str) -> bool:
        """Could a file below directory ``rel`` match?"""
        segments = self._segments
        for index, name in enumerate(rel.split("/")):
            if index < len(segments) and segments[index] is None:
                return True
            if index >= len(segments) - 1:
                return False
            pattern = segments[index]
            if pattern is None or not pattern.fullmatch(name):
                return pattern is None
        return True


def _segment_regex(segment: str) -> str:
    """One path segment of a validated strict glob as a regular expression."""
    import re

    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.index("]", index + 1)
            out.append("[" + segment[index + 1 : end] + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)
