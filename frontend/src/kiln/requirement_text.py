"""Saying why a requirement string does not parse, in the user's terms.

packaging's parser reports the token it expected (``Expected semicolon (after name with no
version specifier) or end`` for ``requests>==``); for the common mistakes in version clauses
(an unknown operator, a missing version, ``~=`` with one part) this says what is wrong instead.
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement

#: PEP 440's comparison operators.
OPERATORS = ("==", "!=", ">=", "<=", ">", "<", "~=", "===")
_NAME_AND_EXTRAS = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*")
_CLAUSE = re.compile(r"\s*(?P<operator>[<>=!~]*)\s*(?P<version>[^\s,]*)\s*")


def invalid_requirement_reason(exc: InvalidRequirement, text: str) -> str:
    """Why ``text`` is not a requirement: plainly where packaging only names the token it
    expected, else packaging's own reason."""
    reason = str(exc)
    if reason.startswith("Expected"):
        plain = specifier_problem(text)
        if plain is not None:
            return plain
    return reason


def specifier_problem(text: str) -> str | None:
    r"""The first version clause of the requirement ``text`` that is wrong, said plainly
    (``\`>==\` is not a version comparison...``); None when the clauses look right."""
    from packaging.specifiers import InvalidSpecifier, Specifier

    head = _NAME_AND_EXTRAS.match(text)
    if head is None or "@" in text:
        return None
    rest = text[head.end() :].split(";", 1)[0].strip()
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1]
    if "(" in rest or ")" in rest:
        return None
    for clause in filter(None, (c.strip() for c in rest.split(","))):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            return None
        operator, version = match["operator"], match["version"]
        if operator not in OPERATORS:
            shown = f"`{operator}`" if operator else f"`{version}` without an operator"
            known = ", ".join(f"`{o}`" for o in OPERATORS)
            return f"{shown} is not a version comparison; use one of {known}"
        if not version:
            return f"`{operator}` needs a version after it, as in `{operator}1.0`"
        try:
            Specifier(operator + version)
        except InvalidSpecifier:
            if operator == "~=" and "." not in version.split("+")[0]:
                return f"`~=` needs at least two parts of a version, as in `~={version}.0`"
            return f"`{version}` is not a valid version in `{operator}{version}`"
    return None
