"""`kiln lock` beyond the basics: per-group `requires-python`, index pins of members and by
marker or extra, `required-environments`, `git` and `url` sources, the workspace layout of
uv's docs. Real `kiln` processes against real loopback indexes; the locks are read back with
`packaging.pylock`."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib
from indexserver import IndexServer, build_wheel
from packaging.markers import default_environment
from packaging.pylock import Pylock
from pip_helpers import base_env, kiln, ok

BUILD = '\n[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n'


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    for name, version in (("idna", "3.7"), ("iniconfig", "2.0.0"), ("filelock", "3.16.1"),
                          ("tqdm", "4.66.5"), ("torch", "2.5.1")):
        server.add(build_wheel(files / "pypi", name, version,
                               requires_dist=["filelock"] if name == "torch" else []))
    server.add(build_wheel(files / "pypi", "pytest", "8.0.0", requires_dist=["iniconfig"]))
    server.add(build_wheel(files / "pypi", "ruff", "0.5.0", tag="py3-none-manylinux_2_17_x86_64"))
    server.add(build_wheel(files / "pypi", "ruff", "0.5.0", tag="py3-none-win_amd64"))
    # The PyTorch indexes: each build of a release under its own local version.
    for local in ("cpu", "cu124"):
        server.add(build_wheel(files / local, "torch", f"2.5.1+{local}",
                               requires_dist=["filelock"]), root=f"/whl/{local}")
    server.add(build_wheel(files / "cpu", "torch", "2.4.0+cpu", requires_dist=["filelock"]),
               root="/whl/cpu")
    # Private indexes with versions PyPI does not have.
    server.add(build_wheel(files / "internal", "idna", "3.99"), root="/internal")
    server.add(build_wheel(files / "internal", "iniconfig", "9.0"), root="/internal")
    server.add(build_wheel(files / "member", "idna", "3.98"), root="/member")
    with server:
        yield server


def project(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(text))
    return root


def lock(root: Path, index: IndexServer, *args: str,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    result = kiln("lock", "--default-index", index.url, *args,
                  env=base_env(root.parent / "cache"), cwd=root)
    assert "Traceback" not in result.stderr
    return ok(result) if check else result


def read(root: Path) -> dict[str, object]:
    data = tomllib.loads((root / "pylock.toml").read_text())
    Pylock.from_dict(data)  # valid PEP 751
    return data


def packages(root: Path) -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for entry in read(root)["packages"]:  # type: ignore[attr-defined]
        found.setdefault(entry["name"], []).append(entry)
    return found


def selected(root: Path, python: str = "3.11.4", platform: str = "linux",
             **kwargs: object) -> dict[str, str]:
    """What `packaging.pylock` selects from the lock for ``platform`` and ``python``."""
    pylock = Pylock.from_dict(tomllib.loads((root / "pylock.toml").read_text()))
    environment = {**default_environment(), "sys_platform": platform,
                   "python_full_version": python, "python_version": python.rsplit(".", 1)[0]}
    return {
        package.name: str(package.version or "")
        for package, _ in pylock.select(environment=environment, **kwargs)  # type: ignore[arg-type]
    }


# -- per-group requires-python ---------------------------------------------------------------


@pytest.mark.parametrize("tool", ["kiln", "uv"])
def test_a_group_with_its_own_requires_python_is_locked_only_for_those_pythons(
    tmp_path: Path, index: IndexServer, tool: str
) -> None:
    root = project(tmp_path / "demo", f"""\
        [project]
        name = "demo"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["idna"]

        [dependency-groups]
        dev = ["pytest"]
        lint = ["ruff"]

        [tool.{tool}.dependency-groups]
        dev = {{ requires-python = ">=3.12" }}
        """)
    lock(root, index)
    found = packages(root)
    assert read(root)["requires-python"] == ">=3.10"  # the project's, not the group's
    marker = 'python_full_version >= "3.12" and "dev" in dependency_groups'
    assert found["pytest"][0]["marker"] == marker
    assert found["iniconfig"][0]["marker"] == marker  # what the group's packages need too
    assert found["ruff"][0]["marker"] == '"lint" in dependency_groups'
    assert "marker" not in found["idna"][0]
    assert "pytest" not in selected(root, "3.11.4", dependency_groups=["dev"])
    assert selected(root, "3.12.1", dependency_groups=["dev"])["pytest"] == "8.0.0"
