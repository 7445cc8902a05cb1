"""Read-only views of an environment: list, freeze, show, check and tree."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.install.environment import Environment
from kiln.core.install.installed import InstalledDistribution, installed_distributions


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


def list_columns(dists: Sequence[InstalledDistribution]) -> list[str]:
    """An aligned table: Package, Version (and Editable project location when any)."""
    headers = ["Package", "Version"]
    rows = [[d.name, d.version] for d in dists]
    if any(editable_location(d) for d in dists):
        headers.append("Editable project location")
        for row, dist in zip(rows, dists):
            row.append(editable_location(dist) or "")
    if not rows:
        return []
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    table = [headers, ["-" * w for w in widths], *rows]
    return [" ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]


def list_json(dists: Sequence[InstalledDistribution]) -> str:
    items: list[dict[str, str]] = []
    for dist in dists:
        item = {"name": dist.name, "version": dist.version}
        location = editable_location(dist)
        if location:
            item["editable_project_location"] = location
        items.append(item)
    return json.dumps(items)


@dataclass(frozen=True)
class ShownPackage:
    name: str
    version: str
    location: str
    requires: Sequence[str]
    required_by: Sequence[str]
    editable_location: str | None


def show(
    env: Environment, names: Sequence[str]
) -> tuple[list[ShownPackage], list[str]]:
    """Details of each named package, and the names that are not installed."""
    dists = installed_distributions(env)
    by_name = {d.name: d for d in dists}
    markers = env.interpreter.markers
    graph = {d.name: [canonicalize_name(r.name) for r in requirements_of(d, markers)] for d in dists}
    shown: list[ShownPackage] = []
    missing: list[str] = []
    for name in names:
        dist = by_name.get(canonicalize_name(name))
        if dist is None:
            missing.append(name)
            continue
        required_by = sorted(by_name[p].name for p, kids in graph.items() if dist.name in kids)
        shown.append(
            ShownPackage(
                dist.name,
                dist.version,
                str(dist.location),
                sorted(dict.fromkeys(graph[dist.name])),
                required_by,
                editable_location(dist),
            )
        )
    return shown, missing


@dataclass(frozen=True)
class Problem:
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


def check(env: Environment) -> tuple[int, list[Problem]]:
    """How many packages were checked, and every unmet requirement."""
    dists = installed_distributions(env)
    by_name = {d.name: d for d in dists}
    problems = []
    for dist in dists:
        for requirement in requirements_of(dist, env.interpreter.markers):
            found = by_name.get(canonicalize_name(requirement.name))
            text = str(requirement).split(";", 1)[0].strip()
            if found is None:
                problems.append(Problem(dist.name, text, None))
            elif not requirement.specifier.contains(found.version, prereleases=True):
                problems.append(Problem(dist.name, text, found.version))
    return len(dists), problems


def tree(env: Environment, *, depth: int | None = None, packages: Sequence[str] = ()) -> list[str]:
    """The dependency tree, one line per node, roots first (packages nothing requires)."""
    dists = installed_distributions(env)
    by_name = {d.name: d for d in dists}
    markers = env.interpreter.markers
    children: dict[NormalizedName, list[tuple[NormalizedName, str]]] = {}
    required: set[NormalizedName] = set()
    for dist in dists:
        edges = []
        for requirement in requirements_of(dist, markers):
            child = canonicalize_name(requirement.name)
            edges.append((child, str(requirement.specifier)))
            required.add(child)
        children[dist.name] = sorted(dict.fromkeys(edges))
    if packages:
        roots = [canonicalize_name(p) for p in packages if canonicalize_name(p) in by_name]
    else:
        roots = [d.name for d in dists if d.name not in required] or [d.name for d in dists]
    lines: list[str] = []
    seen: set[NormalizedName] = set()

    def label(name: NormalizedName, specifier: str) -> str:
        dist = by_name.get(name)
        text = f"{dist.name} v{dist.version}" if dist else f"{name}"
        if specifier:
            text += f" [required: {specifier}]"
        if dist is None:
            text += " [not installed]"
        return text

    def walk(name: NormalizedName, prefix: str, level: int, path: tuple[NormalizedName, ...]) -> None:
        kids = children.get(name, [])
        for position, (child, specifier) in enumerate(kids):
            last = position == len(kids) - 1
            branch = "└── " if last else "├── "
            repeated = child in seen and children.get(child)
            lines.append(prefix + branch + label(child, specifier) + (" (*)" if repeated else ""))
            if repeated or child in path or child not in by_name:
                continue
            seen.add(child)
            if depth is None or level + 1 < depth:
                walk(child, prefix + ("    " if last else "│   "), level + 1, (*path, child))

    for root in roots:
        lines.append(label(root, ""))
        seen.add(root)
        if depth is None or depth > 0:
            walk(root, "", 0, (root,))
    return lines
