"""Hostile requirement input (issue #17) ends in a one-line error, never in a traceback, a
hang or a weakened check, through the real `kiln pip` CLI with real files and a loopback index.

What the tests prove:

1. Hash checking trusts only strong hashes: a requirement whose `--hash` values are all `md5`
   is refused naming the file, line and algorithm (with `--require-hashes` and without it,
   as any hash turns checking on); an `md5` next to a sha256 is ignored, as uv does; an
   archive that must be built is checked against the required sha256 before its build
   backend runs, whatever hashes (e.g. an `md5` fragment) the index or URL gives.
2. Requirement and constraint files are read with a bound: `/dev/zero`, `/dev/urandom`, a
   file over 16 MiB, a line over 1 MiB, non-UTF-8 text, 65 levels of `-r`, or a
   non-UTF-8 `pyproject.toml`, each give one line naming the file, within a memory limit;
   a line with half a million blanks is read in linear time.
3. A URL with a port above 65535 in `--index-url`, `--extra-index-url`,
   `--find-links`, a requirements file or a direct reference, or listed on a find-links
   page, is named (without its password) with what is wrong.
4. A requirement with 20,000 extras or version specifiers resolves with work that grows
   linearly with their number (counted in Python calls, which cannot flake); one with more
   than 100,000 is refused before any index is asked.
5. A wheel given directly whose METADATA has an invalid `Requires-Python` or `Requires-Dist`
   is refused naming the wheel and the field.
"""

from __future__ import annotations

import hashlib
import io
import resource
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from indexserver import IndexServer, build_wheel, sha256_of
from pip_helpers import base_env, diagnostics, kiln, kiln_project, make_venv, ok

#: The address space a kiln process may use in the file-reading tests: reading
#: `/dev/zero` whole would pass it at once (and fail with `MemoryError`).
MEMORY_LIMIT = 2 * 1024 * 1024 * 1024


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    server = IndexServer()
    server.add(build_wheel(tmp_path_factory.mktemp("wheels"), "gamma", "0.1"))
    with server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def refused(result: subprocess.CompletedProcess[str], *parts: str) -> str:
    """The `error:` line of a failed run, checked to contain each of ``parts``."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for part in parts:
        assert part in errors[0], result.stderr
    return errors[0]


def failed(result: subprocess.CompletedProcess[str], *parts: str) -> None:
    """A failed run without a traceback whose messages contain each of ``parts`` (the
    resolver may wrap the error in its explanation of why nothing fits)."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert diagnostics(result.stderr).startswith("error: "), result.stderr
    for part in parts:
        assert part in result.stderr, result.stderr


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def installed(venv: Path, name: str) -> bool:
    return bool(list((venv / "lib").glob(f"python*/site-packages/{name}*")))


# -- 1. weak hashes -------------------------------------------------------------------------


@pytest.mark.parametrize("flags", [("--require-hashes",), ()], ids=["require-hashes", "implied"])
def test_a_requirement_with_only_md5_hashes_is_refused_naming_file_line_and_algorithm(
    tmp_path: Path, env: dict[str, str], index: IndexServer, flags: tuple[str, ...]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    gamma = index.files[0].path
    requirements = tmp_path / "r.txt"
    requirements.write_text(
        f"# the file is right, its hash is weak\ngamma==0.1 --hash=md5:{md5_of(gamma)}\n"
    )
    before = len(index.log)
    result = kiln("pip", "install", "-r", requirements, *flags, "--python", venv,
                  "--default-index", index.url, env=env)
    refused(result, f"{requirements}:2", "`md5`", "too weak", "sha256")
    assert len(index.log) == before  # refused while reading: the index was never asked
    assert not installed(venv, "gamma")


def test_an_md5_hash_next_to_a_sha256_is_ignored_and_only_the_sha256_decides(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    gamma = index.files[0].path
    wrong_md5 = tmp_path / "wrong-md5.txt"
    wrong_md5.write_text(f"gamma==0.1 --hash=md5:{'0' * 32} --hash=sha256:{sha256_of(gamma)}\n")
    venv = make_venv(tmp_path / "venv", env)
    ok(kiln("pip", "install", "-r", wrong_md5, "--require-hashes", "--python", venv,
            "--default-index", index.url, env=env))
    assert installed(venv, "gamma")

    wrong_sha = tmp_path / "wrong-sha.txt"
    wrong_sha.write_text(f"gamma==0.1 --hash=md5:{md5_of(gamma)} --hash=sha256:{'0' * 64}\n")
    other = make_venv(tmp_path / "other", env)
    result = kiln("pip", "install", "-r", wrong_sha, "--require-hashes", "--python", other,
                  "--default-index", index.url, env=env)
    refused(result, "hash mismatch for `gamma`")
    assert f"expected sha256: {'0' * 64}" in result.stderr
    assert "md5" not in diagnostics(result.stderr)
    assert not installed(other, "gamma")


def marker_sdist(directory: Path, name: str, marker: Path) -> Path:
    """An sdist whose build backend, when run at all, writes ``marker``. Its PKG-INFO is
    Metadata-Version 2.1, which cannot be trusted, so resolving it means building it."""
    top = f"{name}-1.0"
    members = {
        f"{top}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n",
        f"{top}/pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        ),
        f"{top}/backend.py": (
            f"import pathlib\npathlib.Path({str(marker)!r}).write_text('the backend ran')\n"
            "def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
            "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
            "    raise RuntimeError('not buildable')\n"
        ),
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return path


def test_an_index_sdist_that_differs_from_the_required_sha256_is_never_built(
    tmp_path: Path, env: dict[str, str]
) -> None:
    marker = tmp_path / "backend-ran"
    server = IndexServer()  # the index vouches for the file: its own sha256 matches
    server.add(marker_sdist(tmp_path / "files", "evil", marker))
    requirements = tmp_path / "r.txt"
    requirements.write_text(f"evil==1.0 --hash=sha256:{'1' * 64}\n")
    venv = make_venv(tmp_path / "venv", env)
    with server:
        result = kiln("pip", "install", "-r", requirements, "--python", venv,
                      "--default-index", server.url, env=env)
    failed(result, "hash mismatch for `evil` (`evil-1.0.tar.gz`)", f"sha256: {'1' * 64}")
    assert not marker.exists()


def test_a_direct_sdist_url_with_an_md5_fragment_is_checked_against_the_sha256_before_building(
    tmp_path: Path, env: dict[str, str]
) -> None:
    marker = tmp_path / "backend-ran"
    server = IndexServer()
    sdist = server.add(marker_sdist(tmp_path / "files", "evil", marker)).path
    requirements = tmp_path / "r.txt"
    venv = make_venv(tmp_path / "venv", env)
    with server:
        url = f"{server.base}/files/{sdist.name}#md5={md5_of(sdist)}"
        requirements.write_text(f"evil @ {url} --hash=sha256:{'1' * 64}\n")
        result = kiln("pip", "install", "-r", requirements, "--require-hashes", "--python",
                      venv, "--no-index", env=env)
    refused(result, "hash mismatch for `evil`", "`evil-1.0.tar.gz`")
    assert not marker.exists()


def test_a_hash_pinned_local_sdist_is_checked_as_the_sdist_and_installs(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = kiln_project(tmp_path / "lib", "pinnedlib")
    ok(kiln("build", "--sdist", project, env=env))
    sdist = project / "dist" / "pinnedlib-1.0.tar.gz"
    requirements = tmp_path / "r.txt"
    requirements.write_text(f"{sdist} --hash=sha256:{sha256_of(sdist)}\n")
    venv = make_venv(tmp_path / "venv", env)
    result = ok(kiln("pip", "install", "-r", requirements, "--require-hashes", "--python", venv,
                     "--no-index", env=env))
    assert " + pinnedlib==1.0" in result.stderr


# -- 2. files read with a bound --------------------------------------------------------------


def kiln_bounded(*args: str | Path, env: dict[str, str],
                 cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`kiln` under an address-space limit, so that reading a device whole fails fast."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "kiln", *map(str, args)], capture_output=True, text=True,
        env=env, cwd=cwd, timeout=120, preexec_fn=limit,
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("option", ["-r", "-c"])
def test_a_device_given_as_a_requirements_or_constraints_file_is_refused(
    tmp_path: Path, env: dict[str, str], device: str, option: str
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    (tmp_path / "r.txt").write_text("gamma\n")
    args = ["-r", device] if option == "-r" else ["-r", tmp_path / "r.txt", "-c", device]
    result = kiln_bounded("pip", "install", *args, "--python", venv, "--no-index", env=env)
    refused(result, f"`{device}`", "is not a text file")


def test_compile_of_dev_zero_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    result = kiln_bounded("pip", "compile", "/dev/zero", "--no-index", env=env)
    refused(result, "requirements file `/dev/zero` is not a text file", "NUL byte")


def test_a_requirements_file_over_16_mib_is_refused_unread(
    tmp_path: Path, env: dict[str, str]
) -> None:
    big = tmp_path / "big.txt"
    big.write_text("# padding\n" * (2 * 1024 * 1024))  # 20 MiB of comments
    result = kiln_bounded("pip", "compile", big, "--no-index", env=env)
    refused(result, f"`{big}`", "larger than 16 MiB")


def test_a_line_over_1_mib_is_refused_naming_the_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    requirements = tmp_path / "r.txt"
    requirements.write_text("gamma\n" + "x" * (1024 * 1024 + 1) + "\n")
    result = kiln_bounded("pip", "compile", requirements, "--no-index", env=env)
    refused(result, f"{requirements}:2", "longer than 1 MiB")


def test_a_line_with_a_long_run_of_blanks_is_read_in_linear_time(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # Looking for where a comment starts took time quadratic in a run of blanks (40,000
    # took 5 s); half a million would take many minutes, past the run's timeout.
    requirements = tmp_path / "r.txt"
    requirements.write_text("gamma" + " " * 500_000 + "x\n")
    result = kiln_bounded("pip", "compile", requirements, "--no-index", env=env)
    refused(result, f"{requirements}:1: invalid requirement")


def test_non_utf8_requirements_and_pyproject_files_are_refused_naming_the_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    requirements = tmp_path / "r.txt"
    requirements.write_bytes(b"gamma\ncaf\xe9\n")
    result = kiln_bounded("pip", "compile", requirements, "--no-index", env=env)
    refused(result, f"`{requirements}`", "not UTF-8", "line 2")
    pyproject = tmp_path / "proj" / "pyproject.toml"
    pyproject.parent.mkdir()
    pyproject.write_bytes(b'[project]\nname = "caf\xe9"\n')
    result = kiln_bounded("pip", "compile", pyproject, "--no-index", env=env)
    refused(result, f"`{pyproject}`", "not UTF-8", "line 2")


def test_requirements_files_nested_65_deep_are_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    for level in range(100):
        (tmp_path / f"r{level}.txt").write_text(f"-r r{level + 1}.txt\n")
    (tmp_path / "r100.txt").write_text("gamma\n")
    result = kiln_bounded("pip", "compile", tmp_path / "r0.txt", "--no-index", env=env)
    refused(result, "more than 64 levels")


# -- 3. URLs with impossible ports -------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--index-url", "--extra-index-url", "--find-links"])
def test_an_index_url_with_a_port_above_65535_is_named_without_its_password(
    tmp_path: Path, env: dict[str, str], flag: str
) -> None:
    (tmp_path / "r.in").write_text("gamma\n")
    url = "http://someone:s3cret@127.0.0.1:99999/simple"
    result = kiln("pip", "compile", tmp_path / "r.in", flag, url, env=env)
    line = refused(result, f"`{flag}`", "127.0.0.1:99999", "port 99999 is out of range")
    assert "s3cret" not in result.stderr
    assert line == (f"error: `{flag}`: invalid URL `http://someone:****@127.0.0.1:99999/simple`: "
                    "port 99999 is out of range (0-65535)")


@pytest.mark.parametrize("line", [
    "pkg @ http://someone:s3cret@127.0.0.1:70000/pkg-1.0-py3-none-any.whl",
    "http://someone:s3cret@127.0.0.1:70000/pkg-1.0-py3-none-any.whl",
    "--extra-index-url http://someone:s3cret@127.0.0.1:70000/simple",
    "--find-links http://someone:s3cret@127.0.0.1:port/links",
])
def test_a_url_with_a_bad_port_in_a_requirements_file_is_named_with_the_line(
    tmp_path: Path, env: dict[str, str], line: str
) -> None:
    requirements = tmp_path / "r.txt"
    requirements.write_text(f"# urls\n{line}\n")
    result = kiln("pip", "compile", requirements, "--no-index", env=env)
    refused(result, f"{requirements}:2: invalid URL", "someone:****@127.0.0.1:")
    assert "s3cret" not in result.stderr
    assert "is out of range (0-65535)" in result.stderr or "is not a number" in result.stderr


def test_a_file_url_with_a_bad_port_on_a_find_links_page_is_named(
    tmp_path: Path, env: dict[str, str]
) -> None:
    page = tmp_path / "links.html"
    page.write_text(
        '<a href="http://127.0.0.1:99999/files/gamma-0.1-py3-none-any.whl">'
        "gamma-0.1-py3-none-any.whl</a>\n"
    )
    (tmp_path / "r.in").write_text("gamma\n")
    result = kiln("pip", "compile", tmp_path / "r.in", "--no-index", "--find-links", page,
                  env=env)
    failed(result, "invalid URL `http://127.0.0.1:99999/files/gamma-0.1-py3-none-any.whl`: "
           "port 99999 is out of range (0-65535)")


# -- 4. thousands of extras or specifiers ------------------------------------------------------


#: Runs `kiln` in this process while counting Python function calls, stopping once the
#: count passes a budget; prints the exit code (or `over-budget`) and the count.
COUNTING = r"""
import sys
from kiln.cli.main import main

budget = int(sys.argv[1])
calls = 0

class OverBudget(Exception):
    pass

def count(frame, event, arg):
    global calls
    if event == "call":
        calls += 1
        if calls > budget:
            raise OverBudget

sys.setprofile(count)
try:
    code = main(sys.argv[2:])
except OverBudget:
    code = "over-budget"
finally:
    sys.setprofile(None)
print(code, calls)
"""
#: Far above what resolving 20,000 extras or specifiers costs (about 10 million calls),
#: far below what resolving 2,000 extras used to cost (about 33 million calls): the
#: resolver was quadratic in them.
BUDGET = 20_000_000


def huge(kind: str, count: int) -> str:
    if kind == "extras":
        return "gamma[" + ",".join(f"e{i}" for i in range(count)) + "]"
    return "gamma" + ",".join(f"!=0.{i + 2}" for i in range(count))


def counted_compile(
    tmp_path: Path, env: dict[str, str], index: IndexServer, kind: str, count: int
) -> tuple[str, int, str]:
    requirements = tmp_path / f"{kind}-{count}.in"
    requirements.write_text(huge(kind, count) + "\n")
    result = subprocess.run(
        [sys.executable, "-c", COUNTING, str(BUDGET), "pip", "compile", str(requirements),
         "--default-index", index.url, "-o", str(tmp_path / "out.txt")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    code, calls = result.stdout.split()[-2:]
    return code, int(calls), result.stderr


@pytest.mark.parametrize("kind", ["extras", "specifiers"])
def test_thousands_of_extras_or_specifiers_cost_work_linear_in_their_number(
    tmp_path: Path, env: dict[str, str], index: IndexServer, kind: str
) -> None:
    small_code, small, _ = counted_compile(tmp_path, env, index, kind, 2_000)
    large_code, large, stderr = counted_compile(tmp_path, env, index, kind, 20_000)
    assert (small_code, large_code) == ("0", "0"), stderr
    # Ten times the input: ten times the work plus the fixed cost (a quadratic resolver
    # does a hundred times the work).
    assert large < 12 * small, (small, large)
    assert "Traceback" not in stderr
    assert "gamma==0.1" in (tmp_path / "out.txt").read_text()


@pytest.mark.parametrize("kind", ["extras", "specifiers"])
def test_a_requirement_with_over_100000_extras_or_specifiers_is_refused_before_the_index(
    tmp_path: Path, env: dict[str, str], index: IndexServer, kind: str
) -> None:
    requirements = tmp_path / "r.txt"
    requirements.write_text(huge(kind, 100_001) + "\n")
    venv = make_venv(tmp_path / "venv", env)
    before = len(index.log)
    result = kiln("pip", "install", "-r", requirements, "--python", venv,
                  "--default-index", index.url, env=env)
    line = refused(result, f"{requirements}:1", "`gamma`", "100001", "at most 100000")
    assert len(line) < 200
    assert len(index.log) == before


# -- 5. invalid metadata of a local wheel --------------------------------------------------------


@pytest.mark.parametrize(("field", "wheel_args"), [
    ("Requires-Python", {"requires_python": ">=3.8,,junk"}),
    ("Requires-Dist", {"requires_dist": ["ok", "broken >=>= 1"]}),
])
def test_a_local_wheel_with_invalid_metadata_is_refused_naming_the_wheel_and_field(
    tmp_path: Path, env: dict[str, str], field: str, wheel_args: dict[str, Any]
) -> None:
    wheel = build_wheel(tmp_path / "wheels", "badmeta", "1.0", **wheel_args)
    venv = make_venv(tmp_path / "venv", env)
    result = kiln("pip", "install", f"./{wheel.relative_to(tmp_path)}", "--python", venv,
                  "--no-index", env=env, cwd=tmp_path)
    refused(result, f"`{wheel.name}`", f"invalid `{field}`")
    assert not installed(venv, "badmeta")
