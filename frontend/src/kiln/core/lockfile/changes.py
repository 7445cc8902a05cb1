"""What differs between two locks, one line each, for ``--locked``, ``--check`` and
``--dry-run``: packages added, removed or at another version, and the lock's own keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Top-level keys compared (``packages`` and ``tool`` are compared on their own).
_KEYS = ("requires-python", "environments", "extras", "dependency-groups", "default-groups")


def describe(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Lines saying how ``new`` differs from ``old`` (None: there is no lock yet)."""
    if old is None:
        count = len(new.get("packages", ()))
        return [f"create the lock with {count} package{'s' if count != 1 else ''}"]
    lines = []
    for key in _KEYS:
        if old.get(key) != new.get(key):
            lines.append(f"`{key}`: {_shown(old.get(key))} -> {_shown(new.get(key))}")
    before = _by_name(old.get("packages", ()))
    after = _by_name(new.get("packages", ()))
    for name in sorted(set(before) | set(after)):
        was, now = before.get(name, []), after.get(name, [])
        if not was:
            lines.append(f"add `{name}` {_versions(now)}")
        elif not now:
            lines.append(f"remove `{name}` {_versions(was)}")
        elif _versions(was) != _versions(now):
            lines.append(f"update `{name}` {_versions(was)} -> {_versions(now)}")
        elif _canonical(was) != _canonical(now):
            keys = _changed_keys(was, now)
            lines.append(f"change the entry of `{name}` {_versions(now)}{keys}")
    old_tool = _tool(old)
    new_tool = _tool(new)
    if old_tool.get("projects") != new_tool.get("projects"):
        lines.append("record the changed requirements of the workspace in `[tool.kiln]`")
    if old_tool.get("options") != new_tool.get("options"):
        lines.append("record the changed resolution options in `[tool.kiln]`")
    return lines


def _tool(document: Mapping[str, Any]) -> Mapping[str, Any]:
    tool = document.get("tool")
    kiln = tool.get("kiln") if isinstance(tool, Mapping) else None
    return kiln if isinstance(kiln, Mapping) else {}


def _by_name(packages: Sequence[Any]) -> dict[str, list[Mapping[str, Any]]]:
    found: dict[str, list[Mapping[str, Any]]] = {}
    for package in packages:
        if isinstance(package, Mapping) and isinstance(package.get("name"), str):
            found.setdefault(package["name"], []).append(package)
    return found


def _versions(entries: Sequence[Mapping[str, Any]]) -> str:
    shown = []
    for entry in entries:
        version = entry.get("version")
        text = str(version) if version is not None else _source(entry)
        if text not in shown:
            shown.append(text)
    return ", ".join(shown)


def _source(entry: Mapping[str, Any]) -> str:
    for kind in ("directory", "vcs", "archive"):
        table = entry.get(kind)
        if isinstance(table, Mapping):
            return f"({kind} {table.get('path') or table.get('url')})"
    return "(no version)"


def _changed_keys(
    was: Sequence[Mapping[str, Any]], now: Sequence[Mapping[str, Any]]
) -> str:
    """``: `marker`, `wheels``` for one entry each side; empty otherwise."""
    if len(was) != 1 or len(now) != 1:
        return ""
    keys = sorted(
        key for key in {*was[0], *now[0]} if _plain(was[0].get(key)) != _plain(now[0].get(key))
    )
    return ": " + ", ".join(f"`{key}`" for key in keys) if keys else ""


def _canonical(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted(repr(sorted(_plain(entry).items())) for entry in entries)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(f"`{v}`" for v in value) + "]"
    return f"`{value}`"
