"""`kiln build`'s options for build environments (issue #19): indexes, resolution, `--python`.

The build backend is a stand-in `setuptools` served only by a loopback index: a project
without `[build-system]` falls back to `setuptools.build_meta:__legacy__`, so every build
here must fetch it from the index given. The wheel it writes records the backend's version
and the Python that ran it; it prints a marker line, which is what `-v` shows.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from indexserver import IndexServer
from pip_helpers import kiln, make_venv, ok, run_python
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
        text = f"BACKEND = {{VERSION!r}}\\nPYTHON = {{python!r}}\\n"
        text += f"CONFIG = {{dict(config_settings or {{}})!r}}\\n"
        try:  # a build requirement of some tests: where it came from
            import helper
        except ImportError:
            pass
        else:
            text += f"HELPER = {{getattr(helper, 'ORIGIN', 'built')!r}}\\n"
            text += f"HELPER_BACKEND = {{getattr(helper, 'BACKEND', None)!r}}\\n"
            text += f"HELPER_CONFIG = {{getattr(helper, 'CONFIG', None)!r}}\\n"
        members = {{
            f"{{name}}.py": text.encode(),
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


def built(project: Path) -> dict[str, Any]:
    """What the stand-in backend recorded in the wheel: its version, the Python that ran it,
    its config settings and, when `helper` was a build requirement, how `helper` was made."""
    with zipfile.ZipFile(project / "dist" / "app-0.1.0-py3-none-any.whl") as archive:
        text = archive.read("app.py").decode()
    values: dict[str, Any] = {}
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


# -- which build requirements are installed, and how (`--no-binary`, `--no-build`, ...) -----

def standin_sdist(directory: Path, name: str = "helper", version: str = "1.0") -> Path:
    """An sdist that the stand-in setuptools builds (`helper`'s wheel then says how)."""
    directory.mkdir(parents=True, exist_ok=True)
    top = f"{name}-{version}"
    path = directory / f"{top}.tar.gz"
    members = {
        f"{top}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{top}/setup.cfg": f"[metadata]\nname = {name}\nversion = {version}\n",
        f"{top}/setup.py": "",
    }
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return path


def helper_wheel(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return make_wheel(directory, "helper", "1.0", {"helper.py": "ORIGIN = 'wheel'\n"})


def needs_helper(root: Path) -> Path:
    """A legacy project whose build also requires `helper`."""
    project = legacy_project(root)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools", "helper"]\n'
        'build-backend = "setuptools.build_meta:__legacy__"\n'
    )
    return project


@pytest.fixture
def helper_index(index: IndexServer, tmp_path: Path) -> IndexServer:
    """The setuptools of `index`, plus `helper` 1.0 as a wheel and as an sdist."""
    index.add(helper_wheel(tmp_path / "wh"))
    index.add(standin_sdist(tmp_path / "sh"))
    return index


def test_no_binary_package_builds_that_build_requirement_from_source(
    tmp_path: Path, env: dict[str, str], helper_index: IndexServer
) -> None:
    project = needs_helper(tmp_path / "app")
    ok(build(project, env, "--default-index", helper_index.url))
    assert built(project)["HELPER"] == "wheel"
    # The cached environment holds the wheel: the option makes another one.
    ok(build(project, env, "--default-index", helper_index.url, "--no-binary-package", "Helper"))
    assert built(project)["HELPER"] == "built"
    assert built(project)["HELPER_BACKEND"] == "61.0"
    ok(build(project, env, "--default-index", helper_index.url))
    assert built(project)["HELPER"] == "wheel"


def test_no_binary_uses_no_wheel_of_any_build_requirement(
    tmp_path: Path, env: dict[str, str], helper_index: IndexServer
) -> None:
    project = needs_helper(tmp_path / "app")
    failed = build(project, env, "--default-index", helper_index.url, "--no-binary")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "installing build requirements failed" in failed.stderr
    assert "setuptools" in failed.stderr and "no source distribution" in failed.stderr


@pytest.mark.parametrize("option", [("--no-build",), ("--no-build-package", "HELPER")])
def test_no_build_refuses_to_build_a_build_requirement(
    tmp_path: Path, env: dict[str, str], index: IndexServer, option: tuple[str, ...]
) -> None:
    index.add(standin_sdist(tmp_path / "sh"))  # no wheel: it must be built
    project = needs_helper(tmp_path / "app")
    failed = build(project, env, "--default-index", index.url, *option)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "installing build requirements failed" in failed.stderr
    assert "helper" in failed.stderr and "`--no-build-package`" in failed.stderr
    # The project itself is still built, as in uv; other packages may still be built.
    ok(build(project, env, "--default-index", index.url, "--no-build-package", "other"))
    assert built(project)["HELPER"] == "built"
    ok(build(legacy_project(tmp_path / "plain"), env, "--default-index", index.url, *option))


def test_the_options_apply_to_the_build_environments_of_build_requirements_too(
    tmp_path: Path, env: dict[str, str], helper_index: IndexServer
) -> None:
    project = needs_helper(tmp_path / "app")
    ok(build(project, env, "--default-index", helper_index.url, "--no-binary-package", "helper",
             "--exclude-newer-package", "setuptools=2024-03-01"))
    values = built(project)
    assert values["HELPER"] == "built"
    assert values["BACKEND"] == values["HELPER_BACKEND"] == "60.0"


def test_a_build_dependency_cycle_is_an_error(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    # setuptools from source needs setuptools to build: with no wheel allowed, never ends.
    index.add(standin_sdist(tmp_path / "ss", "setuptools", "61.0"))
    project = legacy_project(tmp_path / "app")
    failed = build(project, env, "--default-index", index.url, "--no-binary")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "build dependency cycle: `setuptools` -> `setuptools`" in failed.stderr
    ok(build(project, env, "--default-index", index.url))


def test_config_settings_package_reaches_that_build_requirement_only(
    tmp_path: Path, env: dict[str, str], helper_index: IndexServer
) -> None:
    project = needs_helper(tmp_path / "app")
    source = ("--default-index", helper_index.url, "--no-binary-package", "helper")
    ok(build(project, env, *source, "--config-settings-package", "helper:mode=fast",
             "--config-settings-package", "app:ignored=1", "-C", "all=1"))
    values = built(project)
    assert values["HELPER_CONFIG"] == {"mode": "fast", "all": "1"}
    # As in uv, the `-package` settings are for the packages built for the build
    # environment, not for the project that `kiln build` builds.
    assert values["CONFIG"] == {"all": "1"}
    ok(build(project, env, *source, "--config-settings-package", "other:mode=slow"))
    assert built(project)["HELPER_CONFIG"] == {}


def test_no_build_isolation_package_builds_that_requirement_in_the_active_environment(
    tmp_path: Path, env: dict[str, str], helper_index: IndexServer
) -> None:
    active = make_venv(tmp_path / "active", env)
    ok(kiln("pip", "install", "--python", active, "--no-index", "--find-links",
            tmp_path / "w60", "setuptools", env=env))
    project = needs_helper(tmp_path / "app")
    source = ("--default-index", helper_index.url, "--no-binary-package", "helper")
    ok(build(project, {**env, "VIRTUAL_ENV": str(active)}, *source,
             "--no-build-isolation-package", "helper"))
    assert built(project)["HELPER_BACKEND"] == "60.0"  # the active environment's setuptools
    assert built(project)["BACKEND"] == "61.0"  # the project itself: isolated, as in uv
    ok(build(project, {**env, "VIRTUAL_ENV": str(active)}, *source))
    assert built(project)["HELPER_BACKEND"] == "61.0"


@pytest.mark.parametrize(
    ("options", "chosen"),
    [
        (("--exclude-newer-package", "setuptools=2024-03-01"), "60.0"),
        (("--exclude-newer-package", "other=2024-03-01"), "61.0"),
        (("--exclude-newer", "2024-03-01", "--exclude-newer-package", "SetupTools=2024-07-01"),
         "61.0"),
    ],
)
def test_exclude_newer_package_sets_the_cutoff_of_one_build_requirement(
    tmp_path: Path, env: dict[str, str], index: IndexServer, options: tuple[str, ...],
    chosen: str,
) -> None:
    project = legacy_project(tmp_path / "app")
    ok(build(project, env, "--default-index", index.url, "--exclude-newer", "2024-01-20"))
    assert built(project)["BACKEND"] == "60.0"
    # Each setting has an environment of its own: the cached one is not reused.
    ok(build(project, env, "--default-index", index.url, *options))
    assert built(project)["BACKEND"] == chosen


def test_refresh_package_makes_the_environments_holding_it_again(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    project = legacy_project(tmp_path / "app")
    ok(build(project, env, "--index-url", index.url))
    index.add(setuptools_wheel(tmp_path / "w63", "61.5"), upload_time="2024-06-20T00:00:00Z")
    ok(build(project, env, "--index-url", index.url, "--refresh-package", "other"))
    assert built(project)["BACKEND"] == "61.0"  # the cached environment is reused
    ok(build(project, env, "--index-url", index.url, "--refresh-package", "SetupTools"))
    assert built(project)["BACKEND"] == "61.5"


def test_fork_strategy_is_accepted_and_checked(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    project = legacy_project(tmp_path / "app")
    ok(build(project, env, "--default-index", index.url, "--fork-strategy", "fewest"))
    assert built(project)["BACKEND"] == "61.0"
    wrong = build(project, env, "--default-index", index.url, "--fork-strategy", "most")
    assert wrong.returncode == 2 and "--fork-strategy" in wrong.stderr
    assert "Traceback" not in wrong.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--config-settings-package", "mode=fast"),
        ("--config-settings-package", ":mode=fast"),
        ("--exclude-newer-package", "setuptools"),
        ("--exclude-newer-package", "setuptools=soon"),
    ],
)
def test_a_malformed_per_package_option_is_a_usage_error(
    tmp_path: Path, env: dict[str, str], option: str, value: str
) -> None:
    project = legacy_project(tmp_path / "app")
    wrong = build(project, env, "--no-index", option, value)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert wrong.stderr.startswith(f"error: argument {option}: ")
    assert not (project / "dist").exists()


# -- hashes of build requirements (`--build-constraint` lines, `--require-hashes`) -----------


def constraints(tmp_path: Path, *lines: str) -> Path:
    """A build constraints file of ``lines`` (a new one each time)."""
    path = tmp_path / f"build-constraints-{len(list(tmp_path.glob('build-constraints-*')))}.txt"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def setuptools_61(tmp_path: Path) -> Path:
    return tmp_path / "w61" / "setuptools-61.0-py3-none-any.whl"


def test_a_build_constraint_hash_is_checked(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    project = legacy_project(tmp_path / "app")
    wrong = constraints(tmp_path, "setuptools==61.0 --hash=sha256:" + "0" * 64)
    failed = build(project, env, "--default-index", index.url, "-b", wrong)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "hash mismatch for `setuptools`" in failed.stderr
    assert not (project / "dist" / "app-0.1.0-py3-none-any.whl").exists()
    right = constraints(tmp_path, f"setuptools==61.0 --hash={digest(setuptools_61(tmp_path))}")
    ok(build(project, env, "--default-index", index.url, "-b", right))
    assert built(project)["BACKEND"] == "61.0"
    # The hash is part of the environment: a wrong one does not get the cached one.
    failed = build(project, env, "--default-index", index.url, "-b", wrong)
    assert "hash mismatch for `setuptools`" in failed.stderr


def test_require_hashes_needs_a_hash_for_every_build_requirement(
    tmp_path: Path, env: dict[str, str], helper_index: IndexServer
) -> None:
    project = needs_helper(tmp_path / "app")
    ok(build(project, env, "--default-index", helper_index.url))  # a cached environment
    source = ("--default-index", helper_index.url, "--require-hashes")
    failed = build(project, env, *source)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "`setuptools`" in failed.stderr and "--build-constraint" in failed.stderr
    only_one = constraints(tmp_path, f"setuptools==61.0 --hash={digest(setuptools_61(tmp_path))}")
    failed = build(project, env, *source, "-b", only_one)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "`helper`" in failed.stderr
    wheel = tmp_path / "wh" / "helper-1.0-py3-none-any.whl"
    both = constraints(
        tmp_path,
        f"setuptools==61.0 --hash={digest(setuptools_61(tmp_path))}",
        f"helper==1.0 --hash={digest(wheel)}",
    )
    ok(build(project, env, *source, "-b", both))
    assert built(project)["HELPER"] == "wheel"
    # Another installer would not check: refused rather than ignored.
    refused = build(project, {**env, "KILN_BUILD_INSTALLER": "pip"}, *source, "-b", both)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "`--require-hashes` needs kiln's own installer" in refused.stderr


def test_require_hashes_builds_no_sdist_whose_hash_is_not_listed(
    tmp_path: Path, env: dict[str, str], helper_index: IndexServer
) -> None:
    project = needs_helper(tmp_path / "app")
    setuptools = f"setuptools==61.0 --hash={digest(setuptools_61(tmp_path))}"
    source = ("--default-index", helper_index.url, "--require-hashes", "--no-binary-package",
              "helper")
    wheel_only = constraints(
        tmp_path, setuptools, f"helper==1.0 --hash={digest(tmp_path / 'wh' / 'helper-1.0-py3-none-any.whl')}"
    )
    failed = build(project, env, *source, "-b", wheel_only)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "helper" in failed.stderr
    assert not (project / "dist").exists()
    sdist = constraints(
        tmp_path, setuptools, f"helper==1.0 --hash={digest(tmp_path / 'sh' / 'helper-1.0.tar.gz')}"
    )
    ok(build(project, env, *source, "-b", sdist))
    assert built(project)["HELPER"] == "built"


def legacy_sdist(directory: Path, metadata_version: str = "2.1") -> Path:
    """`app-0.1.0.tar.gz`: a `setup.cfg` project, built by the stand-in setuptools (its
    `PKG-INFO` is trusted without a build from `metadata_version` 2.2 on)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "app-0.1.0.tar.gz"
    pkg_info = f"Metadata-Version: {metadata_version}\nName: app\nVersion: 0.1.0\n"
    files = {
        "app-0.1.0/PKG-INFO": pkg_info.encode(),
        "app-0.1.0/setup.cfg": b"[metadata]\nname = app\nversion = 0.1.0\n",
        "app-0.1.0/setup.py": b"",
    }
    with tarfile.open(path, "w:gz") as archive:
        for member, data in files.items():
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return path


def test_a_projects_build_settings_reach_the_sdists_that_kiln_sync_builds(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    """`[tool.uv] config-settings-package` and `no-build-package` of the project hold for
    the sdists of its dependencies, as in uv, not only for the project itself."""
    index.add(legacy_sdist(tmp_path / "sdists"))
    root = tmp_path / "consumer"
    root.mkdir()
    pyproject = root / "pyproject.toml"
    text = ('[project]\nname = "consumer"\nversion = "1"\nrequires-python = ">=3.9"\n'
            'dependencies = ["app"]\n\n[tool.uv]\npackage = false\n'
            'config-settings-package = { app = { mode = "fast" } }\n')
    pyproject.write_text(text)
    run = ("--default-index", index.url)
    ok(kiln("sync", *run, env=env, cwd=root))
    config = run_python(root / ".venv", "import app; print(app.CONFIG)")
    assert config == "{'mode': 'fast'}"
    pyproject.write_text(text + 'no-build-package = ["app"]\n')
    refused = kiln("sync", *run, env=env, cwd=root)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "app" in refused.stderr


def test_no_build_isolation_package_of_the_project_builds_in_the_project_environment(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    """`[tool.uv] no-build-isolation-package`: kiln sync builds that sdist with the project's
    own `.venv`, whose backend the user installed there, as uv does; not in kiln's own
    environment. (The lock reads the sdist's metadata without building it.)"""
    index.add(legacy_sdist(tmp_path / "sdists", metadata_version="2.2"))
    root = tmp_path / "consumer"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "consumer"\nversion = "1"\nrequires-python = ">=3.9"\n'
        'dependencies = ["app"]\n\n[tool.uv]\npackage = false\n'
        'no-build-isolation-package = ["app"]\n'
    )
    run = ("--default-index", index.url)
    failed = kiln("sync", *run, env=env, cwd=root)
    assert failed.returncode == 1 and "setuptools" in failed.stderr  # none in `.venv` yet
    ok(kiln("pip", "install", "setuptools==60.0", "--python", root / ".venv", *run, env=env))
    ok(kiln("sync", "--inexact", *run, env=env, cwd=root))
    assert run_python(root / ".venv", "import app; print(app.BACKEND)") == "60.0"
