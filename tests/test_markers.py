"""Marker sets: and, or, not, implication and disjointness agree with packaging's own
evaluation, exactly (never by sampling), and the text written for a set means the same
environments."""

from __future__ import annotations

import itertools
import re

import pytest
from packaging.markers import Marker, default_environment

from kiln.core.markers import (
    MarkerSet,
    extras_compared,
    marker_set,
    python_at_least,
    release,
)

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


PRERELEASE_COMPARISONS = [
    "python_version < '3.10rc1'",
    "python_version >= '3.9.5rc1'",
    "python_version == '3.9b1'",
    "python_version != '3.9b1'",
    "python_version ~= '3.9b1'",
    "python_version > '3.9.post1'",
    "python_full_version == '3.9b1'",
    "python_full_version < '3.10.0rc1'",
    "python_full_version >= '3.9.0b1'",
    "python_full_version > '3.9.7.post1'",
]


@pytest.mark.parametrize("text", PRERELEASE_COMPARISONS)
def test_comparisons_with_a_prerelease_are_written_true_where_they_hold(text: str) -> None:
    marker = marker_set(Marker(text))
    written, negation = marker.text(), (~marker).text()
    for environment in ENVIRONMENTS:
        assert holds(written, environment) == Marker(text).evaluate(environment), written
        assert holds(negation, environment) != Marker(text).evaluate(environment), negation


def test_a_comparison_with_a_prerelease_cannot_hold_far_from_its_release() -> None:
    """Pythons are known by their release here; a pre-release sits just below its release,
    so a comparison with one goes the way the releases compare everywhere else."""
    from_310, from_38 = python_at_least(release("3.10")), python_at_least(release("3.8"))
    for never in ("python_full_version == '3.9b1'", "python_full_version < '3.10.0rc1'",
                  "'3.9b1' == python_full_version", "python_version <= '3.10b2'"):
        assert (marker_set(Marker(never)) & from_310).is_false(), never
        assert not (marker_set(Marker(never)) & from_38).is_false(), never
    always = marker_set(Marker("python_full_version >= '3.9b1'"))
    assert (always & from_310).text(from_310) == ""
    assert (~always & from_310).is_false()
    kept = marker_set(Marker("python_full_version == '3.10.0b1'"))
    assert (kept & from_38).text(from_38) == 'python_full_version == "3.10.0b1"'


# -- negation as marker text, disjointness (these replaced sources/negate.py and overlap.py) --

SOURCE_ENVIRONMENTS = [
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
def test_the_negation_is_written_as_a_marker_true_exactly_where_the_marker_is_false(
    text: str,
) -> None:
    marker = Marker(text)
    negated = (~marker_set(marker)).pep508()
    assert negated  # neither unwritable (None) nor "everywhere" ("")
    for environment in SOURCE_ENVIRONMENTS:
        assert Marker(negated).evaluate(environment) is not marker.evaluate(environment), (
            negated, environment["sys_platform"], environment["python_full_version"]
        )


def test_the_negation_of_arbitrary_equality_cannot_be_written() -> None:
    negation = ~marker_set(Marker("platform_release === 'x'"))
    assert negation.pep508() is None
    assert not negation.is_false()
    assert negation.text() == 'not (platform_release === "x")'  # text() still says something


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("sys_platform == 'linux'", "sys_platform != 'linux'"),
        ("python_version < '3.10'", "python_version >= '3.10'"),
        ("python_full_version < '3.10.2'", "python_full_version >= '3.10.2'"),
        ("sys_platform == 'win32' and python_version >= '3.12'", "python_version < '3.12'"),
        ("platform_system == 'Linux'", "sys_platform == 'win32'"),
        ("'arm' in platform_machine", "'arm' not in platform_machine"),
        ("platform_version < 'b'", "platform_version >= 'b'"),
        ("platform_release >= '5'", "platform_release < '5'"),
        ("platform_release == '5.1'", "platform_release != '5.1'"),
    ],
)
def test_disjoint_markers_have_no_environment_in_common(first: str, second: str) -> None:
    a, b = marker_set(Marker(first)), marker_set(Marker(second))
    assert a.disjoint(b) and b.disjoint(a)
    assert not a.overlaps(b)
    assert (a & b).is_false()


def test_overlapping_markers_share_the_environments_where_both_hold() -> None:
    first = Marker("sys_platform == 'linux' or python_version >= '3.12'")
    second = Marker("sys_platform == 'darwin'")
    both = marker_set(first) & marker_set(second)
    assert marker_set(first).overlaps(marker_set(second))
    assert both.text() == 'python_full_version >= "3.12" and sys_platform == "darwin"'
    for environment in SOURCE_ENVIRONMENTS:
        in_both = first.evaluate(environment) and second.evaluate(environment)
        assert Marker(both.text()).evaluate(environment) == in_both
        assert in_both == (
            environment["sys_platform"] == "darwin"
            and environment["python_version"] in ("3.12", "3.13")
        )


THREE_VARIABLES_LINUX = (
    "sys_platform == 'linux' and platform_machine == 'x86_64' and python_version >= '3.9'"
)
#: Names 15 platforms, 15 machines and 101 Python releases: the sampling that source lists used
#: to do tried every named value (and neighbouring versions) in combination and gave up, saying
#: "no overlap", above 20,000 combinations.
THREE_VARIABLES_EXCLUSIONS = " and ".join(
    [f"sys_platform != '{name}'" for name in (
        "darwin", "win32", "cygwin", "freebsd", "openbsd", "netbsd", "sunos5", "aix",
        "emscripten", "wasi", "android", "ios", "haiku", "msys",
    )]
    + [f"platform_machine != '{name}'" for name in (
        "aarch64", "arm64", "armv7l", "i686", "ppc64le", "s390x", "riscv64", "AMD64", "x86",
        "loongarch64", "mips64", "sparc64", "ARM64", "armv6l",
    )]
    + [f"python_full_version != '3.{minor}.{patch}'"
       for minor in range(9, 14) for patch in range(0, 40, 2)]
)


def _combinations(*texts: str) -> int:
    """How many combinations of the values the markers name (plus one other value for each
    variable) exist: the environments a sampler would have to try."""
    named: dict[str, set[str]] = {}
    for text in texts:
        for name, value in re.findall(r"(\w+) [!=<>]=? '([^']*)'", text):
            named.setdefault(name.replace("python_version", "python_full_version"), set()).add(
                value
            )
    total = 1
    for values in named.values():
        total *= len(values) + 1
    return total


def test_markers_over_three_variables_that_overlap_are_found_to_overlap_in_a_large_space() -> None:
    assert _combinations(THREE_VARIABLES_LINUX, THREE_VARIABLES_EXCLUSIONS) > 20_000
    first = marker_set(Marker(THREE_VARIABLES_LINUX))
    second = marker_set(Marker(THREE_VARIABLES_EXCLUSIONS))
    assert first.overlaps(second) and not second.disjoint(first)
    both = first & second
    witness = {
        **{k: str(v) for k, v in default_environment().items()},
        "sys_platform": "linux", "platform_machine": "x86_64",
        "python_version": "3.10", "python_full_version": "3.10.1",
    }
    assert Marker(THREE_VARIABLES_LINUX).evaluate(witness)
    assert Marker(THREE_VARIABLES_EXCLUSIONS).evaluate(witness)
    assert Marker(both.text()).evaluate(witness)
    assert Marker(both.text()).evaluate({**witness, "python_full_version": "3.10.2"}) is False
    assert both.alternatives()[0] == (
        'python_full_version > "3.9" and python_full_version < "3.9.2" and '
        'platform_machine == "x86_64" and sys_platform == "linux"'
    )


def test_disjointness_is_exact_where_the_space_is_too_large_to_sample() -> None:
    """Five variables, each compared with 49 values: 50**5 combinations to sample, and the
    one region where both markers hold is still found; moving it out makes them disjoint."""
    variables = ["sys_platform", "platform_machine", "os_name", "implementation_name",
                 "platform_python_implementation"]
    excluded = " and ".join(
        f"{variable} != 'v{number}'" for variable in variables for number in range(1, 50)
    )
    assert _combinations(excluded) == 50**5  # 312,500,000 environments to sample
    only = " and ".join(f"{variable} == 'v0'" for variable in variables)
    assert marker_set(Marker(excluded)).overlaps(marker_set(Marker(only)))
    moved = only.replace("os_name == 'v0'", "os_name == 'v7'")
    assert marker_set(Marker(excluded)).disjoint(marker_set(Marker(moved)))


def test_comparisons_that_cannot_be_related_are_never_called_disjoint() -> None:
    arm = marker_set(Marker("'arm' in platform_machine"))
    x86 = marker_set(Marker("platform_machine == 'x86_64'"))
    assert not arm.disjoint(x86)  # in truth they are; the atom is independent of the rest
    assert (arm & x86).opaque_comparisons() == ['"arm" in platform_machine']
    newer = marker_set(Marker("platform_release >= '6'"))
    assert not marker_set(Marker("platform_release >= '5'")).disjoint(newer)


def test_version_comparisons_of_platform_release_follow_packaging() -> None:
    """packaging compares ``platform_release`` as a version when it can: ``== '5.1'`` holds for
    5.1.0, and a release that is no version satisfies neither a comparison nor its opposite."""
    short, full = Marker("platform_release == '5.1'"), Marker("platform_release == '5.1.0'")
    assert short.evaluate({"platform_release": "5.1.0"})
    assert full.evaluate({"platform_release": "5.1.0"})
    assert marker_set(short).overlaps(marker_set(full))
    newer = Marker("platform_release >= '5'")
    opposite = Marker("platform_release < '5'")
    generic = {"platform_release": "5.15.0-generic"}
    assert not newer.evaluate(generic) and not opposite.evaluate(generic)
    either = marker_set(newer) | marker_set(opposite)
    assert not either.is_true()
    assert (marker_set(newer) | ~marker_set(newer)).is_true()
    assert (~marker_set(newer)).pep508() == 'platform_release < "5"'  # leaves out "generic"
    assert (~either).pep508() is None  # only "not a version" is left: PEP 508 cannot say it
    # a value that makes no specifier is compared as a string, and the two sides are exact
    assert (marker_set(Marker("platform_release != '5.15.0-generic'"))
            | marker_set(Marker("platform_release == '5.15.0-generic'"))).is_true()


def test_the_extras_a_marker_compares_with_are_listed() -> None:
    marker = Marker("extra == 'CPU' or (sys_platform == 'linux' and 'gpu' != extra)")
    assert extras_compared(marker) == {"cpu", "gpu"}
    assert extras_compared(Marker("sys_platform == 'linux'")) == frozenset()
