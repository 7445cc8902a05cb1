"""Hostile index data against the resolver (issue #17): packages that require themselves
at another version, and releases whose core metadata cannot be read.

The resolver cases `*conflicts_with_itself*` and `self_*` in `tests/resolver_cases/` cover
the solver's side; these tests run `kiln pip compile` against a loopback index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln


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
