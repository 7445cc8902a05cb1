"""Marker sets: and, or, not and implication agree with packaging's own evaluation, and the
text written for a set means the same environments."""

from __future__ import annotations

import itertools

import pytest
from packaging.markers import Marker, default_environment

from kiln.core.markers import MarkerSet, marker_set, python_at_least, release

PLATFORMS = [
    ("linux", "Linux", "x86_64"),
    ("linux", "Linux", "aarch64"),
    ("darwin", "Darwin", "arm64"),
    ("win32", "Windows", "AMD64"),
    ("cygwin", "CYGWIN_NT-10.0", "x86_64"),
]
PYTHONS = ["3.7.9", "3.8.1", "3.9.0", "3.9.7", "3.10.4", "3.11.0", "3.12.2", "3.13.0", "4.0.0"]
ENVIRONMENTS = [
    {
        **{k: str(v) for k, v in default_environment().items()},
        "sys_platform": platform,
        "platform_system": system,
        "platform_machine": machine,
        "python_version": ".".join(full.split(".")[:2]),
        "python_full_version": full,
        "implementation_name": implementation,
        "extra": "",
    }
    for (platform, system, machine), full, implementation in itertools.product(
        PLATFORMS, PYTHONS, ["cpython", "pypy"]
    )
]

MARKERS = [
    "sys_platform == 'linux'",
    "sys_platform != 'win32'",
    "platform_system == 'Windows'",
    "platform_system != 'Darwin' and python_version >= '3.10'",
    "python_version < '3.9'",
    "python_version <= '3.9'",
    "python_version > '3.9'",
    "python_version == '3.10'",
    "python_version != '3.10'",
    "python_version ~= '3.9'",
    "python_version < '3.9.2'",
    "python_full_version < '3.9.7'",
    "python_full_version >= '3.9.7'",
    "python_full_version == '3.9.*'",
    "python_full_version ~= '3.9.1'",
    "'3.10' > python_version",
    "sys_platform == 'darwin' or (python_version < '3.9' and sys_platform != 'win32')",
    "implementation_name == 'pypy' and python_version >= '3.10' or sys_platform == 'win32'",
    "'arm' in platform_machine",
    "python_version in '2.7 3.8 3.10'",
    "python_version not in '3.9 3.11'",
    "platform_machine in 'x86_64 AMD64'",
    "(sys_platform == 'linux' or sys_platform == 'darwin') and platform_machine != 'aarch64'",
]


def holds(text: str, environment: dict[str, str]) -> bool:
    return text == "" or Marker(text).evaluate(environment)


@pytest.mark.parametrize("text", MARKERS)
def test_the_text_of_a_marker_set_holds_exactly_where_the_marker_does(text: str) -> None:
    written = marker_set(Marker(text)).text()
    for environment in ENVIRONMENTS:
        assert holds(written, environment) == Marker(text).evaluate(environment), (
            written, environment["sys_platform"], environment["python_full_version"]
        )


@pytest.mark.parametrize("text", MARKERS)
def test_the_negation_holds_exactly_where_the_marker_does_not(text: str) -> None:
    written = (~marker_set(Marker(text))).text()
    for environment in ENVIRONMENTS:
        assert holds(written, environment) != Marker(text).evaluate(environment), written


@pytest.mark.parametrize(("left", "right"), list(itertools.combinations(MARKERS[::2], 2)))
def test_and_or_and_implication_agree_with_evaluation(left: str, right: str) -> None:
    a, b = marker_set(Marker(left)), marker_set(Marker(right))
    both, either = (a & b).text(), (a | b).text()
    truths = []
    for environment in ENVIRONMENTS:
        x, y = Marker(left).evaluate(environment), Marker(right).evaluate(environment)
        assert holds(both, environment) == (x and y), both
        assert holds(either, environment) == (x or y), either
        truths.append((x, y))
    if a.implies(b):  # implication is exact for these variables: no environment refutes it
        assert all(y for x, y in truths if x)
    if all(y for x, y in truths if x) and not any("in" in t.split() for t in (left, right)):
        assert a.implies(b), (left, right)


def test_complementary_parts_unite_to_every_environment() -> None:
    windows = marker_set(Marker("sys_platform == 'win32'"))
    old = marker_set(Marker("python_version < '3.10'"))
    assert (windows | ~windows).is_true()
    assert ((windows & old) | (windows & ~old) | ~windows).is_true()
    assert (windows & ~windows).is_false()
    assert ((old | (~old & windows)).text()
            == 'python_full_version < "3.10" or sys_platform == "win32"')
    assert ((old & windows) | ~windows).text() == (
        'python_full_version < "3.10" or sys_platform != "win32"'
    )
    assert (old & ~windows | (~old & windows)).text() == (
        '(python_full_version < "3.10" and sys_platform != "win32") or '
        '(python_full_version >= "3.10" and sys_platform == "win32")'
    )


def test_platform_system_and_sys_platform_are_known_to_agree() -> None:
    assert marker_set(Marker("platform_system == 'Windows'")).equivalent(
        marker_set(Marker("sys_platform == 'win32'"))
    )
    assert marker_set(
        Marker("platform_system == 'Darwin' and sys_platform == 'linux'")
    ).is_false()


def test_extra_is_decided_when_the_marker_is_read() -> None:
    marker = Marker("extra == 'Socks' and sys_platform != 'win32'")
    assert marker_set(marker, "socks").text() == 'sys_platform != "win32"'
    assert marker_set(marker, "").is_false()
    assert marker_set(marker, "other").is_false()


def test_text_leaves_out_what_the_surrounding_environments_already_say() -> None:
    floor = python_at_least(release("3.9"))
    assert marker_set(Marker("python_version >= '3.9'")).text(floor) == ""
    assert marker_set(Marker("python_version < '3.11'")).text(floor) == (
        'python_full_version < "3.11"'
    )
    both = marker_set(Marker("python_version >= '3.9' and python_version < '3.11'"))
    assert both.text() == 'python_full_version >= "3.9" and python_full_version < "3.11"'
    assert both.text(floor) == 'python_full_version < "3.11"'
    assert marker_set(Marker("python_version == '3.9'")).text() == (
        'python_full_version == "3.9.*"'
    )
    windows = marker_set(Marker("sys_platform == 'win32'"))
    fork = floor & windows
    assert (windows & marker_set(Marker("python_version < '3.12'"))).text(fork) == (
        'python_full_version < "3.12"'
    )


def test_markers_outside_the_python_floor_vanish() -> None:
    floor = python_at_least(release("3.11"))
    assert (marker_set(Marker("python_version < '3.10'")) & floor).is_false()
    assert MarkerSet.true().text() == ""
