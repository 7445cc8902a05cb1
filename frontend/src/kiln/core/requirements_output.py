"""Writing a resolution as a pinned ``requirements.txt`` (what ``kiln pip compile`` prints).

The layout is uv's: an optional header naming the command, optional ``--index-url``,
``--extra-index-url`` and ``--find-links`` lines, then one block per pinned package,
by name::

    name[extra]==1.0 ; marker \\
        --hash=sha256:... \\
        --hash=sha256:...
        # via parent
        # from https://index.example/simple

and, when ``--no-emit-package`` left packages out, a closing comment listing them.
:mod:`kiln.core.requirements_file` reads such files back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Literal, NamedTuple

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.index.locations import IndexLocations
from kiln.core.lockfile import is_lock_name
from kiln.core.requirements_file import RequirementsInput
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.resolution import (
    Dependency,
    Resolution,
    ResolvedPackage,
    UniversalResolution,
)

AnnotationStyle = Literal["split", "line"]
OutputFormat = Literal["requirements.txt", "pylock.toml"]

#: ``line`` annotations: the requirement is padded to this width, then two spaces.
_LINE_COLUMN = 24
#: How a user requirement without an input file is named in annotations.
_USER = "your requirements"


class OutputOptions(NamedTuple):
    """How the requirements file looks (the output options of ``kiln pip compile``)."""

    #: The command shown in the header, e.g. ``kiln pip compile requirements.in``.
    command: str = "kiln pip compile"
    header: bool = True
    #: ``# via`` comments naming what requires each package.
    annotate: bool = True
    #: ``split``: ``# via`` comments on lines of their own, one requirer a line when
    #: there are several; ``line``: one comment after the requirement.
    annotation_style: AnnotationStyle = "split"
    #: Write ``name==1.0`` rather than ``name[extra]==1.0``.
    strip_extras: bool = True
    #: Leave out the markers of the requirements that led to each package (a universal
    #: resolution's pins keep theirs whatever this says: they are its content).
    strip_markers: bool = True
    #: Write ``--index-url``/``--extra-index-url`` lines for the indexes searched.
    emit_index_url: bool = False
    #: Write ``--find-links`` lines for the find-links locations.
    emit_find_links: bool = False
    #: Write ``# from <index URL>`` under each pin that came from an index (whatever
    #: ``annotate`` says).
    emit_index_annotation: bool = False
    #: Packages (normalized names) left out of the output; their dependencies stay.
    no_emit: frozenset[NormalizedName] = frozenset()
    #: Local ``--find-links`` directories are written relative to this directory (the one
    #: the output file is in) when they are inside it.
    base: Path | None = None
    #: ``--emit-build-options``: ``--no-binary``/``--only-binary`` lines, written after the
    #: index lines.
    build_options: tuple[str, ...] = ()


class PinHashes(NamedTuple):
    """``--hash`` values (``sha256:<hex>``) per pinned package."""

    #: (A mapping, not a dict: a named tuple's defaults are shared by every instance.)
    by_pin: Mapping[tuple[NormalizedName, str], tuple[str, ...]] = MappingProxyType({})

    @staticmethod
    def key(package: ResolvedPackage) -> tuple[NormalizedName, str]:
        return (package.name, package.direct_url or str(package.version))

    def of(self, package: ResolvedPackage) -> tuple[str, ...]:
        return self.by_pin.get(self.key(package), ())


def output_format(given: str | None, output_file: str | None) -> OutputFormat | None:
    """The format to write: ``given`` (``--format``), else the one the output file's name
    says (``pylock.toml``, ``pylock.<name>.toml``), else ``requirements.txt``. None for an
    output file named ``*.toml`` that is no lock file name (neither format fits it)."""
    if given is not None:
        return "pylock.toml" if given == "pylock.toml" else "requirements.txt"
    if output_file is None:
        return "requirements.txt"
    name = Path(output_file).name
    if is_lock_name(name):
        return "pylock.toml"
    if name.endswith(".toml"):
        return None
    return "requirements.txt"


def render_requirements_txt(
    resolution: Resolution | UniversalResolution,
    options: OutputOptions,
    *,
    inputs: RequirementsInput | None = None,
    target: TargetEnvironment | None = None,
    hashes: PinHashes | None = None,
    locations: IndexLocations | None = None,
) -> str:
    """The text of a ``requirements.txt`` pinning every package of ``resolution``.

    ``inputs``: the user's requirements, to name the file each came from in annotations
    and to give their markers (``strip_markers=False``). ``target``: the environment a
    resolution that is not universal was made for (required to write markers).
    ``hashes``: write these ``--hash`` lines. ``locations``: the index settings written by
    ``emit_index_url``/``emit_find_links``, and whose URLs ``emit_index_annotation`` gives
    for the index labels of the pins' files."""
    inputs = inputs or RequirementsInput()
    universal = isinstance(resolution, UniversalResolution)
    lines: list[str] = []
    lines += header_lines(options)
    emitted = _location_lines(locations, options) if locations is not None else []
    emitted += options.build_options
    if emitted:
        lines += [*emitted, ""]
    markers: Mapping[NormalizedName, str] = {}
    if isinstance(resolution, Resolution) and not options.strip_markers:
        if target is None:
            raise ValueError("writing the markers of a resolution needs its target environment")
        markers = requirement_markers(resolution, inputs, target)
    named = _Inputs.of(inputs, None if universal else target)
    index_urls = _index_urls(locations) if options.emit_index_annotation else None
    excluded: set[NormalizedName] = set()
    for package in resolution.pins:
        if package.name in options.no_emit:
            excluded.add(package.name)
            continue
        marker = package.marker if universal else markers.get(package.name, "")
        requirement = _requirement_text(package, marker, options)
        digests = hashes.of(package) if hashes is not None else ()
        via = _via(resolution, package.name, named) if options.annotate else ([], [])
        lines += _block(requirement, digests, via, options.annotation_style)
        if index_urls is not None and package.direct_url is None and package.file.index:
            lines.append(f"    # from {index_urls.get(package.file.index, package.file.index)}")
    if excluded and options.annotate:
        lines += ["", "# The following packages were excluded from the output:"]
        lines += [f"# {name}" for name in sorted(excluded)]
    return "".join(line + "\n" for line in lines)


# -- one package ----------------------------------------------------------------------------


def header_lines(options: OutputOptions) -> list[str]:
    """The comment that says which command wrote the file (none without ``header``)."""
    if not options.header:
        return []
    return [
        "# This file was autogenerated by kiln via the following command:",
        f"#    {options.command}",
    ]


def _requirement_text(package: ResolvedPackage, marker: str, options: OutputOptions) -> str:
    text = str(package.name)
    if package.extras and not options.strip_extras:
        text += "[" + ", ".join(sorted(package.extras)) + "]"
    if package.direct_url is not None:
        text += f" @ {package.direct_url}"
    else:
        text += f"=={package.version}"
    return f"{text} ; {marker}" if marker else text


def _block(
    requirement: str,
    digests: Sequence[str],
    via: tuple[list[str], list[str]],
    style: AnnotationStyle,
) -> list[str]:
    sources, parents = via
    lines = [requirement]
    if digests:
        lines[0] += " \\"
        lines += [f"    --hash={digest} \\" for digest in digests]
        lines[-1] = lines[-1].removesuffix(" \\")
    if not sources and not parents:
        return lines
    if style == "line":
        comment = "# via " + ", ".join([*parents, *sources])
        if digests:
            lines.append(f"    {comment}")
        else:
            lines[0] = f"{requirement:<{_LINE_COLUMN}}  {comment}"
        return lines
    names = [*sources, *parents]
    if len(names) == 1:
        lines.append(f"    # via {names[0]}")
    else:
        lines.append("    # via")
        lines += [f"    #   {name}" for name in names]
    return lines


def _via(
    resolution: Resolution | UniversalResolution,
    name: NormalizedName,
    inputs: _Inputs,
) -> tuple[list[str], list[str]]:
    """What requires ``name``: the user's inputs (``-r requirements.in``, ``project
    (pyproject.toml)``, ``-c constraints.txt``) and the packages, each sorted."""
    requirers = resolution.requirers(name)
    parents = [str(parent) for parent in requirers if parent is not None and parent != name]
    named = list(inputs.constrained_by.get(name, ()))
    if None in requirers:
        named += inputs.required_by.get(name) or [_USER]
    return sorted(set(named)), parents


class _Inputs(NamedTuple):
    """The input files that name each package."""

    required_by: Mapping[NormalizedName, list[str]]
    constrained_by: Mapping[NormalizedName, list[str]]

    @classmethod
    def of(cls, inputs: RequirementsInput, target: TargetEnvironment | None) -> _Inputs:
        """Requirements count only where their markers hold for ``target``, when given."""
        required: dict[NormalizedName, list[str]] = {}
        for spec in inputs.requirements:
            requirement = spec.requirement
            if target is None or target.evaluate(requirement.marker):
                name = canonicalize_name(requirement.name)
                required.setdefault(name, []).append(spec.source or _USER)
        return cls(required, inputs.constrained_by)


# -- markers --------------------------------------------------------------------------------


def requirement_markers(
    resolution: Resolution,
    inputs: RequirementsInput,
    target: TargetEnvironment,
) -> dict[NormalizedName, str]:
    """For each package of a resolution made for ``target``, the PEP 508 text of the
    environments where a chain of requirements leads to it from the user's requirements:
    the union over its requirers of (the requirer's own marker and the requirement's).
    Python versions below ``target``'s are left out of the question (as a universal
    resolution leaves out those below its floor); "" means everywhere."""
    from kiln.core.markers import MarkerSet, marker_set, python_at_least, release

    extras: dict[NormalizedName, set[str]] = {}
    for package in resolution.pins:
        extras.setdefault(package.name, {""}).update(package.extras)
    root: dict[NormalizedName, MarkerSet] = {}
    for spec in inputs.requirements:
        if target.evaluate(spec.requirement.marker):
            name = canonicalize_name(spec.requirement.name)
            found = marker_set(spec.requirement.marker)
            root[name] = root[name] | found if name in root else found
    incoming: dict[NormalizedName, list[Dependency]] = {}
    for dependency in resolution.dependencies:
        if dependency.parent != dependency.child:
            incoming.setdefault(dependency.child, []).append(dependency)
    reach: dict[NormalizedName, MarkerSet] = {}

    def edge(dependency: Dependency) -> MarkerSet:
        parent = dependency.parent
        if parent is None:
            return root.get(dependency.child, marker_set(dependency.requirement.marker))
        marker = dependency.requirement.marker
        union = MarkerSet.false()
        for extra in sorted(extras.get(parent, {""})):
            union = union | marker_set(marker, extra)
        return reach.get(parent, MarkerSet.false()) & union

    # A fixed point: each pass can only widen a package's set, and the sets are finite.
    changed = True
    while changed:
        changed = False
        for name, dependencies in incoming.items():
            widened = MarkerSet.false()
            for dependency in dependencies:
                widened = widened | edge(dependency)
            if name not in reach or not widened.implies(reach[name]):
                reach[name] = widened | reach[name] if name in reach else widened
                changed = True
    floor = python_at_least(release(target.python_version))
    texts: dict[NormalizedName, str] = {}
    for name, marker in reach.items():
        text = marker.pep508(floor)
        texts[name] = marker.text(floor) if text is None else text
    return texts


# -- index options --------------------------------------------------------------------------


def _location_lines(locations: IndexLocations, options: OutputOptions) -> list[str]:
    """``--index-url``, ``--extra-index-url`` and ``--find-links`` lines, without
    credentials: a requirements file is shared, the password is not."""
    from kiln.core.index.redaction import strip_credentials

    lines: list[str] = []
    if options.emit_index_url and locations.indexes:
        searched = list(locations.indexes)
        default = next((index for index in searched if index.default), searched[0])
        lines.append(f"--index-url {strip_credentials(default.url)}")
        lines += [
            f"--extra-index-url {strip_credentials(index.url)}"
            for index in searched
            if index is not default
        ]
    if options.emit_find_links:
        lines += [
            f"--find-links {_find_links_text(index.url, options.base)}"
            for index in locations.find_links
        ]
    return lines


def _index_urls(locations: IndexLocations | None) -> dict[str, str]:
    """The URL (password hidden) of each index label, for ``# from`` annotations."""
    from kiln.core.index.redaction import redact

    if locations is None:
        return {}
    return {index.label: redact(index.url) for index in locations.all_indexes()}


def _find_links_text(url: str, base: Path | None) -> str:
    """A local directory as a path (relative to ``base`` when inside it: requirement
    files read such paths relative to themselves), anything else as its URL."""
    from kiln.core.fileio import file_url_path
    from kiln.core.index.redaction import strip_credentials

    if not url.startswith("file:"):
        return strip_credentials(url)
    path = file_url_path(url)
    if base is not None:
        try:
            relative = path.relative_to(base.resolve())
        except ValueError:
            pass
        else:
            return os.fspath(relative) if relative.parts else "."
    return os.fspath(path)
