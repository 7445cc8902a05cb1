"""Resolver scenarios from data files: ``tests/resolver_cases/*.json``.

Each file describes a small universe of packages, the root requirements, the target
environment, and the exact expected outcome: either the pins of every resolved package or the
explanation text of an unsatisfiable resolution. Schema::

    {
      "description": "what the case shows",
      "packages": {
        "<name>": [
          {"version": "1.0", "requires": ["dep>=1; extra == 'x'"], "extras": ["x"],
           "requires_python": ">=3.10", "file_requires_python": ">=3.10",
           "yanked": "reason", "tag": "py3-none-any"}
        ]
      },
      "requirements": ["<name>..."],
      "constraints": ["<name>..."],            # optional
      "prerelease": "if-necessary",            # optional
      "environment": {"python": "3.12", "platform": "linux"}
                  or {"python": "3.9", "universal": true},
      "expected": {"pins": {"<name>": "<version>"}}
              or {"lines": ["<name>==<version> ; <marker>"]}   # universal resolutions
              or {"explanation": ["line 1", "line 2"]}
    }

A universal case resolves for every environment from its Python up; its pins are written as
``kiln pip compile --universal`` writes them.

All keys of a package version except ``version`` are optional; ``tag: null`` means an sdist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version
from resolver_universe import Universe, pins

from kiln.core.resolver.compile import CompileOptions, render_requirements
from kiln.core.resolver.driver import resolve
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.errors import ResolutionError
from kiln.core.resolver.universal import resolve_universal

CASES = Path(__file__).parent / "resolver_cases"
CASE_KEYS = {"description", "packages", "requirements", "constraints", "prerelease",
             "environment", "expected"}
VERSION_KEYS = {"version", "requires", "extras", "requires_python", "file_requires_python",
                "yanked", "tag"}


def load_case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert set(case) <= CASE_KEYS, f"{path.name}: unknown keys {set(case) - CASE_KEYS}"
    assert {"description", "packages", "requirements", "environment", "expected"} <= set(case)
    assert len(case["expected"]) == 1
    assert set(case["expected"]) <= {"pins", "lines", "explanation"}
    return case


def build_universe(case: dict[str, Any]) -> Universe:
    universe = Universe()
    for name, versions in case["packages"].items():
        for entry in versions:
            assert set(entry) <= VERSION_KEYS, f"{name}: unknown keys {set(entry) - VERSION_KEYS}"
            universe.add(
                name,
                entry["version"],
                entry.get("requires", ()),
                tag=entry.get("tag", "py3-none-any"),
                requires_python=entry.get("requires_python"),
                file_requires_python=entry.get("file_requires_python"),
                yanked=entry.get("yanked"),
                extras=entry.get("extras", ()),
            )
    return universe


def run_case(case: dict[str, Any]) -> dict[str, str] | list[str] | str:
    """The pins of a successful resolution, or the explanation of a failed one."""
    environment = case["environment"]
    if environment.get("universal"):
        return run_universal_case(case)
    target = TargetEnvironment.for_target(environment["python"], environment["platform"])
    try:
        resolution = resolve(
            [Requirement(r) for r in case["requirements"]],
            build_universe(case),
            env=target,
            constraints=[Requirement(c) for c in case.get("constraints", ())],
            prerelease=case.get("prerelease", "if-necessary"),
            concurrency=1,
        )
    except ResolutionError as error:
        return error.explanation
    return pins(resolution)


def run_universal_case(case: dict[str, Any]) -> list[str] | str:
    try:
        resolution = resolve_universal(
            [Requirement(r) for r in case["requirements"]],
            build_universe(case),
            python=Version(case["environment"]["python"]),
            markers={},
            constraints=[Requirement(c) for c in case.get("constraints", ())],
            prerelease=case.get("prerelease", "if-necessary"),
            concurrency=1,
        )
    except ResolutionError as error:
        return error.explanation
    return render_requirements(
        resolution, CompileOptions(no_header=True, no_annotate=True)
    ).splitlines()


CASE_FILES = sorted(CASES.glob("*.json"))


def test_the_case_collection_covers_success_and_failure() -> None:
    outcomes = [next(iter(load_case(path)["expected"])) for path in CASE_FILES]
    assert len(outcomes) >= 15
    assert outcomes.count("explanation") >= 6


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_resolver_case_outcome_matches_exactly(path: Path) -> None:
    case = load_case(path)
    outcome = run_case(case)
    expected = case["expected"]
    if "pins" in expected:
        assert outcome == expected["pins"], case["description"]
    elif "lines" in expected:
        assert outcome == expected["lines"], case["description"]
    else:
        assert outcome == "\n".join(expected["explanation"]), case["description"]
