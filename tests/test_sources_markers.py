"""Marker helpers behind source lists: negation and overlap detection."""

from __future__ import annotations

import itertools

import pytest
from packaging.markers import Marker, default_environment

from kiln.core.sources.negate import negate
from kiln.core.sources.overlap import overlap_witness

ENVIRONMENTS = [
    {
        **{k: str(v) for k, v in default_environment().items()},
        "sys_platform": platform,
        "python_version": ".".join(full.split(".")[:2]),
        "python_full_version": full,
        "extra": "",
    }
    for platform, full in itertools.product(
        ["linux", "darwin", "win32"], ["3.8.1", "3.9.0", "3.10.4", "3.11.0", "3.12.2", "3.13.0"]
    )
]


@pytest.mark.parametrize(
    "text",
    [
        "sys_platform == 'linux'",
        "sys_platform == 'linux' and python_version >= '3.10'",
        "sys_platform == 'darwin' or (python_version < '3.9' and sys_platform != 'win32')",
        "python_full_version ~= '3.10.1'",
        "'linux' in sys_platform",
        "sys_platform in 'linux darwin'",
        "'3.11' > python_version",
    ],
)
def test_negation_is_true_exactly_where_the_marker_is_false(text: str):
    marker = Marker(text)
    negated = negate(marker)
    assert negated is not None
    for environment in ENVIRONMENTS:
        assert negated.evaluate(environment) is not marker.evaluate(environment), environment


def test_arbitrary_equality_cannot_be_negated():
    assert negate(Marker("platform_release === 'x'")) is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("sys_platform == 'linux'", "sys_platform != 'linux'"),
        ("python_version < '3.10'", "python_version >= '3.10'"),
        ("python_full_version < '3.10.2'", "python_full_version >= '3.10.2'"),
        ("sys_platform == 'win32' and python_version >= '3.12'", "python_version < '3.12'"),
    ],
)
def test_disjoint_markers_have_no_overlap(first: str, second: str):
    assert overlap_witness(Marker(first), Marker(second)) is None


def test_overlapping_markers_come_with_an_environment_where_both_hold():
    first = Marker("sys_platform == 'linux' or python_version >= '3.12'")
    second = Marker("sys_platform == 'darwin'")
    witness = overlap_witness(first, second)
    assert witness is not None
    assert witness["sys_platform"] == "darwin"
    assert witness["python_version"] >= "3.12"
