"""Hostile index data against the resolver (issue #17): packages that require themselves
at another version, and releases whose core metadata cannot be read.

The resolver cases `*conflicts_with_itself*` and `self_*` in `tests/resolver_cases/` cover
the solver's side; these tests run `kiln pip compile` and `kiln pip install` against a
loopback index."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_sdist, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok, run_python

from kiln.core.index.metadata import MetadataNeedsBuild, read_sdist_metadata


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    # Its only version requires another version of itself.
    server.add(build_wheel(files, "selfpin", "1.0", requires_dist=["selfpin==2.0"]))
    # The newest version requires an older version of itself; the older one is fine.
    server.add(build_wheel(files, "downpin", "1.0"))
    server.add(build_wheel(files, "downpin", "2.0", requires_dist=["downpin==1.0"]))
    # Requiring itself with an extra is legitimate.
    server.add(build_wheel(files, "bundle", "1.0", requires_dist=[
        "bundle[fast]; extra == 'all'", "helper; extra == 'fast'", "bundle>=1",
    ]))
    server.add(build_wheel(files, "helper", "1.0"))
    # The newest release of each has core metadata that does not parse.
    server.add(build_wheel(files, "baddist", "1.0", requires_dist=["helper"]))
    server.add(build_wheel(files, "baddist", "2.0", requires_dist=["pytz (>dev)"]))
    server.add(build_wheel(files, "badpython", "1.0"))
    server.add(build_wheel(files, "badpython", "2.0", requires_python=">=3.6.*junk"))
    server.add(build_wheel(files, "badsdist", "1.0"))
    server.add(build_sdist(files, "badsdist", "2.0", requires_dist=["pytz (>dev)"]))
    server.add(build_wheel(files, "badmarker", "1.0"))
    server.add(build_wheel(files, "badmarker", "1.1", requires_dist=[
        "helper", "helper; python_version >< '3'",
    ]))
    with server:
        yield server


def _compile(tmp_path: Path, index: IndexServer, *requirements: str) -> tuple[int, str, str]:
    (tmp_path / "requirements.in").write_text("".join(f"{r}\n" for r in requirements))
    result = kiln("pip", "compile", "requirements.in", "--no-header", "--no-annotate",
                  "--default-index", index.url, env=base_env(tmp_path / "cache"), cwd=tmp_path)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def test_a_package_that_conflicts_with_itself_is_unsatisfiable(
    tmp_path: Path, index: IndexServer
) -> None:
    code, out, err = _compile(tmp_path, index, "selfpin")
    assert (code, out) == (1, "")
    assert (
        "Because selfpin==1.0 depends on selfpin==2.0 (a conflict with itself) and you "
        "require selfpin, we can conclude that your requirements are unsatisfiable."
    ) in err


def test_a_version_that_conflicts_with_itself_is_passed_over(
    tmp_path: Path, index: IndexServer
) -> None:
    code, out, err = _compile(tmp_path, index, "downpin")
    assert code == 0, err
    assert out == "downpin==1.0\n"


def test_a_package_may_require_itself_with_an_extra(tmp_path: Path, index: IndexServer) -> None:
    code, out, err = _compile(tmp_path, index, "bundle[all]")
    assert code == 0, err
    assert out == "bundle==1.0\nhelper==1.0\n"


@pytest.mark.parametrize(("project", "field", "value"), [
    ("baddist", "Requires-Dist", "pytz (>dev)"),
    ("badpython", "Requires-Python", ">=3.6.*junk"),
    ("badmarker", "Requires-Dist", "helper; python_version >< '3'"),
    ("badsdist", "Requires-Dist", "pytz (>dev)"),
])
def test_a_release_with_unreadable_metadata_is_skipped_with_a_warning(
    tmp_path: Path, index: IndexServer, project: str, field: str, value: str
) -> None:
    code, out, err = _compile(tmp_path, index, project)
    assert code == 0, err
    assert out.startswith(f"{project}==1.0\n")
    newest = "1.1" if project == "badmarker" else "2.0"
    filename = f"{project}-{newest}" + (".tar.gz" if project == "badsdist" else "-py3-none-any.whl")
    assert (
        f"warning: skipping `{project} {newest}`: the metadata of `{filename}` has an "
        f"invalid `{field}` field: `{value}`\n"
    ) in err


def test_a_universal_resolution_warns_about_unreadable_metadata_once(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("baddist\nbadpython\n")
    result = ok(kiln("pip", "compile", "requirements.in", "--universal", "--no-header",
                     "--no-annotate", "--default-index", index.url,
                     env=base_env(tmp_path / "cache"), cwd=tmp_path))
    assert result.stdout == "baddist==1.0\nbadpython==1.0\nhelper==1.0\n"
    assert result.stderr.count("warning: skipping `baddist 2.0`: ") == 1
    assert result.stderr.count("warning: skipping `badpython 2.0`: ") == 1


def test_requiring_the_release_with_unreadable_metadata_explains_why(
    tmp_path: Path, index: IndexServer
) -> None:
    code, out, err = _compile(tmp_path, index, "baddist==2.0")
    assert (code, out) == (1, "")
    assert (
        "Because baddist==2.0 has unusable metadata: the metadata of "
        "`baddist-2.0-py3-none-any.whl` has an invalid `Requires-Dist` field: `pytz (>dev)` "
        "and you require baddist==2.0, we can conclude that your requirements are "
        "unsatisfiable."
    ) in err


def test_install_passes_over_a_release_with_unreadable_metadata(
    tmp_path: Path, index: IndexServer
) -> None:
    env = base_env(tmp_path / "cache")
    venv = make_venv(tmp_path / "venv", env)
    result = ok(kiln("pip", "install", "baddist", "--python", venv,
                     "--default-index", index.url, env=env, cwd=tmp_path))
    assert "warning: skipping `baddist 2.0`: " in result.stderr
    assert run_python(venv, "import baddist, helper; print(baddist.__version__)") == "1.0"


def _sdist_with_pkg_info(directory: Path, pkg_info: bytes) -> Path:
    path = directory / "odd-2.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        entry = tarfile.TarInfo("odd-2.0/PKG-INFO")
        entry.size = len(pkg_info)
        archive.addfile(entry, io.BytesIO(pkg_info))
    return path


@pytest.mark.parametrize(("headers", "problem"), [
    (b"Metadata-Version: 2.2\nName: odd\nVersion: 2.0\nDynamic: nonsense\n",
     "an invalid `Dynamic` field"),
    (b"Metadata-Version: 9.9\nName: odd\nVersion: 2.0\n", "an invalid `Metadata-Version` field"),
    (b"Name: odd\nVersion: 2.0\n", "no `Metadata-Version` field"),
])
def test_an_sdist_whose_pkg_info_does_not_parse_must_be_built(
    tmp_path: Path, headers: bytes, problem: str
) -> None:
    path = _sdist_with_pkg_info(tmp_path, headers + b"\n")
    with pytest.raises(MetadataNeedsBuild) as caught:
        read_sdist_metadata(path, path.name)
    assert str(caught.value) == f"the `PKG-INFO` of `odd-2.0.tar.gz` has {problem}"
