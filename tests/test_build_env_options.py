"""`kiln build`'s options for build environments (issue #19): indexes, resolution, `--python`.

The build backend is a stand-in `setuptools` served only by a loopback index: a project
without `[build-system]` falls back to `setuptools.build_meta:__legacy__`, so every build
here must fetch it from the index given. The wheel it writes records the backend's version
and the Python that ran it; it prints a marker line, which is what `-v` shows.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer
from pip_helpers import kiln, ok
from pythons import find_python
from wheelbuilder import make_wheel

BACKEND = '''
import base64, hashlib, os, sys, zipfile

VERSION = {version!r}


def _line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{{path}},sha256={{digest}},{{len(data)}}\\n"


class __legacy__:
    @staticmethod
    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        print("STANDIN BACKEND RUNNING")
        fields = dict(
            line.split(" = ", 1) for line in open("setup.cfg").read().splitlines() if " = " in line
        )
        name, version = fields["name"], fields["version"]
        info = f"{{name}}-{{version}}.dist-info"
        python = "%d.%d" % sys.version_info[:2]
        members = {{
            f"{{name}}.py": f"BACKEND = {{VERSION!r}}\\nPYTHON = {{python!r}}\\n".encode(),
            f"{{info}}/METADATA": f"Metadata-Version: 2.1\\nName: {{name}}\\nVersion: {{version}}\\n".encode(),
            f"{{info}}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: standin\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
        }}
        record = "".join(_line(p, d) for p, d in members.items()) + f"{{info}}/RECORD,,\\n"
        members[f"{{info}}/RECORD"] = record.encode()
        filename = f"{{name}}-{{version}}-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
            for path, data in members.items():
                archive.writestr(path, data)
        return filename
'''


def setuptools_wheel(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return make_wheel(
        directory, "setuptools", version,
        {"setuptools/__init__.py": "", "setuptools/build_meta.py": BACKEND.format(version=version)},
    )


def legacy_project(root: Path) -> Path:
    """A project with `setup.cfg` and no `pyproject.toml`: built by setuptools' legacy backend."""
    root.mkdir(parents=True)
    (root / "setup.cfg").write_text("[metadata]\nname = app\nversion = 0.1.0\n")
    (root / "setup.py").write_text("")
    return root


def built(project: Path) -> dict[str, str]:
    """What the stand-in backend recorded in the wheel: its version and the Python that ran it."""
    with zipfile.ZipFile(project / "dist" / "app-0.1.0-py3-none-any.whl") as archive:
        text = archive.read("app.py").decode()
    values: dict[str, str] = {}
    exec(text, {}, values)  # two constants written by the test's own backend
    return values


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No index settings of the machine (variables, kiln.toml, pip.conf)."""
    environ = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("KILN_", "UV_", "PIP_", "VIRTUAL_ENV"))
    }
    environ["KILN_CACHE_DIR"] = str(tmp_path / "cache")
    environ["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    environ["XDG_CONFIG_DIRS"] = str(tmp_path / "xdg-config-dirs")
    environ["NO_COLOR"] = "1"
    (tmp_path / "pip.conf").write_text("")
    environ["PIP_CONFIG_FILE"] = str(tmp_path / "pip.conf")
    return environ


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    """setuptools 60.0 (January 2024), 61.0 (June 2024) and 62.0rc1 (a pre-release)."""
    server = IndexServer()
    server.add(setuptools_wheel(tmp_path / "w60", "60.0"), upload_time="2024-01-10T00:00:00Z")
    server.add(setuptools_wheel(tmp_path / "w61", "61.0"), upload_time="2024-06-10T00:00:00Z")
    server.add(setuptools_wheel(tmp_path / "w62", "62.0rc1"), upload_time="2024-07-10T00:00:00Z")
    with server:
        yield server


def build(project: Path, env: dict[str, str], *args: str | Path):  # type: ignore[no-untyped-def]
    return kiln("build", "--wheel", project, *args, env=env, cwd=project)


def test_index_url_fetches_the_build_backend_from_that_index(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    project = legacy_project(tmp_path / "app")
    ok(build(project, env, "--index-url", index.url))
    assert built(project)["BACKEND"] == "61.0"
    assert index.requests("/simple/setuptools/")


def test_no_index_builds_from_find_links_only(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    project = legacy_project(tmp_path / "app")
    ok(build(project, env, "--no-index", "--find-links", tmp_path / "w60"))
    assert built(project)["BACKEND"] == "60.0"
    assert not index.requests()


@pytest.mark.parametrize(
    ("options", "chosen"),
    [
        (("--resolution", "lowest"), "60.0"),
        (("--exclude-newer", "2024-03-01"), "60.0"),
        (("--prerelease", "allow"), "62.0rc1"),
        (("--prerelease-package", "SetupTools=allow"), "62.0rc1"),
        (("--prerelease", "allow", "--prerelease-package", "setuptools=disallow"), "61.0"),
        ((), "61.0"),
    ],
)
def test_resolution_options_choose_the_build_requirements(
    tmp_path: Path, env: dict[str, str], index: IndexServer, options: tuple[str, ...],
    chosen: str,
) -> None:
    project = legacy_project(tmp_path / "app")
    ok(build(project, env, "--default-index", index.url, *options))
    assert built(project)["BACKEND"] == chosen


def test_upgrade_package_makes_the_environments_holding_it_again(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    project = legacy_project(tmp_path / "app")
    ok(build(project, env, "--index-url", index.url))
    index.add(setuptools_wheel(tmp_path / "w63", "61.5"), upload_time="2024-06-20T00:00:00Z")
    ok(build(project, env, "--index-url", index.url))
    assert built(project)["BACKEND"] == "61.0"  # the cached environment is reused
    ok(build(project, env, "--index-url", index.url, "-P", "other"))
    assert built(project)["BACKEND"] == "61.0"
    ok(build(project, env, "--index-url", index.url, "--upgrade-package", "SetupTools"))
    assert built(project)["BACKEND"] == "61.5"


def test_offline_builds_from_the_cache_only(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    project = legacy_project(tmp_path / "app")
    failed = build(project, env, "--index-url", index.url, "--offline")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "offline mode is on" in failed.stderr
    assert not index.requests()


def test_no_build_logs_hides_the_backend_output_even_with_verbose(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    project = legacy_project(tmp_path / "app")
    shown = ok(build(project, env, "--index-url", index.url, "-v"))
    assert "STANDIN BACKEND RUNNING" in shown.stderr
    hidden = ok(build(project, env, "--index-url", index.url, "-v", "--no-build-logs"))
    assert "STANDIN BACKEND RUNNING" not in hidden.stderr


def test_python_makes_the_build_environment_for_that_interpreter(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    python = find_python((3, 9))
    if python is None:
        pytest.skip("no Python 3.9 on this machine")
    project = legacy_project(tmp_path / "app")
    ok(build(project, env, "--index-url", index.url, "--python", python))
    assert built(project)["PYTHON"] == "3.9"
    ok(build(project, env, "--index-url", index.url))
    assert built(project)["PYTHON"] != "3.9"  # kiln's own, in an environment of its own
