"""`kiln build` with build requirements taken from `[tool.kiln.sources]`.

The build backend of the test projects is `tinybackend`, a tiny PEP 517 backend project that is
itself built with `flit_core`: a path, git or workspace source therefore means a nested isolated
build. Everything runs offline: flit_core comes from the local (``file://``) indexes of pip's
configuration, the pinned index is a loopback server and the git repositories are made here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from indexserver import IndexServer, sha256_of

from kiln.core.builder.envcache import CACHE_BUCKET, MARKER
from kiln.core.index.pipconfig import pip_index_settings

BACKEND_MODULE = '''\
"""A tiny PEP 517 backend: packs ``src/<module>`` into a wheel."""

import base64
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile

__version__ = "{version}"


def _project():
    with open("pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    return project["name"], project["version"], project["name"].replace("-", "_")


def _files(module):
    for folder, _dirs, names in os.walk(os.path.join("src", module)):
        for name in sorted(names):
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                yield os.path.relpath(path, "src").replace(os.sep, "/"), handle.read()


def _line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{{path}},sha256={{digest}},{{len(data)}}\\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, module = _project()
    info = f"{{module}}-{{version}}.dist-info"
    members = dict(_files(module))
    members[f"{{info}}/METADATA"] = (
        f"Metadata-Version: 2.1\\nName: {{name}}\\nVersion: {{version}}\\n\\n"
    ).encode()
    members[f"{{info}}/WHEEL"] = (
        f"Wheel-Version: 1.0\\nGenerator: tinybackend {{__version__}}\\n"
        "Root-Is-Purelib: true\\nTag: py3-none-any\\n"
    ).encode()
    record = "".join(_line(p, d) for p, d in members.items()) + f"{{info}}/RECORD,,\\n"
    members[f"{{info}}/RECORD"] = record.encode()
    filename = f"{{module}}-{{version}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in members.items():
            archive.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    name, version, module = _project()
    top = f"{{module}}-{{version}}"
    members = {{"src/" + p: d for p, d in _files(module)}}
    with open("pyproject.toml", "rb") as handle:
        members["pyproject.toml"] = handle.read()
    members["PKG-INFO"] = f"Metadata-Version: 2.1\\nName: {{name}}\\nVersion: {{version}}\\n\\n".encode()
    filename = f"{{top}}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as archive:
        for path, data in members.items():
            entry = tarfile.TarInfo(f"{{top}}/{{path}}")
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return filename
'''

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


# --- helpers -----------------------------------------------------------------------------


def backend_project(root: Path, version: str = "0.1.0", *, module: bool = True) -> Path:
    """The `tinybackend` project (built with flit_core); ``module=False`` makes it unbuildable."""
    root.mkdir(parents=True, exist_ok=True)
    if module:
        (root / "tinybackend.py").write_text(BACKEND_MODULE.format(version=version))
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "tinybackend"\nversion = "{version}"\n'
        'description = "A tiny build backend"\n\n'
        '[build-system]\nrequires = ["flit_core>=3.2,<5"]\nbuild-backend = "flit_core.buildapi"\n'
    )
    return root


def app_project(root: Path, extra: str = "", *, name: str = "app") -> Path:
    """A project built by `tinybackend`; ``extra`` is appended to its pyproject.toml."""
    (root / "src" / name).mkdir(parents=True)
    (root / "src" / name / "__init__.py").write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "1.0.0"\n\n'
        '[build-system]\nrequires = ["tinybackend"]\nbuild-backend = "tinybackend"\n\n' + extra
    )
    return root


def kiln(
    *args: str | Path, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiln", "build", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def ok(result: subprocess.CompletedProcess[str]) -> list[Path]:
    assert result.returncode == 0, result.stderr
    return [Path(line) for line in result.stdout.splitlines()]


def failed(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    # A failing backend's own output (which may hold its traceback) comes before kiln's error.
    assert "Traceback" not in result.stderr.rpartition("error: ")[2]
    return result.stderr


def generator(wheel: Path) -> str:
    """The `Generator` of a wheel: which tinybackend version built it."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))
        text = archive.read(name).decode()
    return next(
        line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Generator")
    )


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return result.stdout.strip()


def installed_in_envs(env: dict[str, str]) -> list[list[str]]:
    bucket = Path(env["KILN_CACHE_DIR"]) / CACHE_BUCKET
    return [
        json.loads((path / MARKER).read_text())["packages"]
        for path in sorted(bucket.iterdir())
        if (path / MARKER).is_file()
    ]


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the CLI: a build-env cache for the session and only local indexes."""
    settings = pip_index_settings()
    local = [
        u for u in (settings.index_url or "", *settings.extra_index_urls) if u.startswith("file://")
    ]
    if not local:
        pytest.skip("pip's configuration has no local (file://) package index")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "VIRTUAL_ENV"))}
    environ["KILN_CACHE_DIR"] = str(tmp_path_factory.mktemp("kiln-cache"))
    environ["NO_COLOR"] = "1"
    environ["PIP_INDEX_URL"] = local[0]
    environ["PIP_EXTRA_INDEX_URL"] = " ".join(local[1:])
    environ["PIP_FIND_LINKS"] = ""
    return environ


@pytest.fixture(scope="session")
def backend_wheel(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """The tinybackend 0.1.0 wheel, built once with flit_core."""
    project = backend_project(tmp_path_factory.mktemp("backend") / "tinybackend")
    (wheel,) = ok(kiln(project, "--wheel", env=env))
    return wheel


# --- sources -----------------------------------------------------------------------------


def test_path_source_builds_the_backend_project_in_a_nested_isolated_build(
    tmp_path: Path, env: dict[str, str]
) -> None:
    backend_project(tmp_path / "tinybackend")
    app = app_project(
        tmp_path / "app", '[tool.kiln.sources]\ntinybackend = { path = "../tinybackend" }\n'
    )
    built = ok(kiln(app, env=env))
    assert [path.name for path in built] == ["app-1.0.0.tar.gz", "app-1.0.0-py3-none-any.whl"]
    assert generator(app / "dist" / "app-1.0.0-py3-none-any.whl") == "tinybackend 0.1.0"
    with zipfile.ZipFile(app / "dist" / "app-1.0.0-py3-none-any.whl") as archive:
        assert "app/__init__.py" in archive.namelist()


def test_git_source_by_tag_and_by_commit_each_get_their_own_environment(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = tmp_path / "repo"
    backend_project(repo / "backend", "0.1.0")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "0.1.0")
    git(repo, "tag", "v1")
    backend_project(repo / "backend", "0.2.0")
    git(repo, "commit", "-q", "-am", "0.2.0")
    second = git(repo, "rev-parse", "HEAD")
    url = repo.as_uri()

    by_tag = app_project(
        tmp_path / "by-tag",
        f'[tool.kiln.sources]\ntinybackend = {{ git = "{url}", tag = "v1", subdirectory = "backend" }}\n',
    )
    (wheel,) = ok(kiln(by_tag, "--wheel", env=env))
    assert generator(wheel) == "tinybackend 0.1.0"

    by_commit = app_project(
        tmp_path / "by-commit",
        f'[tool.kiln.sources]\ntinybackend = {{ git = "{url}", rev = "{second}", subdirectory = "backend" }}\n',
    )
    (wheel,) = ok(kiln(by_commit, "--wheel", env=env))
    assert generator(wheel) == "tinybackend 0.2.0"
    installed = installed_in_envs(env)
    assert ["tinybackend==0.1.0"] in installed
    assert ["tinybackend==0.2.0"] in installed


def test_url_source_uses_a_local_wheel(
    tmp_path: Path, env: dict[str, str], backend_wheel: Path
) -> None:
    app = app_project(
        tmp_path / "app",
        f'[tool.kiln.sources]\ntinybackend = {{ url = "{backend_wheel.as_uri()}" }}\n',
    )
    (wheel,) = ok(kiln(app, "--wheel", env=env))
    assert generator(wheel) == "tinybackend 0.1.0"


def test_url_source_over_http_is_downloaded_once_into_the_index_clients_cache(
    tmp_path: Path, env: dict[str, str], backend_wheel: Path
) -> None:
    own = {**env, "KILN_CACHE_DIR": str(tmp_path / "cache")}
    server = IndexServer()
    server.add(backend_wheel)
    with server:
        url = f"{server.base}/files/{backend_wheel.name}#sha256={sha256_of(backend_wheel)}"
        app = app_project(tmp_path / "app", f'[tool.kiln.sources]\ntinybackend = {{ url = "{url}" }}\n')
        (wheel,) = ok(kiln(app, "--wheel", env=own))
        ok(kiln(app, "--wheel", "--refresh", env=own))
        downloads = server.requests(f"/files/{backend_wheel.name}")
    assert generator(wheel) == "tinybackend 0.1.0"
    assert len(downloads) == 2  # once, and again for --refresh
    cached = list((tmp_path / "cache" / "files-v1").rglob(backend_wheel.name))
    assert [path.read_bytes() for path in cached] == [backend_wheel.read_bytes()]
    assert not (tmp_path / "cache" / "build-sources-v1").exists()


def test_url_source_that_does_not_match_its_hash_is_refused(
    tmp_path: Path, env: dict[str, str], backend_wheel: Path
) -> None:
    with IndexServer() as server:
        server.add(backend_wheel)
        url = f"{server.base}/files/{backend_wheel.name}#sha256={'0' * 64}"
        app = app_project(tmp_path / "app", f'[tool.kiln.sources]\ntinybackend = {{ url = "{url}" }}\n')
        stderr = failed(kiln(app, "--wheel", env=env))
    assert f"error: hash mismatch for `{backend_wheel.name}`" in stderr
    assert not (app / "dist").exists()


def test_path_source_to_an_sdist_builds_it(tmp_path: Path, env: dict[str, str]) -> None:
    (sdist,) = ok(kiln(backend_project(tmp_path / "tinybackend", "0.3.0"), "--sdist", env=env))
    app = app_project(
        tmp_path / "app", f'[tool.kiln.sources]\ntinybackend = {{ path = "{sdist}" }}\n'
    )
    (wheel,) = ok(kiln(app, "--wheel", env=env))
    assert generator(wheel) == "tinybackend 0.3.0"


def _pinned_project(root: Path, url: str) -> Path:
    return app_project(
        root,
        '[tool.kiln.sources]\ntinybackend = { index = "private" }\n\n'
        f'[[tool.kiln.index]]\nname = "private"\nurl = "{url}"\nexplicit = true\n',
    )


def test_index_source_takes_the_backend_from_the_pinned_index(
    tmp_path: Path, env: dict[str, str], backend_wheel: Path
) -> None:
    server = IndexServer()
    server.add(backend_wheel)
    with server:
        app = _pinned_project(tmp_path / "app", server.url)
        (wheel,) = ok(kiln(app, "--wheel", env=env))
    assert generator(wheel) == "tinybackend 0.1.0"
    assert server.requests("/simple/tinybackend/")
    assert server.requests(f"/files/{backend_wheel.name}")


def test_index_source_is_asked_with_the_credentials_of_the_pinned_index(
    tmp_path: Path, env: dict[str, str], backend_wheel: Path
) -> None:
    server = IndexServer(auth=("builder", "s3cret"))
    server.add(backend_wheel)
    with server:
        app = _pinned_project(tmp_path / "app", server.url)
        stderr = failed(kiln(app, "--wheel", env=env))
        assert "error: index `private` answered 401 for `tinybackend` (access denied)" in stderr
        assert "`KILN_INDEX_PRIVATE_USERNAME`/`_PASSWORD`" in stderr
        login = {"KILN_INDEX_PRIVATE_USERNAME": "builder", "KILN_INDEX_PRIVATE_PASSWORD": "s3cret"}
        (wheel,) = ok(kiln(app, "--wheel", env={**env, **login}))
    assert generator(wheel) == "tinybackend 0.1.0"


def test_index_source_without_the_package_is_an_error(
    tmp_path: Path, env: dict[str, str], backend_wheel: Path
) -> None:
    with IndexServer() as server:
        stderr = failed(kiln(_pinned_project(tmp_path / "app", server.url), "--wheel", env=env))
    assert (
        "error: build requirement `tinybackend` of `app` was not found on index `private`" in stderr
    )
    assert "no other index is asked" in stderr


def test_workspace_member_is_built_as_the_backend_of_another_member(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.kiln.workspace]\nmembers = ["packages/*"]\n\n'
        "[tool.kiln.sources]\ntinybackend = { workspace = true }\n"
    )
    backend_project(root / "packages" / "tinybackend")
    app_project(root / "packages" / "app")
    built = ok(kiln("--package", "app", "--wheel", env=env, cwd=root))
    assert [path.name for path in built] == ["app-1.0.0-py3-none-any.whl"]
    assert generator(root / "dist" / "app-1.0.0-py3-none-any.whl") == "tinybackend 0.1.0"


# --- turning sources off, constraints and errors -----------------------------------------


def test_no_sources_fails_naming_the_package_missing_from_the_indexes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    backend_project(tmp_path / "tinybackend")
    app = app_project(
        tmp_path / "app", '[tool.kiln.sources]\ntinybackend = { path = "../tinybackend" }\n'
    )
    for flags in (["--no-sources"], ["--no-sources-package", "TinyBackend"]):
        stderr = failed(kiln(app, "--wheel", *flags, env=env))
        assert (
            "error: build requirement `tinybackend` of `app` was not found on any package index"
            in stderr
        )
        assert f"which `{flags[0]}` ignores" in stderr
    assert not (app / "dist").exists()


def test_a_constraint_that_excludes_the_only_version_is_explained(
    tmp_path: Path, env: dict[str, str], backend_wheel: Path
) -> None:
    app = app_project(
        tmp_path / "app",
        f'[tool.kiln.sources]\ntinybackend = {{ url = "{backend_wheel.as_uri()}" }}\n',
    )
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("tinybackend<0.1\n")
    stderr = failed(kiln(app, "--wheel", "-b", constraints, env=env))
    assert "error: no version of build requirement `tinybackend` of `app` can be used:" in stderr
    assert f"the build constraint `tinybackend<0.1` (from `{constraints}`) excludes it" in stderr
    assert "so the only version of `tinybackend` is ruled out" in stderr


def test_build_constraint_dependencies_of_the_workspace_root_apply(
    tmp_path: Path, env: dict[str, str], backend_wheel: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.kiln.workspace]\nmembers = ["app"]\n\n'
        '[tool.kiln]\nbuild-constraint-dependencies = ["tinybackend>=2"]\n\n'
        f'[tool.kiln.sources]\ntinybackend = {{ url = "{backend_wheel.as_uri()}" }}\n'
    )
    app_project(root / "app")
    stderr = failed(kiln(root / "app", "--wheel", env=env))
    assert (
        "the build constraint `tinybackend>=2` (from `tool.kiln.build-constraint-dependencies` "
        f"in `{root / 'pyproject.toml'}`) excludes it"
    ) in stderr


def test_a_cycle_of_path_sources_names_the_chain(tmp_path: Path, env: dict[str, str]) -> None:
    for name, other in (("alpha", "beta"), ("beta", "alpha")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "1.0"\n\n'
            f'[build-system]\nrequires = ["{other}"]\nbuild-backend = "{other}"\n\n'
            f'[tool.kiln.sources]\n{other} = {{ path = "../{other}" }}\n'
        )
    stderr = failed(kiln(tmp_path / "alpha", env=env))
    assert "error: build dependency cycle: alpha -> beta -> alpha" in stderr


def test_a_failing_nested_build_names_the_build_requirement_and_its_project(
    tmp_path: Path, env: dict[str, str]
) -> None:
    backend_project(tmp_path / "tinybackend", module=False)
    app = app_project(
        tmp_path / "app", '[tool.kiln.sources]\ntinybackend = { path = "../tinybackend" }\n'
    )
    stderr = failed(kiln(app, "--wheel", env=env))
    assert "error: build backend hook `flit_core.buildapi." in stderr
    assert (
        "failed for `tinybackend` (exit status 1)\n"
        "while building build requirement `tinybackend` of `app`\n"
    ) in stderr


def test_a_missing_source_path_is_an_error_naming_the_key(
    tmp_path: Path, env: dict[str, str]
) -> None:
    app = app_project(
        tmp_path / "app", '[tool.kiln.sources]\ntinybackend = { path = "../nowhere" }\n'
    )
    stderr = failed(kiln(app, "--wheel", env=env))
    assert "`tool.kiln.sources.tinybackend`: path `../nowhere` does not exist" in stderr


def test_no_sources_ignores_a_broken_sources_table_for_the_fast_path(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = tmp_path / "plain"
    (project / "src" / "plain").mkdir(parents=True)
    (project / "src" / "plain" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "plain"\nversion = "1.0"\n\n'
        '[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n\n'
        '[tool.kiln.sources]\nkiln-build = { path = "../nowhere" }\n'
    )
    assert failed(kiln(project, "--wheel", env=env))
    (wheel,) = ok(kiln(project, "--wheel", "--no-sources", env=env))
    assert wheel.name == "plain-1.0-py3-none-any.whl"
    shutil.rmtree(project / "dist")
