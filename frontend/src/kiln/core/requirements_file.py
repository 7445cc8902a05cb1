"""Reading requirement inputs: strings, ``requirements.txt`` files and ``pyproject.toml``.

Supported in files: comments, ``\\`` line continuations, ``${VAR}`` expansion, nested
``-r``/``-c``, ``-e``, ``-i``/``--index-url``, ``--extra-index-url``, ``-f``/``--find-links``,
``--no-index``, ``--hash=algo:digest``, environment markers, ``name @ url`` and plain local
paths or URLs (their name is read from the file name or the project's ``pyproject.toml``).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Collection, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from kiln.errors import KilnError
from kiln.requirement_text import invalid_requirement_reason

if TYPE_CHECKING:
    from kiln.project.sources import ProjectSourceContext

_ENV_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tgz", ".tar.bz2", ".tar.xz")
_VCS_PREFIXES = ("git+",)
#: ``--hash`` algorithms. Hash checking trusts only the strong ones: a line with only
#: ``md5`` hashes is refused, and an ``md5`` hash next to a strong one is left out (as uv
#: does), so ``md5`` never verifies a file.
HASH_ALGORITHMS = ("sha256", "sha384", "sha512", "blake2b", "md5")
STRONG_HASHES = ("sha256", "sha384", "sha512", "blake2b")
#: The most extras and version specifiers one requirement may have. Real ones have a few;
#: the resolver's work is linear in them, so the bound only keeps memory in check.
MAX_EXTRAS = 100_000
MAX_SPECIFIERS = 100_000
#: The longest logical line (continuations joined) of a requirements file, in characters:
#: a requirement with hundreds of ``--hash`` values stays far below it.
MAX_LINE = 1024 * 1024
#: How deep ``-r``/``-c`` files may include one another.
MAX_NESTING = 64
#: Requirement texts longer than this are shortened in messages.
_SHOWN = 200


#: The hashes of a requirement given no ``--hash`` (shared by instances, so immutable).
_NO_HASHES: Mapping[str, frozenset[str]] = MappingProxyType({})


class RequirementSpec(NamedTuple):
    """One requirement as the user wrote it, with what the line added to it."""

    requirement: Requirement
    #: Install in editable mode (``-e``); only for local directories.
    editable: bool = False
    #: ``--hash`` values: algorithm -> allowed hex digests.
    hashes: Mapping[str, frozenset[str]] = _NO_HASHES
    #: Where it was written: ``requirements.txt:3`` or ``command line``.
    origin: str = "command line"
    #: The input it came from, as ``# via`` annotations name it: ``-r requirements.in``,
    #: ``name (pyproject.toml)``; "" for the command line.
    source: str = ""

    @property
    def is_direct(self) -> bool:
        return self.requirement.url is not None


class RequirementsInput:
    """Everything read from the command line and requirement files (filled in as they are
    read)."""

    def __init__(
        self,
        requirements: list[RequirementSpec] | None = None,
        constraints: list[Requirement] | None = None,
        hashed_constraints: list[RequirementSpec] | None = None,
        constrained_by: dict[NormalizedName, list[str]] | None = None,
        index_url: str | None = None,
        extra_index_urls: list[str] | None = None,
        find_links: list[str] | None = None,
        no_index: bool = False,
        overrides: list[Requirement] | None = None,
        excludes: list[NormalizedName] | None = None,
    ) -> None:
        self.requirements: list[RequirementSpec] = requirements if requirements is not None else []
        self.constraints: list[Requirement] = constraints if constraints is not None else []
        #: The constraint lines with ``--hash`` values: the files of their package must match
        #: one of them (they are in ``constraints`` too).
        self.hashed_constraints: list[RequirementSpec] = (
            hashed_constraints if hashed_constraints is not None else []
        )
        #: The files that constrain each package (``-c constraints.txt``), by normalized name.
        self.constrained_by: dict[NormalizedName, list[str]] = (
            constrained_by if constrained_by is not None else {}
        )
        self.index_url = index_url
        self.extra_index_urls: list[str] = extra_index_urls if extra_index_urls is not None else []
        self.find_links: list[str] = find_links if find_links is not None else []
        self.no_index = no_index
        #: ``--overrides``: each replaces every requirement on its name, wherever it is made.
        self.overrides: list[Requirement] = overrides if overrides is not None else []
        #: ``--excludes``: packages left out of the resolution, with every requirement on them.
        self.excludes: list[NormalizedName] = excludes if excludes is not None else []

    def not_editable(self, names: Collection[str] | None = None) -> None:
        """``--no-editable`` (``names`` None) and ``--no-editable-package``: install these
        editable requirements as ordinary builds of their directories."""
        wanted = None if names is None else {canonicalize_name(n) for n in names}
        self.requirements = [
            spec._replace(editable=False)
            if spec.editable
            and (wanted is None or canonicalize_name(spec.requirement.name) in wanted)
            else spec
            for spec in self.requirements
        ]

    def merge(self, other: RequirementsInput) -> None:
        self.requirements += other.requirements
        self.constraints += other.constraints
        self.hashed_constraints += other.hashed_constraints
        self.overrides += other.overrides
        self.excludes += [name for name in other.excludes if name not in self.excludes]
        for name, sources in other.constrained_by.items():
            known = self.constrained_by.setdefault(name, [])
            known += [source for source in sources if source not in known]
        self.index_url = self.index_url or other.index_url
        self.extra_index_urls += [
            u for u in other.extra_index_urls if u not in self.extra_index_urls
        ]
        self.find_links += [u for u in other.find_links if u not in self.find_links]
        self.no_index = self.no_index or other.no_index


def parse_requirement(
    text: str, *, base: Path | None = None, origin: str = "command line", editable: bool = False
) -> RequirementSpec:
    """One requirement: PEP 508, ``name @ url``, a local path or an archive/VCS URL."""
    base = base or Path.cwd()
    text = text.strip()
    if editable:
        return _editable(text, base, origin)
    if _looks_like_location(text):
        return RequirementSpec(_unnamed(text, base, origin), origin=origin)
    requirement = _parsed(
        text, origin,
        hint="write it like `name>=1.0`, `name @ https://...` or a path like `./project`",
    )
    if requirement.url is not None:
        requirement.url = _checked_url(_absolute_url(requirement.url, base), origin)
    return RequirementSpec(requirement, origin=origin)


def _parsed(text: str, origin: str, *, hint: str | None = None) -> Requirement:
    """``Requirement(text)`` (linear in the length of ``text``) with at most
    :data:`MAX_EXTRAS` extras and :data:`MAX_SPECIFIERS` version specifiers."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise KilnError(
            f"{origin}: invalid requirement `{_shown(text)}`: {_reason(exc, text)}", hint=hint
        ) from None
    extras = len(requirement.extras)
    if extras > MAX_EXTRAS:
        raise KilnError(
            f"{origin}: `{requirement.name}` asks for {extras} extras; "
            f"at most {MAX_EXTRAS} are allowed in one requirement",
            hint="name only the extras the package defines",
        )
    specifiers = len(requirement.specifier)
    if specifiers > MAX_SPECIFIERS:
        raise KilnError(
            f"{origin}: `{requirement.name}` has {specifiers} version specifiers; "
            f"at most {MAX_SPECIFIERS} are allowed in one requirement",
            hint="a range like `>=1.2,<2` says the same with fewer",
        )
    return requirement


def _shown(text: str) -> str:
    """``text`` as a message shows it: shortened when long."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _reason(exc: InvalidRequirement, text: str) -> str:
    """Why ``text`` is not a requirement; without the copy of the text packaging appends
    when the text is long."""
    reason = invalid_requirement_reason(exc, text)
    return reason if len(text) <= _SHOWN else reason.split("\n", 1)[0]


def _checked_url(url: str, origin: str) -> str:
    from kiln.core.index.urls import check_url

    return check_url(url, origin)


def read_requirements(
    path: Path,
    *,
    constraints: bool = False,
    no_sources: bool = False,
    no_sources_packages: Collection[str] = (),
    extras: Collection[str] | None = (),
) -> RequirementsInput:
    """Read a ``requirements.txt``-style file (or a ``pyproject.toml``, whose dependencies are
    lowered through its sources unless ``no_sources``, or their name is in
    ``no_sources_packages``, with those of ``extras``: None for all of them)."""
    if path.name == "pyproject.toml":
        return read_pyproject_dependencies(
            path, no_sources=no_sources, no_sources_packages=no_sources_packages, extras=extras
        )
    result = RequirementsInput()
    _read_file(path, result, constraints=constraints, seen=())
    return result


def read_overrides(path: Path) -> RequirementsInput:
    """An ``--overrides`` file: its requirements replace every requirement on their names
    (``# via --override FILE`` in ``pip compile``'s annotations)."""
    read = read_requirements(path)
    result = RequirementsInput(overrides=[spec.requirement for spec in read.requirements])
    for requirement in result.overrides:
        result.constrained_by.setdefault(canonicalize_name(requirement.name), []).append(
            f"--override {path}"
        )
    return result


def read_excludes(path: Path) -> RequirementsInput:
    """An ``--excludes`` file: the names of its requirements (versions and markers are
    ignored) are left out of the resolution."""
    read = read_requirements(path)
    return RequirementsInput(
        excludes=list(dict.fromkeys(canonicalize_name(s.requirement.name) for s in read.requirements))
    )


def read_dependency_group(
    request: str, *, cwd: Path | None = None, no_sources: bool = False
) -> RequirementsInput:
    """``--group``: ``NAME`` (of ``pyproject.toml`` in ``cwd``) or ``PATH:NAME``; its
    requirements (includes expanded, as PEP 735 says), lowered through the project's
    sources unless ``no_sources``."""
    from kiln.project.pyproject import load_pyproject

    path_text, sep, name = request.rpartition(":")
    path = Path(path_text) if sep else (cwd or Path()) / "pyproject.toml"
    if not name:
        raise KilnError(f"`--group {request}` names no group", hint="write `NAME` or `PATH:NAME`")
    if not path.is_file():
        raise KilnError(
            f"cannot read dependency group `{name}`: `{path}` does not exist",
            hint="name the file as `--group path/to/pyproject.toml:NAME`",
        )
    pyproject = load_pyproject(path)
    group = pyproject.group(name)
    context = _sources_of(path, no_sources)
    label = f"{pyproject.label} ({path}:{group.spelled})"
    result = RequirementsInput()
    for requirement in group.requirements:
        text = _lowered(str(requirement), context, path, ()) if context is not None else str(
            requirement
        )
        spec = parse_requirement(text, base=path.parent, origin=f"{path}: group `{name}`")
        result.requirements.append(spec._replace(source=label))
    return result


def _sources_of(path: Path, no_sources: bool) -> ProjectSourceContext | None:
    """The ``[tool.kiln.sources]`` of the project at ``path``, None when there are none to
    apply."""
    if no_sources:
        return None
    from kiln.project.sources import load_project_sources

    context = load_project_sources(path.parent)
    return context if len(context.sources) else None


def read_pyproject_dependencies(
    path: Path,
    *,
    no_sources: bool = False,
    no_sources_packages: Collection[str] = (),
    extras: Collection[str] | None = (),
) -> RequirementsInput:
    """``[project.dependencies]`` of a ``pyproject.toml`` (static values only), with those of
    the optional dependencies ``extras`` (None: all of them; an extra that names the project
    itself, ``app[test]``, brings that extra's in too).

    Each requirement is lowered through the project's ``[tool.kiln.sources]`` (the same code
    as build requirements use): a path, git, url or workspace source becomes a direct
    reference; an index pin stays a plain requirement for the index client to route.
    """
    from kiln.project.toml import load_toml

    data = load_toml(path)
    project = data.get("project")
    if not isinstance(project, dict):
        raise KilnError(f"`{path}` has no `[project]` table")
    if "dependencies" in project.get("dynamic", []):
        raise KilnError(
            f"`{path}`: `project.dependencies` is dynamic, so it cannot be read without a build"
        )
    values = project.get("dependencies", [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise KilnError(f"`{path}`: `project.dependencies` must be a list of strings")
    result = RequirementsInput()
    name = project.get("name")
    source = f"{name} ({path})" if isinstance(name, str) else str(path)
    context = _sources_of(path, no_sources)
    found = [(value, "project.dependencies") for value in values]
    if extras is None or extras:
        found += _extra_dependencies(path, project, extras)
    for value, key in found:
        text = (
            _lowered(value, context, path, no_sources_packages)
            if context is not None
            else value
        )
        result.requirements.append(
            parse_requirement(text, base=path.parent, origin=f"{path}: {key}")._replace(source=source)
        )
    return result


def _extra_dependencies(
    path: Path, project: Mapping[str, object], extras: Collection[str] | None
) -> list[tuple[str, str]]:
    """``(requirement, key)`` for the optional dependencies of ``extras`` (None: all), an
    extra that requires the project itself with extras adding theirs."""
    table = project.get("optional-dependencies", {})
    dynamic = project.get("dynamic", [])
    if isinstance(dynamic, list) and "optional-dependencies" in dynamic:
        raise KilnError(
            f"`{path}`: `project.optional-dependencies` is dynamic, so its extras cannot be "
            "read without a build"
        )
    if not isinstance(table, dict):
        raise KilnError(f"`{path}`: `project.optional-dependencies` must be a table")
    by_name = {canonicalize_name(extra): extra for extra in table}
    wanted = list(by_name) if extras is None else [canonicalize_name(e) for e in extras]
    own = canonicalize_name(str(project.get("name", "")))
    found: list[tuple[str, str]] = []
    done: set[NormalizedName] = set()
    while wanted:
        extra = wanted.pop(0)
        if extra in done:
            continue
        done.add(extra)
        if extra not in by_name:
            known = ", ".join(f"`{e}`" for e in table) or "none"
            raise KilnError(
                f"`{path}`: extra `{extra}` is not defined in `project.optional-dependencies`",
                hint=f"defined extras: {known}",
            )
        key = f"project.optional-dependencies.{by_name[extra]}"
        values = table[by_name[extra]]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise KilnError(f"`{path}`: `{key}` must be a list of strings")
        for value in values:
            requirement = _parsed(value, f"`{path}`: `{key}`")
            if canonicalize_name(requirement.name) == own and requirement.url is None:
                wanted += [canonicalize_name(e) for e in requirement.extras]
                continue
            found.append((value, key))
    return found


def _lowered(
    value: str, context: ProjectSourceContext, path: Path, no_sources_packages: Collection[str]
) -> str:
    from kiln.core.sources.lower import lower

    requirement = _parsed(value, f"`{path}`: `project.dependencies`")
    lowered = lower(
        requirement,
        context.sources,
        project_root=context.project_root,
        workspace_members=context.workspace_members,
        no_sources_packages=no_sources_packages,
    )
    return value if lowered.source is None else str(lowered.to_requirement())


# -- files ----------------------------------------------------------------------------------


def _logical_lines(path: Path) -> list[tuple[int, str]]:
    """``(first line number, text)`` of each logical line: ``\\`` continuations joined.
    The file is read with :func:`~kiln.core.fileio.read_text` (bounded size, text only)."""
    from kiln.core.fileio import read_text

    try:
        text = read_text(path, f"requirements file `{path}`")
    except FileNotFoundError:
        raise KilnError(f"requirements file `{path}` does not exist") from None
    except OSError as exc:
        raise KilnError(f"cannot read requirements file `{path}`: {exc.strerror}") from None
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    size = 0
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
            size = 0
        size += len(raw)
        if size > MAX_LINE:
            raise KilnError(
                f"{path}:{start}: the line is longer than {MAX_LINE // (1024 * 1024)} MiB",
                hint="is this a requirements file?",
            )
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        lines.append((start, "".join(pending) + raw if pending else raw))
        pending = []
    if pending:
        lines.append((start, "".join(pending)))
    return lines


def _strip_comment(line: str) -> str:
    """``line`` up to a ``#`` that starts it or follows white space (a ``#`` inside a word,
    as in a URL fragment, stays). One pass over the line, whatever its length."""
    position = line.find("#")
    while position > 0 and not line[position - 1].isspace():
        position = line.find("#", position + 1)
    return (line if position < 0 else line[:position]).strip()


def _expand(line: str, origin: str) -> str:
    def replace(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            raise KilnError(f"{origin}: environment variable `{match.group(1)}` is not set")
        return value

    return _ENV_VAR.sub(replace, line)


_VALUE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-e": "editable",
    "--editable": "editable",
    "-i": "index-url",
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-url",
    "-f": "find-links",
    "--find-links": "find-links",
}


def _split_option(line: str) -> tuple[str, str] | None:
    """``(option, value)`` for an option line, None for a requirement line."""
    if not line.startswith("-"):
        return None
    if line == "--no-index":
        return ("no-index", "")
    for flag, key in _VALUE_OPTIONS.items():
        if line.startswith(flag):
            rest = line[len(flag) :]
            if flag.startswith("--"):
                if rest[:1] not in ("=", " ", "\t"):
                    continue
            elif rest[:1] == "=":
                pass
            elif rest and not rest[0].isspace():
                value = rest  # -rfile
                return (key, value.strip())
            return (key, rest.lstrip("= \t").strip())
    return ("unknown", line.split(maxsplit=1)[0])


def _read_file(
    path: Path,
    result: RequirementsInput,
    *,
    constraints: bool,
    seen: tuple[Path, ...],
) -> None:
    resolved = path.resolve()
    if resolved in seen:
        raise KilnError(f"requirements file `{path}` includes itself (through `-r`/`-c`)")
    if len(seen) >= MAX_NESTING:
        raise KilnError(
            f"requirements file `{path}` is included through more than {MAX_NESTING} "
            "levels of `-r`/`-c`"
        )
    base = path.parent
    for number, raw in _logical_lines(path):
        origin = f"{path}:{number}"
        line = _expand(_strip_comment(raw), origin)
        if not line:
            continue
        option = _split_option(line)
        if option is not None:
            _apply_option(
                option, path, origin, result, constraints=constraints, seen=(*seen, resolved)
            )
            continue
        text, hashes = _take_hashes(line, origin)
        spec = parse_requirement(text, base=base, origin=origin)
        if constraints:
            if spec.requirement.url is None and not spec.requirement.extras:
                result.constraints.append(spec.requirement)
                if hashes:
                    result.hashed_constraints.append(
                        RequirementSpec(spec.requirement, False, hashes, origin, f"-c {path}")
                    )
                sources = result.constrained_by.setdefault(
                    canonicalize_name(spec.requirement.name), []
                )
                if f"-c {path}" not in sources:
                    sources.append(f"-c {path}")
                continue
            raise KilnError(
                f"{origin}: constraints must be plain names with version specifiers, not `{text}`"
            )
        result.requirements.append(
            RequirementSpec(spec.requirement, spec.editable, hashes, origin, f"-r {path}")
        )


def _apply_option(
    option: tuple[str, str],
    path: Path,
    origin: str,
    result: RequirementsInput,
    *,
    constraints: bool,
    seen: tuple[Path, ...],
) -> None:
    key, value = option
    if key == "unknown":
        raise KilnError(f"{origin}: unsupported option `{value}`")
    if key != "no-index" and not value:
        raise KilnError(f"{origin}: `{key}` needs a value")
    base = path.parent
    if key in ("requirement", "constraint"):
        _read_file(base / value, result, constraints=constraints or key == "constraint", seen=seen)
    elif key == "editable":
        if constraints:
            raise KilnError(f"{origin}: `-e` is not allowed in a constraints file")
        result.requirements.append(
            parse_requirement(value, base=base, origin=origin, editable=True)._replace(
                source=f"-r {path}",
            )
        )
    elif key == "index-url":
        result.index_url = result.index_url or _location(value, base, origin)
    elif key == "extra-index-url":
        result.extra_index_urls.append(_location(value, base, origin))
    elif key == "find-links":
        result.find_links.append(_location(value, base, origin))
    else:
        result.no_index = True


def _location(value: str, base: Path, origin: str) -> str:
    if "://" in value or value.startswith("file:"):
        return _checked_url(value, origin)
    return str((base / value).resolve())


def _take_hashes(line: str, origin: str) -> tuple[str, dict[str, frozenset[str]]]:
    if "--hash" not in line:
        return line, {}
    head, _, tail = line.partition("--hash")
    hashes: dict[str, set[str]] = {}
    try:
        words = shlex.split("--hash" + tail)
    except ValueError as exc:
        raise KilnError(f"{origin}: {exc}") from None
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--hash" and index + 1 < len(words):
            value = words[index + 1]
            index += 2
        elif word.startswith("--hash="):
            value = word[len("--hash=") :]
            index += 1
        else:
            raise KilnError(f"{origin}: unexpected `{_shown(word)}` after `--hash`")
        algorithm, sep, digest = value.partition(":")
        algorithm = algorithm.lower()
        if not sep or algorithm not in HASH_ALGORITHMS or not digest:
            raise KilnError(
                f"{origin}: invalid hash `{_shown(value)}`",
                hint="write hashes like `--hash=sha256:<hex digest>` (sha256, sha384 or "
                "sha512)",
            )
        hashes.setdefault(algorithm, set()).add(digest.lower())
    strong = {k: frozenset(v) for k, v in hashes.items() if k in STRONG_HASHES}
    if not strong:
        weak = ", ".join(f"`{algorithm}`" for algorithm in sorted(hashes))
        raise KilnError(
            f"{origin}: {weak} is too weak to verify a download; hash checking needs a "
            "sha256, sha384 or sha512 hash",
            hint="add the file's sha256 as `--hash=sha256:<hex digest>` "
            "(`sha256sum FILE` prints it)",
        )
    # A weak hash next to a strong one is left out: only the strong ones are checked.
    return head.strip(), strong


# -- locations without a name -------------------------------------------------------------


def _looks_like_location(text: str) -> bool:
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) or text.startswith(("file:", *_VCS_PREFIXES)):
        return True
    if text.startswith((".", "/", "~")):
        return True
    if "@" in text:
        return False
    return "/" in text or os.sep in text or text.endswith(_ARCHIVE_SUFFIXES)


def _absolute_url(url: str, base: Path) -> str:
    """Make relative ``file:`` URLs and bare paths absolute."""
    if url.startswith("file:") and not url.startswith("file://"):
        return (base / unquote(url[len("file:") :])).resolve().as_uri()
    if "://" not in url and not url.startswith(_VCS_PREFIXES):
        return (base / os.path.expanduser(url)).resolve().as_uri()
    return url


def _unnamed(text: str, base: Path, origin: str) -> Requirement:
    fragment = ""
    if "#" in text:
        text, fragment = text.split("#", 1)
    url = _absolute_url(text, base)
    name = _egg_name(fragment)
    _checked_url(url, origin)
    if name is None:
        name = _name_of_location(url, origin)
    try:
        return Requirement(f"{name} @ {url}")
    except InvalidRequirement as exc:
        raise KilnError(
            f"{origin}: invalid requirement `{_shown(text)}`: {_reason(exc, text)}"
        ) from None


def _egg_name(fragment: str) -> str | None:
    for part in fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "egg" and value:
            return value
    return None


def _name_of_location(url: str, origin: str) -> str:
    if url.startswith(_VCS_PREFIXES):
        raise KilnError(
            f"{origin}: cannot tell the package name of `{url}`",
            hint="write it as `name @ git+https://...`",
        )
    filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if filename.endswith(".whl"):
        try:
            return str(parse_wheel_filename(filename)[0])
        except InvalidWheelFilename as exc:
            raise KilnError(f"{origin}: {exc}") from None
    if filename.endswith((".tar.gz", ".zip")):
        try:
            return str(parse_sdist_filename(filename)[0])
        except InvalidSdistFilename as exc:
            raise KilnError(f"{origin}: {exc}") from None
    if url.startswith("file:"):
        return project_name(Path(unquote(urlsplit(url).path)), origin)
    raise KilnError(
        f"{origin}: cannot tell the package name of `{url}`",
        hint="write it as `name @ <url>`",
    )


def project_name(directory: Path, origin: str) -> str:
    """The static ``[project] name`` of a local project directory."""
    from kiln.project.pyproject import read_pyproject

    if not directory.is_dir():
        raise KilnError(f"{origin}: `{directory}` does not exist or is not a directory")
    pyproject = read_pyproject(directory)
    project = pyproject.data.get("project") if pyproject is not None else None
    name = project.get("name") if isinstance(project, dict) else None
    if not isinstance(name, str) or not name:
        raise KilnError(
            f"{origin}: cannot tell the package name of `{directory}`: "
            "its `pyproject.toml` has no `project.name`",
            hint=f"write it as `name @ {directory.as_uri()}`",
        )
    return name


def _editable(text: str, base: Path, origin: str) -> RequirementSpec:
    if text.startswith("file:"):
        text = unquote(urlsplit(text).path)
    directory = (base / os.path.expanduser(text)).resolve()
    name = project_name(directory, origin)
    return RequirementSpec(
        Requirement(f"{name} @ {directory.as_uri()}"), editable=True, origin=origin
    )
