"""Dependency groups (PEP 735): ``[dependency-groups]``, with ``{ include-group = "..." }``.

Group names are compared after normalisation, like package names. Including a group adds its
requirements (with the groups it includes, recursively) in place; a group that includes itself,
directly or through others, is an error naming the chain. The legacy ``dev-dependencies`` list
of ``[tool.kiln]`` (else ``[tool.uv]``) is added to the end of group ``dev``, as uv does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from kiln.errors import KilnError
from kiln.project.toml import expect_table, reject_unknown_keys, where
from kiln.requirement_text import invalid_requirement_reason

DEV: NormalizedName = canonicalize_name("dev")
KEY = "dependency-groups"
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


class DependencyGroup(NamedTuple):
    """One group, its includes resolved."""

    name: NormalizedName
    #: The name as written in the file.
    spelled: str
    #: Every requirement, included groups' in place, each once (first place kept).
    requirements: tuple[Requirement, ...]
    #: The groups it includes directly.
    includes: tuple[NormalizedName, ...] = ()
    #: ``requires-python`` of ``[tool.kiln.dependency-groups.<name>]``; None: the project's.
    requires_python: SpecifierSet | None = None


class _Raw(NamedTuple):
    spelled: str
    key: str
    #: Requirements and includes, in order; an include is ``(group name, key of the entry)``.
    items: tuple[Requirement | tuple[NormalizedName, str], ...]


def parse_requirement(text: object, path: Path, key: str) -> Requirement:
    """One PEP 508 requirement string at ``key`` of ``path``."""
    if not isinstance(text, str):
        raise KilnError(f"{where(path, key)} must be a requirement string")
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise KilnError(
            f"{where(path, key)}: invalid requirement `{text}`: {invalid_requirement_reason(exc, text)}"
        ) from None


def resolve_groups(
    data: Mapping[str, Any],
    path: Path,
    *,
    dev_dependencies: tuple[Requirement, ...] = (),
    requires_python: Mapping[NormalizedName, SpecifierSet] | None = None,
) -> dict[NormalizedName, DependencyGroup]:
    """The groups of ``data`` (a parsed ``pyproject.toml``), includes resolved."""
    raw = _read(data, path)
    if dev_dependencies:
        dev = raw.get(DEV)
        items = (*(dev.items if dev else ()), *dev_dependencies)
        raw[DEV] = _Raw(dev.spelled if dev else "dev", dev.key if dev else f"{KEY}.dev", items)
    resolved = _expand(raw, path)
    settings = requires_python or {}
    return {
        name: DependencyGroup(
            name=name,
            spelled=group.spelled,
            requirements=resolved[name],
            includes=tuple(item[0] for item in group.items if isinstance(item, tuple)),
            requires_python=settings.get(name),
        )
        for name, group in raw.items()
    }


def _read(data: Mapping[str, Any], path: Path) -> dict[NormalizedName, _Raw]:
    table = expect_table(data.get(KEY, {}), path, KEY)
    groups: dict[NormalizedName, _Raw] = {}
    for spelled, value in table.items():
        key = f"{KEY}.{spelled}"
        if not _NAME.match(spelled):
            raise KilnError(
                f"{where(path, key)}: `{spelled}` is not a valid group name",
                hint="group names use ASCII letters, digits, `-`, `_` and `.`, and start and "
                "end with a letter or digit",
            )
        name = canonicalize_name(spelled)
        if name in groups:
            raise KilnError(
                f"{where(path, key)}: the group is already defined as "
                f"`{groups[name].spelled}`",
                hint="group names are compared after normalisation (case, `-`, `_` and `.`)",
            )
        if not isinstance(value, list):
            raise KilnError(
                f"{where(path, key)} must be a list of requirement strings and "
                '`{ include-group = "..." }` tables'
            )
        items: list[Requirement | tuple[NormalizedName, str]] = []
        for number, item in enumerate(value):
            item_key = f"{key}[{number}]"
            if isinstance(item, dict):
                reject_unknown_keys(item, where(path, item_key), ("include-group",))
                included = item.get("include-group")
                if not isinstance(included, str):
                    raise KilnError(f"{where(path, item_key)}: `include-group` must be a string")
                items.append((canonicalize_name(included), item_key))
            else:
                items.append(parse_requirement(item, path, item_key))
        groups[name] = _Raw(spelled, key, tuple(items))
    return groups


def _expand(
    raw: Mapping[NormalizedName, _Raw], path: Path
) -> dict[NormalizedName, tuple[Requirement, ...]]:
    """Every group's requirements, includes in place; depth-first without recursion, so a
    long chain of includes cannot exhaust the stack."""
    resolved: dict[NormalizedName, tuple[Requirement, ...]] = {}
    for start in raw:
        if start in resolved:
            continue
        stack: list[tuple[NormalizedName, int]] = [(start, 0)]
        chain: list[NormalizedName] = [start]
        while stack:
            name, position = stack[-1]
            group = raw[name]
            if position < len(group.items):
                stack[-1] = (name, position + 1)
                item = group.items[position]
                if not isinstance(item, tuple) or item[0] in resolved:
                    continue
                included, item_key = item
                if included not in raw:
                    known = ", ".join(f"`{g.spelled}`" for g in raw.values())
                    raise KilnError(
                        f"{where(path, item_key)}: dependency group `{group.spelled}` includes "
                        f"`{included}`, which is not defined in `[{KEY}]`",
                        hint=f"defined groups: {known}",
                    )
                if included in chain:
                    cycle = [*chain[chain.index(included) :], included]
                    first = raw[included]
                    raise KilnError(
                        f"{where(path, first.key)}: dependency group `{first.spelled}` includes "
                        "itself: " + " -> ".join(f"`{raw[n].spelled}`" for n in cycle),
                        hint="remove one of the `include-group` entries of the cycle",
                    )
                stack.append((included, 0))
                chain.append(included)
                continue
            found: list[Requirement] = []
            seen: set[str] = set()
            for item in group.items:
                requirements = resolved[item[0]] if isinstance(item, tuple) else (item,)
                for requirement in requirements:
                    if str(requirement) not in seen:
                        seen.add(str(requirement))
                        found.append(requirement)
            resolved[name] = tuple(found)
            stack.pop()
            chain.pop()
    return resolved
