"""PEP 508 markers as sets of environments: and, or, not, implication, disjointness, and text.

A :class:`MarkerSet` is a union of clauses. A clause limits each variable it names to a set of
values: ``python_full_version`` (``python_version`` is folded into it) to a range of releases,
string variables (``sys_platform``, ``platform_machine``, ...) to a finite set of values or to
everything except one. Every question (:meth:`MarkerSet.implies`, :meth:`MarkerSet.disjoint`,
...) is answered by computing with these sets, never by trying environments, so the answer does
not depend on how many values the markers name.

Comparisons that cannot be related to others (``"arm" in platform_machine``,
``platform_release >= "5"``) become opaque atoms. An atom is related only to its own opposite
comparison (``"arm" not in platform_machine``, ``platform_release < "5"``) and is independent of
everything else, so a question about it errs on the safe side: two markers that differ only in
atoms are not known to be disjoint. Where packaging compares versions (``platform_release``,
``implementation_version``), an environment whose value is not a version satisfies neither a
comparison nor its opposite; such atoms have three outcomes (holds, opposite holds, neither).

``extra`` is not a variable here: it is known when a marker is read (:func:`marker_set`).
Universal resolution uses this module to decide where a requirement applies and to write the
marker of each pinned package; ``[tool.kiln.sources]`` uses it to check that the markers of a
list of sources are disjoint and to write the marker of the environments no entry covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, TypeVar, Union

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, Specifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.resolver.pubgrub.ranges import Range

PYTHON = "python_full_version"

#: A Python release with trailing zeros removed: ``3.10.0`` is ``(3, 10)``.
Release = tuple[int, ...]
PythonRange = Range[Release]

_C = TypeVar("_C", bound="_Constraint")


class _Constraint(Protocol):
    def intersection(self: _C, other: _C, /) -> _C: ...
    def union(self: _C, other: _C, /) -> _C: ...
    def complement(self: _C) -> _C: ...
    def is_empty(self) -> bool: ...
    def is_full(self) -> bool: ...
    def is_subset(self: _C, other: _C, /) -> bool: ...


class Values:
    """A set of strings: ``items``, or every string except ``items`` when ``negated``.

    A plain class, not a tuple: it shares clauses with :class:`Range` and is compared and
    hashed by value only with other :class:`Values`. Not modified after creation."""

    __slots__ = ("items", "negated")

    def __init__(self, items: frozenset[str], negated: bool = False) -> None:
        self.items = items
        self.negated = negated

    def __eq__(self, other: object) -> bool:
        if type(other) is not Values:
            return NotImplemented
        return self.negated == other.negated and self.items == other.items

    def __hash__(self) -> int:
        return hash((self.items, self.negated))

    def __repr__(self) -> str:
        return f"Values(items={self.items!r}, negated={self.negated!r})"

    def intersection(self, other: Values) -> Values:
        if self.negated and other.negated:
            return Values(self.items | other.items, True)
        if self.negated:
            return Values(other.items - self.items)
        if other.negated:
            return Values(self.items - other.items)
        return Values(self.items & other.items)

    def union(self, other: Values) -> Values:
        return self.complement().intersection(other.complement()).complement()

    def complement(self) -> Values:
        return Values(self.items, not self.negated)

    def is_empty(self) -> bool:
        return not self.negated and not self.items

    def is_full(self) -> bool:
        return self.negated and not self.items

    def is_subset(self, other: Values) -> bool:
        return self.intersection(other.complement()).is_empty()


Constraint = Union[Values, PythonRange]
#: Variable name -> constraint, sorted by name; variables left out are unconstrained.
Clause = tuple[tuple[str, Constraint], ...]

#: The outcomes of an opaque atom: the comparison holds, or its opposite does.
_HOLDS = "true"
_OPPOSITE = "false"


class _Atom(NamedTuple):
    """An opaque comparison. ``said`` is its text; ``opposite`` the text of the comparison that
    holds where it does not (None when PEP 508 has none: ``===``). ``exact``: the two split
    every environment between them; otherwise some environments satisfy neither.
    ``within``: for a comparison of the Python version with a version that is no plain
    release (``python_full_version == "3.9b1"``), the Python releases where the comparison
    can hold and those where its opposite can (see :func:`_python_bounds`)."""

    said: str
    opposite: str | None
    exact: bool
    within: tuple[PythonRange, PythonRange] | None = None


#: Opaque atoms by variable name (a key no real variable has).
_ATOMS: dict[str, _Atom] = {}


class _Unwritable(Exception):
    """A set PEP 508 has no text for (the opposite of ``===``)."""


def _full(variable: str) -> Constraint:
    return Range.full() if variable == PYTHON else Values(frozenset(), True)


def _meet(a: Constraint, b: Constraint) -> Constraint:
    return a.intersection(b)  # type: ignore[arg-type]  # both sides have one type per variable


def _join(a: Constraint, b: Constraint) -> Constraint:
    return a.union(b)  # type: ignore[arg-type]


def _within(a: Constraint, b: Constraint) -> bool:
    return a.is_subset(b)  # type: ignore[arg-type]


def _clause(items: dict[str, Constraint]) -> Clause:
    return tuple(sorted((k, v) for k, v in items.items() if not v.is_full()))


def _and_clauses(a: Clause, b: Clause) -> Clause | None:
    merged = dict(a)
    for variable, constraint in b:
        current = merged.get(variable)
        joined = constraint if current is None else _meet(current, constraint)
        if joined.is_empty():
            return None
        merged[variable] = joined
    return _clause(merged)


def _clause_within(a: Clause, b: Clause) -> bool:
    mine = dict(a)
    return all(
        variable in mine and _within(mine[variable], constraint) for variable, constraint in b
    )


def _subtract(a: Clause, b: Clause) -> list[Clause]:
    """Disjoint clauses covering exactly the environments of ``a`` outside ``b``."""
    pieces: list[Clause] = []
    current = dict(a)
    for variable, constraint in b:
        mine = current.get(variable, _full(variable))
        outside = _meet(mine, constraint.complement())
        if not outside.is_empty():
            pieces.append(_clause({**current, variable: outside}))
        inside = _meet(mine, constraint)
        if inside.is_empty():
            return pieces
        current[variable] = inside
    return pieces


def _minus_all(regions: list[Clause], clauses: Iterable[Clause]) -> list[Clause]:
    for clause in clauses:
        regions = [
            piece
            for region in regions
            for piece in _subtract(region, clause)
            if not _impossible(piece)
        ]
        if not regions:
            break
    return regions


def _impossible(clause: Clause) -> bool:
    """True when the clause asks a bounded atom (a comparison of the Python version with a
    pre-release, ...) for an outcome its Python releases rule out: ``python_full_version ==
    "3.9b1"`` cannot hold from Python 3.10 up."""
    python: PythonRange | None = None
    for name, constraint in clause:
        atom = _ATOMS.get(name)
        if atom is None or atom.within is None or not isinstance(constraint, Values):
            continue
        # The Python version is always a version, so one of the two holds (packaging's
        # "neither" for a value that is no version does not arise).
        if python is None:
            found = dict(clause).get(PYTHON)
            python = found if isinstance(found, Range) else Range.full()
        allowed = [
            within
            for outcome, within in zip((_HOLDS, _OPPOSITE), atom.within)
            if (outcome in constraint.items) != constraint.negated
        ]
        if all(python.is_disjoint(within) for within in allowed):
            return True
    return False


def _widen(target: Clause, other: Clause) -> Clause | None:
    """``target`` grown where ``other`` already covers the growth, or None when it cannot
    grow: if ``other`` allows everything ``target`` allows except on one variable X, then
    ``target`` may take X's values from ``other`` too (``a or (not a and b)`` is ``a or b``)."""
    mine = dict(target)
    theirs = dict(other)
    for variable, constraint in mine.items():
        rest_covered = all(
            name == variable or (name in mine and _within(mine[name], value))
            for name, value in theirs.items()
        )
        if not rest_covered:
            continue
        grown = _join(constraint, theirs.get(variable, _full(variable)))
        if grown != constraint:
            return _clause({**mine, variable: grown})
    return None


def _simplify(clauses: Iterable[Clause]) -> tuple[Clause, ...]:
    kept = [clause for clause in dict.fromkeys(clauses) if not _impossible(clause)]
    changed = True
    while changed:
        changed = False
        for i, target in enumerate(kept):
            for j, other in enumerate(kept):
                if i == j:
                    continue
                grown = _widen(target, other)
                if grown is not None:
                    kept[i] = grown
                    changed = True
                    break
            if changed:
                break
        if changed:
            kept = list(dict.fromkeys(kept))
            continue
        for i, target in enumerate(kept):
            if any(j != i and _clause_within(target, other) for j, other in enumerate(kept)):
                del kept[i]
                changed = True
                break
    return tuple(sorted(kept, key=_sort_key))


def _sort_key(clause: Clause) -> tuple[Any, ...]:
    return tuple((name, repr(value)) for name, value in clause)


class MarkerSet:
    """A set of environments described by markers; immutable."""

    __slots__ = ("clauses",)

    def __init__(self, clauses: Iterable[Clause] = ()) -> None:
        self.clauses: tuple[Clause, ...] = _simplify(clauses)

    @classmethod
    def true(cls) -> MarkerSet:
        return cls(((),))

    @classmethod
    def false(cls) -> MarkerSet:
        return cls(())

    @classmethod
    def python(cls, versions: PythonRange) -> MarkerSet:
        """The environments whose Python release is in ``versions``."""
        if versions.is_empty():
            return cls.false()
        return cls((_clause({PYTHON: versions}),))

    def __and__(self, other: MarkerSet) -> MarkerSet:
        product = (_and_clauses(a, b) for a in self.clauses for b in other.clauses)
        return MarkerSet(clause for clause in product if clause is not None)

    def __or__(self, other: MarkerSet) -> MarkerSet:
        return MarkerSet((*self.clauses, *other.clauses))

    def __invert__(self) -> MarkerSet:
        return MarkerSet(_minus_all([()], self.clauses))

    def equivalent(self, other: MarkerSet) -> bool:
        """Both describe the same environments (however they are written)."""
        return self.clauses == other.clauses or (self.implies(other) and other.implies(self))

    def __repr__(self) -> str:
        return f"MarkerSet({self.text()!r})"

    def is_false(self) -> bool:
        return not self.clauses

    def is_true(self) -> bool:
        return MarkerSet.true().implies(self)

    def implies(self, other: MarkerSet) -> bool:
        """Every environment of ``self`` is one of ``other``."""
        return all(not _minus_all([clause], other.clauses) for clause in self.clauses)

    def overlaps(self, other: MarkerSet) -> bool:
        """Some environment is in both sets (see :meth:`disjoint`)."""
        return not self.disjoint(other)

    def disjoint(self, other: MarkerSet) -> bool:
        """No environment is in both sets. Computed, not sampled: exact for the variables this
        module relates; opaque atoms are independent of everything but their own opposite, so
        sets that differ only there are not disjoint."""
        return (self & other).is_false()

    def opaque_comparisons(self) -> list[str]:
        """The comparisons of this set that are opaque atoms, as written in a marker."""
        return sorted(
            {_ATOMS[name].said for clause in self.clauses for name, _ in clause if name in _ATOMS}
        )

    def python_range(self) -> PythonRange:
        """The Python releases some environment of this set has."""
        covered: PythonRange = Range.empty()
        for clause in self.clauses:
            covered = covered.union(dict(clause).get(PYTHON, Range.full()))  # type: ignore[arg-type]
        return covered

    def text(self, within: MarkerSet | None = None) -> str:
        """PEP 508 text for this set; ``within``: environments known to hold, left unsaid
        (a Python floor, a fork's own marker). An empty string means "everywhere".

        A set PEP 508 cannot write (see :meth:`pep508`) is written with ``not (...)``."""
        return _write(_relative(self, within) if within is not None else self.clauses, False)

    def alternatives(self) -> list[str]:
        """The conjunctions of comparisons whose union :meth:`text` writes (none for an empty
        set; one empty string for every environment)."""
        return [term for clause in self.clauses for term in _render_clause(clause, False)]

    def pep508(self, within: MarkerSet | None = None) -> str | None:
        """:meth:`text`, or None when PEP 508 has no text for this set: the opposite of a
        ``===`` comparison cannot be written. The opposite of a version comparison with
        ``platform_release`` or ``implementation_version`` is written as the opposite
        comparison, which leaves out environments whose value is not a version."""
        clauses = _relative(self, within) if within is not None else self.clauses
        try:
            return _write(clauses, True)
        except _Unwritable:
            return None


def _write(clauses: tuple[Clause, ...], strict: bool) -> str:
    if clauses == ((),):
        return ""
    if not clauses:
        return 'python_version < "0"'  # no environment at all
    alternatives = [term for clause in clauses for term in _render_clause(clause, strict)]
    if len(alternatives) > 1:
        alternatives = [f"({term})" if " and " in term else term for term in alternatives]
    return " or ".join(alternatives)


def _relative(marker: MarkerSet, within: MarkerSet) -> tuple[Clause, ...]:
    """The clauses of ``marker``, with every comparison that ``within`` makes redundant
    left out (``within`` holds wherever the text will be read)."""
    target = marker & within
    if within.implies(target):
        return ((),)
    clauses = list(target.clauses)
    for index in range(len(clauses)):
        for variable in [name for name, _ in clauses[index]]:
            items = dict(clauses[index])
            if variable not in items:
                continue
            options = [_clause({k: v for k, v in items.items() if k != variable})]
            if variable == PYTHON:
                options += _loosened(items, items[PYTHON])  # type: ignore[arg-type]
            for option in options:
                trial = [*clauses[:index], option, *clauses[index + 1:]]
                if (MarkerSet(trial) & within).equivalent(target):
                    clauses = trial
                    break
    return _simplify(clauses)


def _loosened(items: dict[str, Constraint], versions: PythonRange) -> list[Clause]:
    """The clause with the Python range's lowest bound dropped, then its highest."""
    intervals = list(versions.intervals)
    if not intervals:
        return []
    first, last = intervals[0], intervals[-1]
    options = []
    if first[0] is not None:
        lowered = Range(((None, first[1]), *intervals[1:]))
        options.append(_clause({**items, PYTHON: lowered}))
    if last[1] is not None:
        raised = Range((*intervals[:-1], (last[0], None)))
        options.append(_clause({**items, PYTHON: raised}))
    return options


def _render_clause(clause: Clause, strict: bool) -> list[str]:
    """Conjunctions of comparisons; several when a variable allows several values."""
    alternatives: list[list[str]] = [[]]
    for variable, constraint in sorted(clause, key=lambda item: item[0] != PYTHON):
        if isinstance(constraint, Range):
            options = [_python_text(lower, upper) for lower, upper in constraint.intervals]
        elif variable in _ATOMS:
            options = [[term] for term in _atom_terms(_ATOMS[variable], constraint, strict)]
        elif constraint.negated:
            options = [[f"{variable} != {_literal(value)}" for value in sorted(constraint.items)]]
        else:
            options = [[f"{variable} == {_literal(value)}"] for value in sorted(constraint.items)]
        alternatives = [done + option for done in alternatives for option in options]
    return [" and ".join(terms) for terms in alternatives]


def _atom_terms(atom: _Atom, outcomes: Values, strict: bool) -> list[str]:
    """Alternatives saying ``outcomes`` of ``atom``. Left unsaid: the environments where
    neither the comparison nor its opposite holds (PEP 508 has no words for them)."""
    written = outcomes.items if not outcomes.negated else {_HOLDS, _OPPOSITE} - outcomes.items
    terms = []
    for outcome in sorted(written, reverse=True):  # "true" before "false"
        if outcome == _HOLDS:
            terms.append(atom.said)
        elif atom.opposite is not None:
            terms.append(atom.opposite)
        elif strict:
            raise _Unwritable(atom.said)
        else:
            terms.append(f"not ({atom.said})")
    if not terms:
        if strict:
            raise _Unwritable(atom.said)
        terms.append(f"not ({atom.said} or {atom.opposite})" if atom.opposite else "false")
    return terms


def _literal(value: str) -> str:
    return f"'{value}'" if '"' in value else f'"{value}"'


def release_text(release: Release) -> str:
    padded = release if len(release) >= 2 else (*release, 0)
    return ".".join(map(str, padded))


def _python_text(lower: Any, upper: Any) -> list[str]:
    if lower is not None and upper is not None:
        low, high = lower[0], upper[0]
        if lower[1] and upper[1] and low == high:
            return [f'{PYTHON} == "{release_text(low)}"']
        if lower[1] and not upper[1] and len(low) <= 2 and _next_minor(low) == high:
            return [f'{PYTHON} == "{release_text(low)}.*"']
    terms = []
    if lower is not None:
        terms.append(f'{PYTHON} {">=" if lower[1] else ">"} "{release_text(lower[0])}"')
    if upper is not None:
        terms.append(f'{PYTHON} {"<=" if upper[1] else "<"} "{release_text(upper[0])}"')
    return terms


# -- reading markers ------------------------------------------------------------------------


def release(version: Version | str) -> Release:
    """``3.10.0`` -> ``(3, 10)``: the form Python versions take in marker sets."""
    parts = list(Version(str(version)).release)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _bump(prefix: Sequence[int]) -> Release:
    """The first release after every release starting with ``prefix``: (3, 9) -> (3, 10)."""
    return release(".".join(map(str, (*prefix[:-1], prefix[-1] + 1))))


def _next_minor(value: Release) -> Release:
    return _bump((*value, 0)[:2])


def python_at_least(value: Release) -> MarkerSet:
    return MarkerSet.python(Range.at_least(value))


@lru_cache(maxsize=4096)
def marker_set(marker: Marker | None, extra: str = "") -> MarkerSet:
    """The environments where ``marker`` holds, for a requirement read with ``extra``
    active ("" for none)."""
    if marker is None:
        return MarkerSet.true()
    # packaging keeps the parsed marker as nested lists of (lhs, op, rhs) tuples joined by
    # "and"/"or" strings; that tree is read here rather than parsing the text again.
    return _walk(marker._markers, canonicalize_name(extra) if extra else "")


def extras_compared(marker: Marker) -> frozenset[str]:
    """The extras (normalised) that ``marker`` compares ``extra`` with. Reading the marker
    with each of them and with "" covers every case: any other extra reads as "" does."""
    found: set[str] = set()

    def visit(items: Sequence[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                visit(item)
            elif isinstance(item, tuple):
                lhs, _, rhs = item
                for side, other in ((lhs, rhs), (rhs, lhs)):
                    if _is_variable(side) and side.value == "extra" and not _is_variable(other):
                        found.add(canonicalize_name(other.value))

    visit(marker._markers)
    return frozenset(found)


def _walk(items: Sequence[Any], extra: str) -> MarkerSet:
    # "and" binds tighter than "or": collect and-groups, then unite them.
    groups: list[MarkerSet] = [MarkerSet.true()]
    for item in items:
        if isinstance(item, str):
            if item == "or":
                groups.append(MarkerSet.true())
            continue
        term = _walk(item, extra) if isinstance(item, list) else _atom(item, extra)
        groups[-1] = groups[-1] & term
    result = MarkerSet.false()
    for group in groups:
        result = result | group
    return result


#: ``platform_system`` values that always go with one ``sys_platform`` value: read as that,
#: so ``platform_system == "Windows"`` and ``sys_platform == "win32"`` are known to agree.
_SYSTEMS = {"Windows": "win32", "Darwin": "darwin", "Linux": "linux"}

#: Every ``major.minor`` a marker might name.
_MINORS = [(2, minor) for minor in range(8)] + [(3, minor) for minor in range(100)]

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


def _atom(item: tuple[Any, Any, Any], extra: str) -> MarkerSet:
    lhs, op, rhs = item
    left_is_variable = _is_variable(lhs)
    right_is_variable = _is_variable(rhs)
    operator = op.value
    if left_is_variable and not right_is_variable:
        variable, value = lhs.value, rhs.value
    elif right_is_variable and not left_is_variable and operator in _FLIP:
        variable, value, operator = rhs.value, lhs.value, _FLIP[operator]
    else:
        return _opaque(lhs, operator, rhs)
    if variable == "extra":
        if operator not in ("==", "!="):
            return _opaque(lhs, op.value, rhs)
        same = bool(extra) and canonicalize_name(value) == extra
        return MarkerSet.true() if same == (operator == "==") else MarkerSet.false()
    if variable == "python_version" and operator in ("in", "not in"):
        # ``python_version in "2.7 3.6"``: a substring test, done for every minor series.
        listed: PythonRange = Range.empty()
        for major, minor in _MINORS:
            if f"{major}.{minor}" in value:
                start = release(f"{major}.{minor}")
                listed = listed.union(Range.between(start, _next_minor(start)))
        return MarkerSet.python(listed if operator == "in" else listed.complement())
    if variable in ("python_version", "python_full_version"):
        versions = _python_range(variable, operator, value)
        if versions is None and variable == "python_version":
            versions = _python_version_range(operator, value)
        if versions is None:
            return _opaque(lhs, op.value, rhs)
        return MarkerSet.python(versions) if not versions.is_full() else MarkerSet.true()
    if variable in _VERSION_VARIABLES and (right_is_variable or _is_specifier(operator, value)):
        # packaging compares these as versions (``platform_release == "5.1"`` holds for
        # "5.1.0"; neither ``==`` nor ``!=`` holds for a value that is no version).
        return _opaque(lhs, op.value, rhs)
    if variable == "platform_system" and value in _SYSTEMS and operator in ("==", "!="):
        variable, value = "sys_platform", _SYSTEMS[value]
    if operator == "==":
        return MarkerSet((((variable, Values(frozenset({value}))),),))
    if operator == "!=":
        return MarkerSet((((variable, Values(frozenset({value}), True)),),))
    return _opaque(lhs, op.value, rhs)


#: Variables packaging compares as versions when the other side makes a version specifier.
_VERSION_VARIABLES = frozenset(
    {"implementation_version", "platform_release", "python_full_version", "python_version"}
)
#: Comparisons and their opposites; an atom is keyed by the first of its pair.
_OPPOSITES = {"<": ">=", ">": "<=", "==": "!=", "in": "not in"}
_CANONICAL = {**{op: op for op in _OPPOSITES}, **{v: k for k, v in _OPPOSITES.items()}}


def _is_variable(node: Any) -> bool:
    return type(node).__name__ == "Variable"


def _quote(node: Any) -> str:
    return node.value if _is_variable(node) else _literal(node.value)


def _is_specifier(op: str, value: str) -> bool:
    try:
        Specifier(f"{op}{value}")
    except InvalidSpecifier:
        return False
    return True


def _opaque(lhs: Any, op: str, rhs: Any) -> MarkerSet:
    canonical = _CANONICAL.get(op, op)
    said = f"{_quote(lhs)} {canonical} {_quote(rhs)}"
    key = "\x00" + said
    atom = _ATOMS.get(key)
    if atom is None:
        exact = _exact(lhs, canonical, rhs)
        atom = _ATOMS[key] = _Atom(
            said, _opposite(lhs, canonical, rhs), exact, _atom_bounds(lhs, canonical, rhs)
        )
    if op == canonical:
        outcomes = Values(frozenset({_HOLDS}))
    elif atom.exact:
        outcomes = Values(frozenset({_HOLDS}), True)
    else:
        outcomes = Values(frozenset({_OPPOSITE}))
    return MarkerSet((((key, outcomes),),))


def _atom_bounds(lhs: Any, op: str, rhs: Any) -> tuple[PythonRange, PythonRange] | None:
    """:attr:`_Atom.within` of ``lhs op rhs``, for comparisons of the Python version."""
    if _is_variable(lhs) and not _is_variable(rhs):
        variable, value = lhs.value, rhs.value
    elif _is_variable(rhs) and not _is_variable(lhs) and op in _FLIP:
        variable, value, op = rhs.value, lhs.value, _FLIP[op]
    else:
        return None
    if variable not in ("python_version", "python_full_version"):
        return None
    return _python_bounds(variable, op, value)


def _python_bounds(variable: str, op: str, value: str) -> tuple[PythonRange, PythonRange] | None:
    """Where ``python_full_version op value`` can hold, and where its opposite can, as
    Python releases, when ``value`` is a version but no plain release. kiln's environments
    know Python by its release: a pre-release or development ``value`` (``3.10.0rc1``)
    sits just below its release, where no release is (so from Python 3.10 up,
    ``python_full_version < "3.10.0rc1"`` never holds, as in uv); a post-release or local
    ``value`` is compared with its own release either way. None when packaging would not
    compare versions at all (``<`` with a local version compares strings)."""
    version = _version_value(op, value)
    if variable != "python_full_version" or version is None:
        return None
    base = Version(version.base_version)
    value_release = release(base)
    below = version < base  # a pre-release or development version
    return _sides(op, _just_below(value_release) if below else Range.singleton(value_release))


def _python_version_range(op: str, value: str) -> PythonRange | None:
    """``python_version op value`` for a ``value`` that is a version but no plain release
    (``3.10rc1``, ``3.9.5.post1``): ``python_version`` is always a final ``major.minor``,
    so the comparison goes one way for each whole minor series."""
    version = _version_value(op, value)
    if version is None:
        return None
    minor = Version(".".join(map(str, (*version.release, 0)[:2])))
    start = release(minor)
    first = start if minor >= version else _next_minor(start)  # the first minor >= value
    below: PythonRange = Range.at_most(first, inclusive=False)
    if op in ("<", "<="):
        return below
    if op in (">", ">="):
        return below.complement()
    if op == "~=":  # at least ``value``, with its release but the last part as the prefix
        if len(version.release) < 2:
            return None
        return below.complement().intersection(
            Range.at_most(_bump(version.release[:-1]), inclusive=False)
        )
    if op in ("==", "==="):
        return Range.empty()
    if op == "!=":
        return Range.full()
    return None


def _version_value(op: str, value: str) -> Version | None:
    """``value`` as a version, when packaging compares the Python version with it as one."""
    if value.endswith(".*") or not _is_specifier(op, value):
        return None
    try:
        version = Version(value)
    except InvalidVersion:
        return None
    return None if version.epoch else version


def _just_below(value: Release) -> PythonRange:
    """An open interval just below the release ``value`` that holds no release anyone uses:
    from a floor below ``value`` up it is reached, from ``value`` up it is not."""
    lower = (*value[:-1], value[-1] - 1, 1 << 62) if value[-1] > 0 else (*value, -1)
    return Range.between(lower, value, low_inclusive=False, high_inclusive=False)


def _sides(op: str, zone: PythonRange) -> tuple[PythonRange, PythonRange] | None:
    """Where ``op`` (comparing with a value at ``zone``) can hold, and its opposite can."""
    low = zone.intervals[0][0]
    assert low is not None
    below: PythonRange = Range.at_most(low[0], inclusive=not low[1])
    above = zone.union(below).complement()
    if op in ("<", "<="):
        return below.union(zone), zone.union(above)
    if op in (">", ">="):
        return zone.union(above), below.union(zone)
    if op in ("==", "==="):
        return zone, Range.full()
    if op == "!=":
        return Range.full(), zone
    if op == "~=":
        return zone.union(above), Range.full()
    return None


def _opposite(lhs: Any, op: str, rhs: Any) -> str | None:
    """The comparison holding where ``lhs op rhs`` does not (for ``~=``: the versions below
    its range or above it); None for ``===``."""
    if op in _OPPOSITES:
        return f"{_quote(lhs)} {_OPPOSITES[op]} {_quote(rhs)}"
    if op == "~=" and _is_variable(lhs) and not _is_variable(rhs):
        try:
            parts = Version(rhs.value).release
        except InvalidVersion:
            return None
        if len(parts) < 2:
            return None
        upper = ".".join(map(str, (*parts[:-2], parts[-2] + 1)))
        variable = lhs.value
        return f"({variable} < {_literal(rhs.value)} or {variable} >= {_literal(upper)})"
    return None


def _exact(lhs: Any, op: str, rhs: Any) -> bool:
    """Whether ``lhs op rhs`` and its opposite split every environment between them. They do
    for string comparisons; packaging compares versions instead when the variable is one of
    ``_VERSION_VARIABLES`` and the operator and right-hand side make a specifier, and then a
    value that is no version satisfies neither. (An operator and its opposite make a specifier
    with the same values, so asking with either one gives the same answer.)"""
    if op in ("in", "not in"):
        return True
    variable = lhs if _is_variable(lhs) else rhs
    if variable.value not in _VERSION_VARIABLES:
        return True
    return not _is_variable(rhs) and not _is_specifier(op, rhs.value)


def _python_range(variable: str, op: str, text: str) -> PythonRange | None:
    """The Python releases for which ``variable op text`` holds; None when not a plain
    comparison of releases."""
    wildcard = text.endswith(".*")
    try:
        version = Version(text[:-2] if wildcard else text)
    except InvalidVersion:
        return None
    if version.is_prerelease or version.is_postrelease or version.local or version.epoch:
        return None
    value = release(version)
    if wildcard:
        if op not in ("==", "!="):
            return None
        matched: PythonRange = Range.between(value, _bump(version.release))
        return matched if op == "==" else matched.complement()
    if variable == "python_version":
        return _minor_range(op, tuple(version.release))
    if op == "~=":
        if len(version.release) < 2:
            return None
        return Range.between(value, _bump(version.release[:-1]))
    return _compare(op, value)


def python_specifier_range(specifiers: Iterable[Any]) -> PythonRange:
    """The Python releases a ``requires-python`` specifier set admits (specifiers that
    name pre-releases or local versions are left out: they do not narrow it)."""
    versions: PythonRange = Range.full()
    for specifier in specifiers:
        matched = _python_range(PYTHON, specifier.operator, specifier.version)
        if matched is not None:
            versions = versions.intersection(matched)
    return versions


def _compare(op: str, value: Release) -> PythonRange | None:
    if op == "<":
        return Range.at_most(value, inclusive=False)
    if op == "<=":
        return Range.at_most(value)
    if op == ">":
        return Range.at_least(value, inclusive=False)
    if op == ">=":
        return Range.at_least(value)
    if op == "==":
        return Range.singleton(value)
    if op == "!=":
        return Range.singleton(value).complement()
    return None


def _minor_range(op: str, parts: tuple[int, ...]) -> PythonRange | None:
    """``python_version`` is ``major.minor``: each comparison covers whole minor series."""
    major, minor = (*parts, 0)[:2]
    minor_start = release(f"{major}.{minor}")
    next_start = _next_minor(minor_start)
    exact = all(part == 0 for part in parts[2:])
    if op == "~=":
        if len(parts) != 2:
            return None
        return Range.between(minor_start, _bump((major,)))
    if op == "<":
        return Range.at_most(minor_start if exact else next_start, inclusive=False)
    if op == "<=":
        return Range.at_most(next_start, inclusive=False)
    if op == ">":
        return Range.at_least(next_start)
    if op == ">=":
        return Range.at_least(minor_start if exact else next_start)
    if op in ("==", "!="):
        matched: PythonRange = (
            Range.between(minor_start, next_start) if exact else Range.empty()
        )
        return matched if op == "==" else matched.complement()
    return None
