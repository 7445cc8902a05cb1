"""`kiln pip compile` options from uv: upgrades against an existing output file, extras and
dependency groups of a `pyproject.toml`, overrides, excludes, resolution strategies,
`--exclude-newer`, `--system` and `--emit-build-options`, against a loopback index."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, ok
from pythons import find_python

from kiln.core.requirements_output import OutputOptions, render_requirements_txt
from kiln.core.resolver.resolution import Resolution

PYPROJECT = """\
[project]
name = "app"
version = "1"
dependencies = ["alpha"]

[project.optional-dependencies]
fast = ["gamma"]
all = ["app[fast]", "delta"]

[dependency-groups]
dev = ["beta==1.0"]
lint = [{ include-group = "dev" }, "gamma<0.2"]
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "alpha", "1.0", requires_dist=["beta>=1"]),
               upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "beta", "1.0"), upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "beta", "2.0"), upload_time="2024-06-01T00:00:00Z")
    server.add(build_wheel(files, "gamma", "0.1"), upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "gamma", "0.2"), upload_time="2024-06-01T00:00:00Z")
    server.add(build_wheel(files, "delta", "1.0", requires_dist=["gamma"]))
    server.add(build_wheel(files, "modern", "1.0"))
    server.add(build_wheel(files, "modern", "2.0", requires_python=">=3.10"))
    with server:
        yield server


def compile_(tmp_path: Path, index: IndexServer, *args: str | Path) -> str:
    """The pins (no header, no annotations) `kiln pip compile ARGS` prints."""
    result = ok(kiln("pip", "compile", *args, "--no-header", "--no-annotate",
                     "--default-index", index.url, env=base_env(tmp_path / "cache"),
                     cwd=tmp_path))
    return result.stdout


def test_pins_of_the_existing_output_file_are_kept_unless_upgraded(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("alpha\ngamma\n")
    out = tmp_path / "requirements.txt"
    out.write_text("alpha==1.0\nbeta==1.0\ngamma==0.1\n")
    common = ("requirements.in", "-o", out)
    compile_(tmp_path, index, *common)
    assert out.read_text() == "alpha==1.0\nbeta==1.0\ngamma==0.1\n"
    compile_(tmp_path, index, *common, "-P", "gamma")
    assert out.read_text() == "alpha==1.0\nbeta==1.0\ngamma==0.2\n"
    compile_(tmp_path, index, *common, "--upgrade")
    assert out.read_text() == "alpha==1.0\nbeta==2.0\ngamma==0.2\n"
    # Without an output file (to standard output), nothing is preferred.
    assert compile_(tmp_path, index, "requirements.in") == "alpha==1.0\nbeta==2.0\ngamma==0.2\n"


def test_a_pin_the_inputs_no_longer_allow_gives_way(tmp_path: Path, index: IndexServer) -> None:
    (tmp_path / "requirements.in").write_text("alpha\nbeta>=2\n")
    out = tmp_path / "requirements.txt"
    out.write_text("alpha==1.0\nbeta==1.0\n")
    compile_(tmp_path, index, "requirements.in", "-o", out, "--universal")
    assert out.read_text() == "alpha==1.0\nbeta==2.0\n"


def test_extras_and_groups_of_a_pyproject_are_added(tmp_path: Path, index: IndexServer) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert compile_(tmp_path, index, "pyproject.toml") == "alpha==1.0\nbeta==2.0\n"
    assert compile_(tmp_path, index, "pyproject.toml", "--extra", "FAST") == (
        "alpha==1.0\nbeta==2.0\ngamma==0.2\n"
    )
    # `all` requires `app[fast]`: the project's own extra is expanded, not looked up.
    assert compile_(tmp_path, index, "pyproject.toml", "--all-extras") == (
        "alpha==1.0\nbeta==2.0\ndelta==1.0\ngamma==0.2\n"
    )
    assert compile_(tmp_path, index, "pyproject.toml", "--group", "lint") == (
        "alpha==1.0\nbeta==1.0\ngamma==0.1\n"
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "requirements.in").write_text("delta\n")
    result = ok(kiln("pip", "compile", "requirements.in", "--group", "../pyproject.toml:dev",
                     "--default-index", index.url, env=base_env(tmp_path / "cache"),
                     cwd=tmp_path / "sub"))
    assert result.stdout.endswith(
        "beta==1.0\n    # via app (../pyproject.toml:dev)\n"
        "delta==1.0\n    # via -r requirements.in\n"
        "gamma==0.2\n    # via delta\n"
    )
    assert "--group ../pyproject.toml:dev" in result.stdout.splitlines()[1]


def test_unknown_extras_and_groups_and_extras_without_a_pyproject_are_refused(
    tmp_path: Path, index: IndexServer
) -> None:
    env = base_env(tmp_path / "cache")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "requirements.in").write_text("alpha\n")
    cases = [
        (("requirements.in", "--extra", "fast"), 2,
         "error: `--extra` needs a `pyproject.toml` input"),
        (("pyproject.toml", "--extra", "nope"), 1,
         "error: `pyproject.toml`: extra `nope` is not defined in "
         "`project.optional-dependencies`\nhint: defined extras: `fast`, `all`"),
        (("requirements.in", "--group", "nope"), 1,
         f"error: group `nope` is not defined in `[dependency-groups]` of "
         f"`{tmp_path / 'pyproject.toml'}`\nhint: defined groups: `dev`, `lint`"),
        (("requirements.in", "--group", "missing/pyproject.toml:dev"), 1,
         "error: cannot read dependency group `dev`: `missing/pyproject.toml` does not exist"),
    ]
    for args, code, message in cases:
        result = kiln("pip", "compile", *args, "--default-index", index.url, env=env,
                      cwd=tmp_path)
        assert result.returncode == code, args
        assert message in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_overrides_replace_requirements_and_excludes_drop_packages(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("alpha\ndelta\n")
    # alpha asks for beta>=1; the override pins beta below that range's newest.
    (tmp_path / "overrides.txt").write_text("beta==1.0\n")
    (tmp_path / "excludes.txt").write_text("gamma>=5 ; sys_platform == 'nope'\n")
    assert compile_(tmp_path, index, "requirements.in", "--overrides", "overrides.txt") == (
        "alpha==1.0\nbeta==1.0\ndelta==1.0\ngamma==0.2\n"
    )
    # An excluded package goes with every requirement on it (version and marker ignored).
    assert compile_(tmp_path, index, "requirements.in", "--excludes", "excludes.txt") == (
        "alpha==1.0\nbeta==2.0\ndelta==1.0\n"
    )
    annotated = ok(kiln("pip", "compile", "requirements.in", "--overrides", "overrides.txt",
                        "--no-header", "--default-index", index.url,
                        env=base_env(tmp_path / "cache"), cwd=tmp_path)).stdout
    assert "beta==1.0\n    # via\n    #   --override overrides.txt\n    #   alpha\n" in annotated


def test_resolution_strategies_pick_lowest_versions(tmp_path: Path, index: IndexServer) -> None:
    (tmp_path / "requirements.in").write_text("alpha\ngamma\n")
    assert compile_(tmp_path, index, "requirements.in", "--resolution", "lowest") == (
        "alpha==1.0\nbeta==1.0\ngamma==0.1\n"
    )
    # lowest-direct: gamma (direct) lowest, beta (alpha's dependency) highest.
    assert compile_(tmp_path, index, "requirements.in", "--resolution", "lowest-direct") == (
        "alpha==1.0\nbeta==2.0\ngamma==0.1\n"
    )


def test_exclude_newer_leaves_out_later_uploads(tmp_path: Path, index: IndexServer) -> None:
    (tmp_path / "requirements.in").write_text("alpha\ngamma\n")
    assert compile_(tmp_path, index, "requirements.in", "--exclude-newer", "2024-03-01") == (
        "alpha==1.0\nbeta==1.0\ngamma==0.1\n"
    )
    result = kiln("pip", "compile", "requirements.in", "--exclude-newer", "March",
                  env=base_env(tmp_path / "cache"), cwd=tmp_path)
    assert result.returncode == 2
    assert "`March` is not a date" in result.stderr
    # A span before now, as uv takes it: the same cutoff, written relative to today.
    days = (datetime.now(timezone.utc) - datetime(2024, 3, 1, tzinfo=timezone.utc)).days
    for span in (f"{days} days", f"P{days}D", f"{days}d"):
        assert compile_(tmp_path, index, "requirements.in", "--exclude-newer", span) == (
            "alpha==1.0\nbeta==1.0\ngamma==0.1\n"
        )


def test_system_resolves_for_the_python_on_path(tmp_path: Path, index: IndexServer) -> None:
    python39 = find_python((3, 9))
    if python39 is None:
        pytest.skip("no Python 3.9 on this machine")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python39)
    (tmp_path / "requirements.in").write_text("modern\n")
    env = base_env(tmp_path / "cache")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    common = ("pip", "compile", "requirements.in", "--no-header", "--no-annotate",
              "--default-index", index.url)
    assert ok(kiln(*common, "--python-version", "3.12", env=env, cwd=tmp_path)).stdout == (
        "modern==2.0\n"
    )
    assert ok(kiln(*common, "--system", env=env, cwd=tmp_path)).stdout == "modern==1.0\n"


def test_link_mode_and_emit_build_options_are_accepted_and_named_in_the_header(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("gamma\n")
    result = ok(kiln("pip", "compile", "requirements.in", "--link-mode", "copy",
                     "--emit-build-options", "--no-annotate", "--default-index", index.url,
                     env=base_env(tmp_path / "cache"), cwd=tmp_path))
    assert result.stdout.splitlines()[1:] == [
        f"#    kiln pip compile requirements.in --default-index {index.url} --link-mode copy "
        "--no-annotate --emit-build-options",
        "gamma==0.2",
    ]


def test_build_option_lines_follow_the_header() -> None:
    options = OutputOptions(build_options=("--no-binary gamma", "--only-binary :all:"))
    text = render_requirements_txt(Resolution({}), options)
    assert text.splitlines()[2:] == ["--no-binary gamma", "--only-binary :all:", ""]
