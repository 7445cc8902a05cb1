"""The build service (`kiln.core.builder`): one way from a source to a wheel.

PEP 517 hooks are called through pypa/build's `ProjectBuilder`, in kiln's cached build
environments (pypa/build's `IsolatedEnv`). The projects here carry their own backend in the
tree (`backend-path`) and need nothing installed, so every build runs offline; direct
references are served by a loopback index.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from indexserver import IndexServer, sha256_of
from pip_helpers import base_env, kiln, kiln_project, make_venv, ok, run_python

from kiln.core.builder.envcache import CACHE_BUCKET

#: A PEP 517 backend of a few lines: it prints where it runs and with which settings, and
#: fails on request (``-C fail=<status>``).
INTREE_BACKEND = '''\
import base64
import hashlib
import json
import os
import sys
import zipfile


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    settings = config_settings or {}
    if "fail" in settings:
        print("intree: failing on purpose", flush=True)
        raise SystemExit(int(settings["fail"]))
    seen = {"python": sys.executable, "virtual_env": os.environ.get("VIRTUAL_ENV"),
            "config_settings": settings}
    print("intree: " + json.dumps(seen), flush=True)
    members = {
        "intree.py": b"",
        "intree-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: intree\\nVersion: 1.0\\n\\n",
        "intree-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\\nGenerator: intree\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        ),
    }
    record = ""
    for path, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\\n"
    members["intree-1.0.dist-info/RECORD"] = (record + "intree-1.0.dist-info/RECORD,,\\n").encode()
    name = "intree-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return name


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    print("intree: editable", flush=True)
    return build_wheel(wheel_directory, config_settings, metadata_directory)
'''


def intree_project(root: Path, build_system: str = "") -> Path:
    """A project whose backend is ``intree.py`` in the project itself."""
    root.mkdir(parents=True)
    (root / "intree.py").write_text(INTREE_BACKEND)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "intree"\nversion = "1.0"\n\n'
        + (build_system or '[build-system]\nrequires = []\nbuild-backend = "intree"\n'
           'backend-path = ["."]\n')
    )
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def build(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return kiln("build", *args, env=env)


def seen_by_backend(stderr: str) -> dict[str, object]:
    line = next(line for line in stderr.splitlines() if line.startswith("intree: {"))
    seen: dict[str, object] = json.loads(line.removeprefix("intree: "))
    return seen


def error_line(stderr: str) -> str:
    """kiln's one-line error: the first ``error:`` line, after any backend output."""
    line = next(line for line in stderr.splitlines() if line.startswith("error: "))
    assert "Traceback" not in stderr.rpartition("error: ")[2]
    return line


# --- PEP 517 hooks through pypa/build --------------------------------------------------------


def test_hooks_run_in_the_cached_build_environment_with_its_settings(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = intree_project(tmp_path / "intree")
    result = ok(build(project, "--wheel", "-v", "-C", "colour=blue", env=env))
    assert (project / "dist" / "intree-1.0-py3-none-any.whl").is_file()
    seen = seen_by_backend(result.stderr)  # streamed with -v
    [env_dir] = [p for p in (tmp_path / "cache" / CACHE_BUCKET).iterdir() if p.is_dir()]
    assert seen["virtual_env"] == str(env_dir)
    assert Path(str(seen["python"])).parent.parent == env_dir
    assert seen["config_settings"] == {"colour": "blue"}


def test_no_build_isolation_runs_the_hooks_with_kilns_interpreter(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = intree_project(tmp_path / "intree")
    result = ok(build(project, "--wheel", "-v", "--no-build-isolation", env=env))
    seen = seen_by_backend(result.stderr)
    assert (seen["python"], seen["virtual_env"]) == (sys.executable, None)
    assert not (tmp_path / "cache" / CACHE_BUCKET).exists()


def test_a_failing_hook_shows_the_backend_output_and_one_error_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = intree_project(tmp_path / "intree")
    result = build(project, "--wheel", "-C", "fail=3", env=env)
    assert result.returncode == 1
    assert "intree: failing on purpose" in result.stderr.partition("error: ")[0]
    assert error_line(result.stderr) == (
        "error: build backend hook `intree.build_wheel` failed for `intree` (exit status 3)"
    )
    assert not (project / "dist").exists()


def test_a_backend_that_cannot_be_imported_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    project = intree_project(
        tmp_path / "intree",
        '[build-system]\nrequires = []\nbuild-backend = "nowhere_backend"\n',
    )
    result = build(project, "--wheel", env=env)
    assert result.returncode == 1
    assert error_line(result.stderr).startswith(
        "error: cannot import build backend `nowhere_backend` for `intree`: "
    )


def test_a_build_system_key_pypa_build_does_not_know_is_an_error_naming_the_file(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = intree_project(
        tmp_path / "intree",
        '[build-system]\nrequires = []\nbuild-backend = "intree"\nbackend-path = ["."]\n'
        "cache = true\n",
    )
    result = build(project, "--wheel", env=env)
    assert result.returncode == 1
    pyproject = project / "pyproject.toml"
    assert error_line(result.stderr) == (
        f"error: `{pyproject}`: invalid `[build-system]` table: Unknown properties: cache"
    )
    assert "hint: `[build-system]` takes `requires`, `build-backend` and `backend-path` only" in (
        result.stderr
    )


def test_an_editable_install_of_another_backend_calls_its_pep_660_hook(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = intree_project(tmp_path / "intree")
    venv = make_venv(tmp_path / "venv", env)
    result = ok(kiln("pip", "install", "--python", venv, "--no-index", "-e", project, env=env))
    assert result.stderr.count("Building intree @ ") == 1
    site = next((venv / "lib").glob("python*/site-packages"))
    direct = json.loads((site / "intree-1.0.dist-info" / "direct_url.json").read_text())
    assert direct == {"url": project.resolve().as_uri(), "dir_info": {"editable": True}}
    [env_dir] = [p for p in (tmp_path / "cache" / CACHE_BUCKET).iterdir() if p.is_dir()]
    assert (env_dir / "kiln-build-env.json").is_file()  # built in a cached build environment


# --- direct references: one index client, one cache -----------------------------------------


@pytest.fixture
def served_sdist(tmp_path: Path, env: dict[str, str]) -> tuple[IndexServer, Path]:
    """The sdist of `helper` 1.5 (a kiln_build project) on a loopback server."""
    project = kiln_project(tmp_path / "helper", "helper", version="1.5")
    ok(build(project, "--sdist", env=env))
    sdist = project / "dist" / "helper-1.5.tar.gz"
    server = IndexServer()
    server.add(sdist)
    return server, sdist


def test_a_remote_sdist_is_downloaded_into_the_index_cache_and_recorded_without_its_hash(
    tmp_path: Path, env: dict[str, str], served_sdist: tuple[IndexServer, Path]
) -> None:
    server, sdist = served_sdist
    venv = make_venv(tmp_path / "venv", env)
    with server:
        url = f"{server.base}/files/{sdist.name}"
        reference = f"helper @ {url}#sha256={sha256_of(sdist)}"
        ok(kiln("pip", "install", "--python", venv, "--no-index", reference, env=env))
        downloads = [r for r in server.requests(f"/files/{sdist.name}") if "Range" not in r.headers]
        assert len(downloads) == 1
    assert run_python(venv, "import helper; print(helper.VALUE)") == "helper"
    site = next((venv / "lib").glob("python*/site-packages"))
    direct = json.loads((site / "helper-1.5.dist-info" / "direct_url.json").read_text())
    assert direct == {"url": url, "archive_info": {"hashes": {"sha256": sha256_of(sdist)}}}
    cached = list((tmp_path / "cache" / "files-v1").rglob(sdist.name))
    assert [path.read_bytes() for path in cached] == [sdist.read_bytes()]


def test_a_remote_sdist_that_does_not_match_its_url_hash_is_not_built(
    tmp_path: Path, env: dict[str, str], served_sdist: tuple[IndexServer, Path]
) -> None:
    server, sdist = served_sdist
    venv = make_venv(tmp_path / "venv", env)
    with server:
        reference = f"helper @ {server.base}/files/{sdist.name}#sha256={'0' * 64}"
        result = kiln("pip", "install", "--python", venv, "--no-index", reference, env=env)
    assert result.returncode == 1
    assert f"error: hash mismatch for `{sdist.name}`" in result.stderr
    assert "Traceback" not in result.stderr
    assert "helper" not in ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout
