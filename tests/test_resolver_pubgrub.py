"""The classic PubGrub scenarios, with their explanations, through the Python provider."""

from __future__ import annotations

import pytest
from resolver_universe import Universe, solve

from kiln.core.resolver.errors import ResolutionError


def explanation(universe: Universe, *requirements: str) -> str:
    with pytest.raises(ResolutionError) as info:
        solve(universe, *requirements)
    return info.value.explanation


def test_no_conflicts_picks_newest_compatible_versions() -> None:
    u = Universe()
    u.add("foo", "1.0.0", ["bar>=1,<2"])
    u.add("bar", "1.0.0")
    u.add("bar", "2.0.0")
    assert solve(u, "foo>=1,<2") == {"foo": "1.0.0", "bar": "1.0.0"}


def test_avoiding_conflict_during_decision_making() -> None:
    u = Universe()
    u.add("foo", "1.0.0")
    u.add("foo", "1.1.0", ["bar>=2,<3"])
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        u.add("bar", version)
    assert solve(u, "foo>=1,<2", "bar>=1,<2") == {"foo": "1.0.0", "bar": "1.1.0"}


def test_performing_conflict_resolution() -> None:
    u = Universe()
    u.add("foo", "1.0.0")
    u.add("foo", "2.0.0", ["bar>=1,<2"])
    u.add("bar", "1.0.0", ["foo>=1,<2"])
    assert solve(u, "foo>=1") == {"foo": "1.0.0"}


def test_conflict_resolution_with_a_partial_satisfier() -> None:
    u = Universe()
    u.add("foo", "1.0.0")
    u.add("foo", "1.1.0", ["left>=1,<2", "right>=1,<2"])
    u.add("left", "1.0.0", ["shared>=1"])
    u.add("right", "1.0.0", ["shared<2"])
    u.add("shared", "2.0.0")
    u.add("shared", "1.0.0", ["target>=1,<2"])
    u.add("target", "2.0.0")
    u.add("target", "1.0.0")
    assert solve(u, "foo>=1,<2", "target>=2,<3") == {"foo": "1.0.0", "target": "2.0.0"}


def test_linear_error_reporting() -> None:
    u = Universe()
    u.add("foo", "1.0.0", ["bar>=2,<3"])
    u.add("bar", "2.0.0", ["baz>=3,<4"])
    u.add("baz", "1.0.0")
    u.add("baz", "3.0.0")
    assert explanation(u, "foo>=1,<2", "baz>=1,<2") == (
        "Because foo==1.0.0 depends on bar>=2,<3 and bar==2.0.0 depends on baz>=3,<4, "
        "we can conclude that foo==1.0.0 depends on baz>=3,<4.\n"
        "And because you require foo>=1,<2 and you require baz>=1,<2, "
        "we can conclude that your requirements are unsatisfiable."
    )


def test_branching_error_reporting() -> None:
    u = Universe()
    u.add("foo", "1.0.0", ["a>=1,<2", "b>=1,<2"])
    u.add("foo", "1.1.0", ["x>=1,<2", "y>=1,<2"])
    u.add("a", "1.0.0", ["b>=2,<3"])
    u.add("b", "1.0.0")
    u.add("b", "2.0.0")
    u.add("x", "1.0.0", ["y>=2,<3"])
    u.add("y", "1.0.0")
    u.add("y", "2.0.0")
    assert explanation(u, "foo>=1,<2") == (
        "Because a==1.0.0 depends on b>=2,<3 and foo==1.0.0 depends on a>=1,<2, "
        "we can conclude that foo==1.0.0 depends on b>=2,<3.\n"
        "And because foo==1.0.0 depends on b>=1,<2, "
        "we can conclude that foo==1.0.0 cannot be used. (1)\n"
        "\n"
        "Because x==1.0.0 depends on y>=2,<3 and foo==1.1.0 depends on x>=1,<2, "
        "we can conclude that foo==1.1.0 depends on y>=2,<3.\n"
        "And because foo==1.1.0 depends on y>=1,<2, "
        "we can conclude that foo==1.1.0 cannot be used.\n"
        "And because foo==1.0.0 cannot be used (1), "
        "we can conclude that all versions of foo cannot be used.\n"
        "And because you require foo>=1,<2, "
        "we can conclude that your requirements are unsatisfiable."
    )
