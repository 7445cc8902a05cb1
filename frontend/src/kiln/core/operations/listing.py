"""Read-only views of an environment: list, freeze, show, check and tree."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.install.environment import Environment
from kiln.core.install.installed import InstalledDistribution, installed_distributions
from kiln.errors import KilnError


def requirements_of(
    dist: InstalledDistribution, markers: Mapping[str, str]
) -> list[Requirement]:
    """The ``Requires-Dist`` entries of ``dist`` that apply (no extras requested)."""
    found = []
    for text in dist.requires:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is None or requirement.marker.evaluate({**markers, "extra": ""}):
            found.append(requirement)
    return found


def editable_location(dist: InstalledDistribution) -> str | None:
    if not dist.editable or dist.direct_url is None:
        return None
    url = dist.direct_url.get("url")
    if not isinstance(url, str) or not url.startswith("file:"):
        return None
    return unquote(urlsplit(url).path)


def freeze_line(dist: InstalledDistribution) -> str:
    """``name==version``, ``-e <url>`` or ``name @ <url>``."""
    url = dist.direct_url.get("url") if dist.direct_url else None
    if isinstance(url, str):
        if dist.editable:
            return f"-e {url}"
        vcs = dist.direct_url.get("vcs_info") if dist.direct_url else None
        if isinstance(vcs, dict) and isinstance(vcs.get("commit_id"), str):
            return f"{dist.name} @ {vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
        return f"{dist.name} @ {url}"
    return f"{dist.name}=={dist.version}"


class Latest(NamedTuple):
    """The newest release of a package that the environment could install."""

    version: str
    #: ``wheel`` or ``sdist``: the kind of file that release would be installed from.
    filetype: str


def list_columns(
    dists: Sequence[InstalledDistribution],
    latest: Mapping[NormalizedName, Latest | None] | None = None,
) -> list[str]:
    """An aligned table: Package, Version, with ``latest`` Latest and Type, and Editable
    project location when any is editable."""
    headers = ["Package", "Version"]
    rows = [[d.name, d.version] for d in dists]
    if latest is not None:
        headers += ["Latest", "Type"]
        for row, dist in zip(rows, dists):
            newest = latest.get(dist.name)
            row.extend([newest.version, newest.filetype] if newest else ["", ""])
    if any(editable_location(d) for d in dists):
        headers.append("Editable project location")
        for row, dist in zip(rows, dists):
            row.append(editable_location(dist) or "")
    if not rows:
        return []
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    table = [headers, ["-" * w for w in widths], *rows]
    return [" ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]


def list_json(
    dists: Sequence[InstalledDistribution],
    latest: Mapping[NormalizedName, Latest | None] | None = None,
) -> str:
    items: list[dict[str, str]] = []
    for dist in dists:
        item = {"name": dist.name, "version": dist.version}
        newest = latest.get(dist.name) if latest else None
        if newest:
            item["latest_version"] = newest.version
            item["latest_filetype"] = newest.filetype
        location = editable_location(dist)
        if location:
            item["editable_project_location"] = location
        items.append(item)
    return json.dumps(items, separators=(",", ":"))


def outdated(
    dists: Sequence[InstalledDistribution], latest: Mapping[NormalizedName, Latest | None]
) -> list[InstalledDistribution]:
    """The distributions of which ``latest`` knows a newer release."""
    return [d for d in dists if is_newer(latest.get(d.name), d.version)]


def is_newer(latest: Latest | None, installed: str) -> bool:
    if latest is None:
        return False
    try:
        return Version(latest.version) > Version(installed)
    except InvalidVersion:
        return False


def excluding(
    dists: Sequence[InstalledDistribution], names: Iterable[str]
) -> list[InstalledDistribution]:
    """``dists`` without the distributions ``names`` name (in any spelling)."""
    left_out = {canonicalize_name(name) for name in names}
    return [d for d in dists if d.name not in left_out]


class ShownPackage(NamedTuple):
    name: str
    version: str
    location: str
    requires: Sequence[str]
    required_by: Sequence[str]
    editable_location: str | None
    #: The paths of its ``RECORD``, relative to ``location``, when they were asked for.
    files: Sequence[str] | None = None


def show(
    env: Environment, names: Sequence[str], *, files: bool = False
) -> tuple[list[ShownPackage], list[str]]:
    """Details of each named package (sorted by name, each once), and the names that are
    not installed."""
    dists = installed_distributions(env)
    by_name = {d.name: d for d in dists}
    markers = env.interpreter.markers
    graph = {d.name: [canonicalize_name(r.name) for r in requirements_of(d, markers)] for d in dists}
    shown: list[ShownPackage] = []
    missing: list[str] = []
    for name in sorted(dict.fromkeys(canonicalize_name(n) for n in names)):
        dist = by_name.get(name)
        if dist is None:
            missing.append(name)
            continue
        required_by = sorted(p for p, kids in graph.items() if dist.name in kids and p != dist.name)
        shown.append(
            ShownPackage(
                dist.name,
                dist.version,
                str(dist.location),
                sorted(dict.fromkeys(graph[dist.name])),
                required_by,
                editable_location(dist),
                record_paths(dist) if files else None,
            )
        )
    return shown, missing


def record_paths(dist: InstalledDistribution) -> list[str]:
    """The paths listed in the ``RECORD`` of ``dist``, in its order."""
    from kiln.core.install.record import parse_record

    record = dist.dist_info / "RECORD"
    try:
        return [entry.path for entry in parse_record(record.read_text("utf-8"))]
    except OSError as exc:
        raise KilnError(
            f"cannot read `{record}`: {exc.strerror or exc}",
            hint=f"reinstall `{dist.name}` to restore its list of files",
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise KilnError(
            f"`{record}` is not a valid RECORD file: {exc}",
            hint=f"reinstall `{dist.name}` to restore its list of files",
        ) from None


class Problem(NamedTuple):
    """An installed package whose requirement is not met."""

    package: str
    requirement: str
    #: The installed version of the required package; None when it is missing.
    found: str | None

    def describe(self) -> str:
        name = Requirement(self.requirement).name
        if self.found is None:
            return f"The package `{self.package}` requires `{self.requirement}`, but `{name}` is not installed"
        return (
            f"The package `{self.package}` requires `{self.requirement}`, "
            f"but `{name}=={self.found}` is installed"
        )


def check(
    env: Environment,
    dists: Sequence[InstalledDistribution] | None = None,
    *,
    markers: Mapping[str, str] | None = None,
) -> tuple[int, list[Problem]]:
    """How many packages were checked, and every unmet requirement: of the environment's
    distributions, or of ``dists``, for the environment's markers (or ``markers``: those
    of ``--python-version``/``--python-platform``)."""
    if dists is None:
        dists = installed_distributions(env)
    markers = env.interpreter.markers if markers is None else markers
    by_name = {d.name: d for d in dists}
    problems = []
    for dist in dists:
        for requirement in requirements_of(dist, markers):
            found = by_name.get(canonicalize_name(requirement.name))
            text = str(requirement).split(";", 1)[0].strip()
            if found is None:
                problems.append(Problem(dist.name, text, None))
            elif not requirement.specifier.contains(found.version, prereleases=True):
                problems.append(Problem(dist.name, text, found.version))
    return len(dists), problems


class TreeOptions(NamedTuple):
    """How ``kiln pip tree`` draws the environment (uv's ``pip tree`` options)."""

    #: Levels of dependencies below each root; None for no limit.
    depth: int | None = None
    #: Start at these packages instead of the roots.
    packages: Sequence[str] = ()
    #: Leave these packages (and the edges to them) out.
    prune: Sequence[str] = ()
    #: Show who requires each package instead of what it requires.
    invert: bool = False
    #: Draw a subtree again each time, instead of marking repeats with ``(*)``.
    no_dedupe: bool = False
    #: Show the specifier of each requirement.
    show_version_specifiers: bool = False


#: The note under a tree that marks repeated subtrees with ``(*)``.
TREE_REPEATED = "(*) Package tree already displayed"
#: The note under a ``--no-dedupe`` tree that cut a cycle short.
TREE_CYCLE = "(*) Package tree is a cycle and cannot be shown"


#: The default options of :func:`tree`: every package, to any depth.
_ALL_OF_THE_TREE = TreeOptions()


class _Edge(NamedTuple):
    source: NormalizedName
    target: NormalizedName
    requirement: Requirement


def tree(
    env: Environment,
    options: TreeOptions = _ALL_OF_THE_TREE,
    latest: Mapping[NormalizedName, Latest | None] | None = None,
) -> list[str]:
    """The dependency tree, one line per node: roots (packages nothing installed requires)
    first, by name. A requirement links two packages only when the installed version
    satisfies it; ``latest`` adds ``(latest: vX)`` to the packages it knows a newer release
    of. A note explaining ``(*)`` ends the tree when it has any."""
    pruned = {canonicalize_name(p) for p in options.prune}
    dists = {d.name: d for d in installed_distributions(env) if d.name not in pruned}
    markers = env.interpreter.markers
    edges: list[_Edge] = []
    for dist in dists.values():
        for requirement in requirements_of(dist, markers):
            child = dists.get(canonicalize_name(requirement.name))
            if child is None or not requirement.specifier.contains(child.version, prereleases=True):
                continue
            if options.invert:
                edges.append(_Edge(child.name, dist.name, requirement))
            else:
                edges.append(_Edge(dist.name, child.name, requirement))
    edges = list({(e.source, e.target): e for e in reversed(edges)}.values())[::-1]
    nodes = sorted(dists)
    if options.packages:
        starts = [name for name in map(canonicalize_name, options.packages) if name in dists]
        nodes = _reachable(edges, starts)
        edges = [e for e in edges if e.source in nodes and e.target in nodes]
    outgoing: dict[NormalizedName, list[_Edge]] = {name: [] for name in nodes}
    for edge in sorted(edges, key=lambda e: e.target):
        outgoing[edge.source].append(edge)
    roots = _roots(nodes, outgoing)

    lines: list[str] = []
    visited: dict[NormalizedName, bool] = {}  # name -> whether it has dependencies
    path: list[NormalizedName] = []

    def label(name: NormalizedName, edge: _Edge | None) -> str:
        dist = dists[name]
        text = f"{dist.name} v{dist.version}"
        if options.show_version_specifiers and edge is not None:
            wanted = _specifier_text(edge.requirement)
            if options.invert:
                text += f" [requires: {edge.source} {wanted}]"
            else:
                text += f" [required: {wanted}]"
        return text

    def visit(name: NormalizedName, edge: _Edge | None) -> list[str]:
        if options.depth is not None and len(path) > options.depth:
            return []
        line = label(name, edge)
        if name in visited and (not options.no_dedupe or name in path):
            return [f"{line} (*)" if visited[name] else line]
        newest = latest.get(name) if latest else None
        if newest is not None and is_newer(newest, dists[name].version):
            line += f" (latest: v{newest.version})"
        kids = outgoing[name]
        visited[name] = bool(kids)
        path.append(name)
        result = [line]
        for position, child in enumerate(kids):
            last = position == len(kids) - 1
            for index, text in enumerate(visit(child.target, child)):
                if index == 0:
                    result.append(("└── " if last else "├── ") + text)
                else:
                    result.append(("    " if last else "│   ") + text)
        path.pop()
        return result

    for root in roots:
        lines.extend(visit(root, None))
    if any(line.endswith(" (*)") for line in lines):
        lines.append(TREE_CYCLE if options.no_dedupe else TREE_REPEATED)
    return lines


def _specifier_text(requirement: Requirement) -> str:
    if requirement.url:
        return requirement.url
    specifiers = sorted(str(s) for s in requirement.specifier)
    return ", ".join(specifiers) if specifiers else "*"


def _reachable(edges: Sequence[_Edge], starts: Sequence[NormalizedName]) -> list[NormalizedName]:
    found = set(starts)
    stack = list(starts)
    while stack:
        name = stack.pop()
        for edge in edges:
            if edge.source == name and edge.target not in found:
                found.add(edge.target)
                stack.append(edge.target)
    return sorted(found)


def _roots(
    nodes: Sequence[NormalizedName], outgoing: Mapping[NormalizedName, Sequence[_Edge]]
) -> list[NormalizedName]:
    """The nodes nothing points to once cycles are broken, by name.

    Cycles are broken by the greedy ordering of Eades, Lin and Smyth: sinks go to the end,
    sources to the front, otherwise the node with the most outgoing minus incoming edges
    goes to the front; the edges that point backwards in that order are ignored.
    """
    succ = {n: {e.target for e in outgoing[n]} - {n} for n in nodes}
    pred: dict[NormalizedName, set[NormalizedName]] = {n: set() for n in nodes}
    for n, targets in succ.items():
        for t in targets:
            pred[t].add(n)
    left = set(nodes)
    front: list[NormalizedName] = []
    back: list[NormalizedName] = []

    def remove(n: NormalizedName) -> None:
        left.discard(n)
        for t in succ[n]:
            pred[t].discard(n)
        for s in pred[n]:
            succ[s].discard(n)

    while left:
        sinks = sorted(n for n in left if not succ[n])
        sources = sorted(n for n in left if not pred[n])
        if sinks:
            for n in sinks:
                back.insert(0, n)
                remove(n)
        elif sources:
            for n in sources:
                front.append(n)
                remove(n)
        else:
            best = max(sorted(left), key=lambda n: len(succ[n]) - len(pred[n]))
            front.append(best)
            remove(best)
    order = {n: i for i, n in enumerate(front + back)}
    has_forward_parent = {
        e.target for n in nodes for e in outgoing[n] if order[n] < order[e.target]
    }
    return [n for n in nodes if n not in has_forward_parent]
