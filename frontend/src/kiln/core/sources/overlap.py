"""Do two PEP 508 markers both hold in some environment?

The check samples environments: every value a marker compares a variable with, plus its
neighbours for version variables, is tried in combination. ``python_version`` is derived from
``python_full_version`` so the two never disagree. It finds every overlap between markers built
from the usual comparisons; variables are otherwise treated as independent.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping

from packaging.markers import Marker, default_environment
from packaging.version import InvalidVersion, Version

_ATOM = re.compile(
    r'(?P<var>[a-z_]+)\s*(?P<op>===|==|!=|<=|>=|~=|<|>|not in|in)\s*"(?P<value>[^"]*)"'
    r'|"(?P<lvalue>[^"]*)"\s*(?P<lop>===|==|!=|<=|>=|~=|<|>|not in|in)\s*(?P<lvar>[a-z_]+)'
)
_PYTHON = ("python_version", "python_full_version")
_VERSION_VARS = frozenset({"implementation_version", "platform_release"})
#: Upper bound on the number of sampled environments.
_MAX_SAMPLES = 20_000


def overlap_witness(first: Marker, second: Marker) -> Mapping[str, str] | None:
    """An environment (only the variables the markers use) where both hold, else None."""
    values = _candidate_values(first, second)
    names = sorted(values)
    if _count(values) > _MAX_SAMPLES:
        return None
    base = {key: str(value) for key, value in default_environment().items()}
    for combination in itertools.product(*(values[name] for name in names)):
        chosen = dict(zip(names, combination))
        environment = {**base, **_expand(chosen)}
        if _holds(first, environment) and _holds(second, environment):
            return {key: environment[key] for key in _used(first, second)}
    return None


def _holds(marker: Marker, environment: dict[str, str]) -> bool:
    try:
        return marker.evaluate(environment)
    except Exception:  # an undefined comparison (e.g. a non-version with `<`)
        return False


def _used(first: Marker, second: Marker) -> list[str]:
    names: set[str] = set()
    for variable, _op, _value in _atoms(first, second):
        names.add(variable)
    return sorted(names)


def _atoms(*markers: Marker) -> Iterator[tuple[str, str, str]]:
    for marker in markers:
        for match in _ATOM.finditer(str(marker)):
            if match.group("var"):
                yield match.group("var"), match.group("op"), match.group("value")
            else:
                yield match.group("lvar"), match.group("lop"), match.group("lvalue")


def _candidate_values(first: Marker, second: Marker) -> dict[str, list[str]]:
    samples: dict[str, set[str]] = {}
    for variable, op, value in _atoms(first, second):
        key = "python_full_version" if variable in _PYTHON else variable
        bucket = samples.setdefault(key, set())
        if key == "python_full_version" or key in _VERSION_VARS:
            bucket.update(_version_neighbours(value))
        elif op in ("in", "not in"):
            bucket.add(value)
            bucket.update(part for part in re.split(r"[\s,]+", value) if part)
        else:
            bucket.add(value)
        bucket.add("\x00other")
    return {key: sorted(bucket) for key, bucket in samples.items()}


def _version_neighbours(value: str) -> set[str]:
    try:
        version = Version(value.rstrip(".*"))
    except InvalidVersion:
        return {value}
    release = list(version.release) + [0] * (3 - len(version.release))
    found = {".".join(map(str, release[:3]))}
    for position in range(len(release)):
        for delta in (-1, 1):
            bumped = list(release)
            bumped[position] = max(0, bumped[position] + delta)
            for later in range(position + 1, len(bumped)):
                bumped[later] = 0 if delta > 0 else 99
            found.add(".".join(map(str, bumped[:3])))
    return found


def _expand(chosen: Mapping[str, str]) -> dict[str, str]:
    environment = dict(chosen)
    full = chosen.get("python_full_version")
    if full is not None:
        if full == "\x00other":
            full = "0.0.0"
            environment["python_full_version"] = full
        environment["python_version"] = ".".join(full.split(".")[:2])
    return environment


def _count(values: Mapping[str, list[str]]) -> int:
    total = 1
    for options in values.values():
        total *= len(options)
    return total
