"""The negation of a PEP 508 marker (the grammar has no ``not``).

Works on the normalised text of the marker: comparisons are inverted and ``and``/``or`` swapped
(De Morgan). ``~=`` and ``===`` have no single inverse comparison; ``~=`` is expanded into its
range first and ``===`` makes the negation unavailable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.markers import Marker
from packaging.version import InvalidVersion, Version

_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])|(?P<logic>and|or)\b|(?P<op>===|==|!=|<=|>=|~=|<|>|not in|in)'
    r'|"(?P<dq>[^"]*)"|\'(?P<sq>[^\']*)\'|(?P<var>[A-Za-z_][A-Za-z0-9_.]*))'
)
_INVERSE = {
    "==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">",
    "in": "not in", "not in": "in",
}
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


@dataclass(frozen=True)
class _Atom:
    variable: str
    op: str
    value: str


@dataclass(frozen=True)
class _Group:
    logic: str
    items: tuple[_Node, ...]


_Node = _Atom | _Group


def negate(marker: Marker) -> Marker | None:
    """A marker true exactly where ``marker`` is false; None when it cannot be written."""
    try:
        tokens = _tokens(str(marker))
        node, position = _parse_or(tokens, 0)
    except (ValueError, IndexError):
        return None
    if position != len(tokens):
        return None
    negated = _negate(node)
    return None if negated is None else Marker(_render(negated))


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read marker `{text}`")
        kind = match.lastgroup or ""
        value = match.group(kind)
        found.append(("str" if kind in ("dq", "sq") else kind, value))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return found


def _parse_or(tokens: list[tuple[str, str]], position: int) -> tuple[_Node, int]:
    items = []
    node, position = _parse_and(tokens, position)
    items.append(node)
    while position < len(tokens) and tokens[position] == ("logic", "or"):
        node, position = _parse_and(tokens, position + 1)
        items.append(node)
    return (items[0] if len(items) == 1 else _Group("or", tuple(items))), position


def _parse_and(tokens: list[tuple[str, str]], position: int) -> tuple[_Node, int]:
    items = []
    node, position = _parse_item(tokens, position)
    items.append(node)
    while position < len(tokens) and tokens[position] == ("logic", "and"):
        node, position = _parse_item(tokens, position + 1)
        items.append(node)
    return (items[0] if len(items) == 1 else _Group("and", tuple(items))), position


def _parse_item(tokens: list[tuple[str, str]], position: int) -> tuple[_Node, int]:
    if tokens[position] == ("paren", "("):
        node, position = _parse_or(tokens, position + 1)
        return node, position + 1  # the closing parenthesis
    (left_kind, left), (_, op), (_, right) = tokens[position : position + 3]
    if left_kind == "var":
        return _Atom(left, op, right), position + 3
    # `"value" op variable`: mirror it so the variable is on the left.
    if op in ("in", "not in"):
        # `"x" in var` has no mirrored form; keep it as written via a marker with the value left.
        return _Atom(right, f"{op}-reversed", left), position + 3
    return _Atom(right, _FLIPPED.get(op, op), left), position + 3


def _negate(node: _Node) -> _Node | None:
    if isinstance(node, _Group):
        parts = [_negate(item) for item in node.items]
        if any(part is None for part in parts):
            return None
        return _Group("or" if node.logic == "and" else "and", tuple(p for p in parts if p))
    if node.op.endswith("-reversed"):
        base = node.op.removesuffix("-reversed")
        return _Atom(node.variable, _INVERSE[base] + "-reversed", node.value)
    if node.op == "~=":
        upper = _compatible_upper(node.value)
        if upper is None:
            return None
        return _Group(
            "or", (_Atom(node.variable, "<", node.value), _Atom(node.variable, ">=", upper))
        )
    inverse = _INVERSE.get(node.op)
    return None if inverse is None else _Atom(node.variable, inverse, node.value)


def _compatible_upper(value: str) -> str | None:
    try:
        release = Version(value).release
    except InvalidVersion:
        return None
    if len(release) < 2:
        return None
    prefix = list(release[:-1])
    prefix[-1] += 1
    return ".".join(map(str, prefix))


def _render(node: _Node) -> str:
    if isinstance(node, _Group):
        return f" {node.logic} ".join(
            f"({_render(item)})" if isinstance(item, _Group) else _render(item)
            for item in node.items
        )
    quoted = '"' + node.value + '"' if '"' not in node.value else "'" + node.value + "'"
    if node.op.endswith("-reversed"):
        return f"{quoted} {node.op.removesuffix('-reversed')} {node.variable}"
    return f"{node.variable} {node.op} {quoted}"
