"""The wheel tags and marker values kiln works out for an interpreter are the ones that
interpreter's own pip reports; the tag rules for platforms this machine lacks (musl,
32-bit, macOS, Windows, PyPy, debug and free-threaded builds) follow the PEPs."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pythons import TARGET_VERSIONS, find_python, version_id

from kiln.core import interpreter_probe
from kiln.core.interpreter import inspect_interpreter
from kiln.core.platformtags import (
    ElfHeader,
    TagFacts,
    cpython_abis,
    generic_abis,
    platform_tags,
    supported_tags,
)

pytestmark = pytest.mark.usefixtures("isolated_cache")

#: Each Python version kiln targets, and the interpreter running the tests.
CASES = [*(version_id(v) for v in TARGET_VERSIONS), "running"]


def _python(case: str) -> str:
    if case == "running":
        return sys.executable
    major, minor = map(int, case.split("."))
    found = find_python((major, minor))
    if found is None:
        pytest.skip(f"no Python {case} interpreter on this machine")
    return found


def _pip_tags(python: str) -> list[str]:
    """The compatible tags ``pip debug --verbose`` lists, in pip's order: exactly kiln's
    order from pip 26.3 on (its ``packaging`` 26.3 put ``linux_<arch>`` first); an older pip
    ranks ``linux_<arch>`` after manylinux and musllinux, the one documented difference,
    undone here."""
    result = subprocess.run(
        [python, "-m", "pip", "debug", "--verbose"], capture_output=True, text=True,
        timeout=120, check=False,
    )
    if result.returncode != 0 or "Compatible tags:" not in result.stdout:
        pytest.skip(f"no pip in {python}")
    vendored = re.search(r"^\s*packaging==(\d+)\.(\d+)", result.stdout, re.MULTILINE)
    assert vendored is not None, result.stdout
    lines = result.stdout.split("Compatible tags:", 1)[1].splitlines()[1:]
    tags = [line.strip() for line in lines if line.startswith("  ")]
    if (int(vendored[1]), int(vendored[2])) < (26, 3):
        tags = _linux_first(tags)
    return tags


def _linux_first(tags: list[str]) -> list[str]:
    """Move ``linux_<arch>`` ahead of manylinux and musllinux in each run of tags of one
    interpreter and ABI, as ``packaging`` 26.3 and kiln rank them."""
    result: list[str] = []
    run: list[str] = []

    def flush() -> None:
        result.extend(t for t in run if "-linux_" in t)
        result.extend(t for t in run if "-linux_" not in t)
        run.clear()

    key: tuple[str, str] | None = None
    for tag in tags:
        interpreter, abi, platform = tag.split("-")
        current = (interpreter, abi) if platform != "any" else None
        if current != key:
            flush()
            key = current
        run.append(tag)
    flush()
    return result


@pytest.mark.parametrize("case", CASES)
def test_tags_equal_the_tags_of_the_interpreters_own_pip_in_order(case: str) -> None:
    python = _python(case)
    expected = _pip_tags(python)
    assert len(expected) > 100
    assert [str(tag) for tag in inspect_interpreter(python).tags] == expected


def test_the_running_interpreter_gets_the_tags_and_markers_of_its_probe() -> None:
    """One computation: what kiln resolves for by default is what probing the same
    interpreter gives, and, with ``packaging`` 26.3 or later installed, what its
    ``sys_tags()`` gives."""
    from packaging import __version__ as packaging_version
    from packaging.tags import sys_tags

    from kiln.core.resolver.environment import TargetEnvironment

    running = TargetEnvironment.current()
    probed = inspect_interpreter(sys.executable)
    assert list(running.tags) == list(probed.tags)
    assert dict(running.markers) == dict(probed.markers)
    if tuple(map(int, packaging_version.split(".")[:2])) >= (26, 3):
        assert list(running.tags) == list(sys_tags())
    if sys.platform.startswith("linux"):
        platforms = [tag.platform for tag in running.tags if tag.platform != "any"]
        assert platforms[0].startswith("linux_"), platforms[:3]


@pytest.mark.parametrize("case", CASES)
def test_marker_values_equal_those_of_the_interpreters_own_pip(case: str) -> None:
    python = _python(case)
    code = (
        "import json; from pip._vendor.packaging.markers import default_environment; "
        "print(json.dumps(default_environment()))"
    )
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"no pip in {python}")
    assert dict(inspect_interpreter(python).markers) == json.loads(result.stdout)


@pytest.mark.parametrize("version", [(2, 7), (3, 6), (3, 7)], ids=version_id)
def test_pythons_older_than_3_8_are_refused_with_a_clear_error(
    version: tuple[int, int],
) -> None:
    from kiln.errors import KilnError

    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version_id(version)} interpreter on this machine")
    with pytest.raises(KilnError) as caught:
        inspect_interpreter(python)
    error = caught.value
    if version == (2, 7):  # it cannot run the probe at all
        assert error.message == f"cannot query Python interpreter `{python}`"
        assert error.hint is not None
        assert error.hint.endswith("(kiln supports Python 3.8 and newer)")
    else:
        assert re.fullmatch(
            rf"Python interpreter `{re.escape(python)}` is Python {version_id(version)}\.\d+, "
            "which kiln does not support",
            error.message,
        )
        assert error.hint == "use Python 3.8 or newer"


# -- the probe's facts ---------------------------------------------------------------------


def test_the_probe_reads_the_elf_header_and_loader_of_the_interpreter() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("ELF binaries are a Linux matter")
    facts = interpreter_probe.elf_facts(os.path.realpath(sys.executable))
    assert facts is not None
    assert facts["class"] == (2 if sys.maxsize > 2**32 else 1)
    loader = facts["interpreter"]
    assert isinstance(loader, str) and Path(loader).exists()
    assert Path(loader).name.startswith("ld-")
    assert interpreter_probe.elf_facts(__file__) is None  # a text file is no ELF binary


def test_the_musl_version_is_asked_of_a_loader_named_like_musls(tmp_path: Path) -> None:
    # The musl loader run without arguments prints its version on standard error.
    loader = tmp_path / "ld-musl-x86_64.so.1"
    loader.write_text(
        "#!/bin/sh\nprintf 'musl libc (x86_64)\\nVersion 1.2.4\\nDynamic Program Loader\\n' >&2\n"
        "exit 1\n"
    )
    loader.chmod(loader.stat().st_mode | stat.S_IXUSR)
    assert interpreter_probe.musl_version(str(loader)) == [1, 2]
    other = tmp_path / "ld-linux-x86-64.so.2"
    other.write_text(loader.read_text())
    other.chmod(loader.stat().st_mode)
    assert interpreter_probe.musl_version(str(other)) is None  # not musl's: not run


# -- the tag rules, from facts of other platforms ------------------------------------------

LINUX = TagFacts(
    implementation="cpython", python_version=(3, 12), py_version_nodot="312", debug=False,
    free_threaded=False, ext_suffix=".cpython-312-x86_64-linux-gnu.so", system="Linux",
    platform="linux-x86_64", is_32bit=False, elf=ElfHeader(2, 1, 62, 0), glibc=(2, 28),
    musl=None, mac=None,
)


def test_linux_then_manylinux_from_the_glibc_down_to_2_5_with_the_legacy_names_on_x86() -> None:
    platforms = platform_tags(LINUX)
    expected = []
    for minor in range(28, 4, -1):
        expected.append(f"manylinux_2_{minor}_x86_64")
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}.get(minor)
        if legacy:
            expected.append(f"{legacy}_x86_64")
    assert platforms == ["linux_x86_64", *expected]


def test_manylinux_stops_at_2_17_on_other_architectures() -> None:
    facts = LINUX._replace(platform="linux-aarch64", elf=ElfHeader(2, 1, 183, 0), glibc=(2, 19))
    assert platform_tags(facts) == [
        "linux_aarch64", "manylinux_2_19_aarch64", "manylinux_2_18_aarch64",
        "manylinux_2_17_aarch64", "manylinux2014_aarch64",
    ]


def test_musl_gets_musllinux_down_to_1_0_and_no_manylinux() -> None:
    facts = LINUX._replace(glibc=None, musl=(1, 2))
    assert platform_tags(facts) == [
        "linux_x86_64", "musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64",
    ]


def test_a_32_bit_userland_on_a_64_bit_kernel_gets_i686_tags_only_for_an_i686_binary() -> None:
    i686 = LINUX._replace(is_32bit=True, elf=ElfHeader(1, 1, 3, 0), glibc=(2, 6))
    assert platform_tags(i686) == [
        "linux_i686", "manylinux_2_6_i686", "manylinux_2_5_i686", "manylinux1_i686",
    ]
    x32 = i686._replace(elf=ElfHeader(1, 1, 62, 0))  # a 32-bit x86-64 binary: not i686
    assert platform_tags(x32) == ["linux_i686"]


def test_32_bit_arm_on_aarch64_takes_armv7l_wheels_only_when_hard_float() -> None:
    hard_float = ElfHeader(1, 1, 40, 0x05000000 | 0x400)
    facts = LINUX._replace(platform="linux-aarch64", is_32bit=True, elf=hard_float,
                    glibc=(2, 17))
    assert platform_tags(facts) == [
        "linux_armv8l", "linux_armv7l",
        "manylinux_2_17_armv8l", "manylinux2014_armv8l",
        "manylinux_2_17_armv7l", "manylinux2014_armv7l",
    ]
    soft_float = facts._replace(elf=ElfHeader(1, 1, 40, 0x05000000))
    assert platform_tags(soft_float) == ["linux_armv8l", "linux_armv7l"]


def test_macos_platforms_count_down_from_the_reported_version() -> None:
    facts = LINUX._replace(system="Darwin", platform="macosx-14.0-arm64", glibc=None, elf=None,
                    mac=((14, 2), "arm64"))
    platforms = platform_tags(facts)
    assert platforms[:3] == ["macosx_14_0_arm64", "macosx_14_0_universal2", "macosx_13_0_arm64"]
    assert "macosx_10_9_universal2" in platforms
    assert not any(p.startswith("macosx_10_") and p.endswith("_arm64") for p in platforms)


def test_windows_takes_the_sysconfig_platform() -> None:
    facts = LINUX._replace(system="Windows", platform="win-amd64", glibc=None, elf=None,
                    ext_suffix=".cp312-win_amd64.pyd")
    tags = [str(tag) for tag in supported_tags(facts)]
    assert tags[:3] == ["cp312-cp312-win_amd64", "cp312-abi3-win_amd64", "cp312-none-win_amd64"]
    assert tags[-1] == "py30-none-any"


def test_debug_and_free_threaded_builds_have_their_abi_flags() -> None:
    assert cpython_abis(LINUX._replace(debug=True)) == ["cp312d", "cp312"]
    threaded = LINUX._replace(python_version=(3, 13), py_version_nodot="313",
                       free_threaded=True)
    assert cpython_abis(threaded) == ["cp313t"]
    assert not any(tag.abi == "abi3" for tag in supported_tags(threaded))


def test_pypy_takes_its_abi_from_the_extension_suffix() -> None:
    pypy = LINUX._replace(implementation="pypy", python_version=(3, 10), py_version_nodot="310",
                   ext_suffix=".pypy310-pp73-x86_64-linux-gnu.so")
    assert generic_abis(pypy) == ["pypy310_pp73"]
    tags = [str(tag) for tag in supported_tags(pypy)]
    assert tags[:2] == [
        "pp310-pypy310_pp73-linux_x86_64", "pp310-pypy310_pp73-manylinux_2_28_x86_64"
    ]
    assert "pp310-none-linux_x86_64" in tags
    assert "pp3-none-any" in tags
    assert not any(tag.startswith("cp") for tag in tags)


def test_facts_survive_the_cache_round_trip() -> None:
    for facts in (LINUX, LINUX._replace(mac=((11, 0), "x86_64"), elf=None, musl=(1, 1))):
        assert TagFacts.from_json(json.loads(json.dumps(facts.to_json()))) == facts
