"""uv's binary and build options (`--no-binary`, `--only-binary`, `--no-build`,
`--no-build-isolation`, `-C`, `--fork-strategy`, ...): a real loopback index, real venvs,
real builds."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from packaging.utils import canonicalize_name
from pip_helpers import base_env, kiln, kiln_project, make_venv, ok, run_python

from kiln.core.types import BuildChoices

NO_BUILD = "has no usable wheel, and building it from source is disabled"
NO_WHEELS = "has no source distribution, and using wheels is disabled"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """`wheelonly` 1.0 (a wheel); `mixed` 1.0 (a wheel) and 2.0 (an sdist only);
    `both` 1.0 (a wheel and a buildable kiln_build sdist whose module says `built`);
    `onlysource` 1.0 (an sdist only)."""
    files = tmp_path_factory.mktemp("files")
    env = base_env(tmp_path_factory.mktemp("cache"))
    server = IndexServer()
    server.add(build_wheel(files, "wheelonly", "1.0"))
    server.add(build_wheel(files, "mixed", "1.0"))
    server.add(_sdist(tmp_path_factory.mktemp("mixed"), "mixed", "2.0", env))
    server.add(build_wheel(files, "both", "1.0"))
    server.add(_sdist(tmp_path_factory.mktemp("both"), "both", "1.0", env))
    server.add(_sdist(tmp_path_factory.mktemp("onlysource"), "onlysource", "1.0", env))
    with server:
        yield server


def _sdist(root: Path, name: str, version: str, env: dict[str, str]) -> Path:
    project = kiln_project(root / name, name, version)
    (project / "src" / name / "__init__.py").write_text("ORIGIN = 'built'\n")
    ok(kiln("build", "--sdist", project, env=env))
    return project / "dist" / f"{name}-{version}.tar.gz"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def install(venv: Path, env: dict[str, str], index: IndexServer, *args: str | Path):  # type: ignore[no-untyped-def]
    return kiln("pip", "install", "--python", venv, "--default-index", index.url, *args, env=env)


def installed(venv: Path, env: dict[str, str]) -> list[str]:
    return ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout.split()


def test_no_build_refuses_a_package_that_has_only_an_sdist_and_says_why(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = install(venv, env, index, "--no-build", "onlysource")
    assert result.returncode == 1
    assert NO_BUILD in result.stderr
    assert "Traceback" not in result.stderr
    assert installed(venv, env) == []


def test_only_binary_all_picks_the_older_version_that_has_a_wheel(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(install(venv, env, index, "--only-binary", ":all:", "mixed"))
    assert installed(venv, env) == ["mixed==1.0"]
    other = make_venv(tmp_path / "other", env)
    ok(install(other, env, index, "mixed"))  # without it, 2.0 is built from its sdist
    assert installed(other, env) == ["mixed==2.0"]


def test_only_binary_none_clears_the_list_given_before_it(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(install(venv, env, index, "--only-binary", ":all:", "--only-binary", ":none:", "mixed"))
    assert installed(venv, env) == ["mixed==2.0"]


def test_no_binary_builds_the_package_from_its_sdist(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(install(venv, env, index, "--no-binary", "both", "both"))
    assert run_python(venv, "import both; print(both.ORIGIN)") == "built"
    wheel = make_venv(tmp_path / "wheel", env)
    ok(install(wheel, env, index, "both"))
    assert run_python(wheel, "import both; print(hasattr(both, 'ORIGIN'))") == "False"


def test_no_binary_refuses_a_package_that_has_only_wheels_and_says_why(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = install(venv, env, index, "--no-binary", ":all:", "wheelonly")
    assert result.returncode == 1
    assert NO_WHEELS in result.stderr


def test_a_package_named_in_no_binary_is_exempt_from_only_binary_all(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(install(venv, env, index, "--only-binary", ":all:", "--no-binary", "both",
               "both", "mixed"))
    assert installed(venv, env) == ["both==1.0", "mixed==1.0"]
    assert run_python(venv, "import both; print(both.ORIGIN)") == "built"


def test_build_choices_precedence_follows_uv() -> None:
    a, b = canonicalize_name("a"), canonicalize_name("b")
    choices = BuildChoices(no_build_all=True, no_binary=frozenset({a}))
    assert choices.builds_allowed(a) and not choices.wheels_allowed(a)
    assert not choices.builds_allowed(b) and choices.wheels_allowed(b)
    assert BuildChoices().record() == {}
    assert choices.record() == {"no-binary": ["a"], "no-build": [":all:"]}


def test_no_build_refuses_a_local_project_but_not_an_editable(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    project = kiln_project(tmp_path / "local", "local")
    result = install(venv, env, index, "--no-build", project)
    assert result.returncode == 1
    assert "building `local @ file://" in result.stderr
    assert "from source is disabled" in result.stderr
    ok(install(venv, env, index, "--no-build", "-e", project))
    assert run_python(venv, "import local; print(local.VALUE)") == "local"


# -- build settings: an in-tree backend that records where and how it ran -------------------

BACKEND = '''
import base64, hashlib, json, os, sys, zipfile

def _b64(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    {import_line}
    name = "recorder-1.0-py3-none-any.whl"
    info = "recorder-1.0.dist-info"
    record = json.dumps({{"prefix": sys.prefix, "settings": config_settings or {{}}}})
    members = {{
        "recorder.py": ("RECORD = " + repr(record) + "\\n").encode(),
        info + "/METADATA": b"Metadata-Version: 2.1\\nName: recorder\\nVersion: 1.0\\n",
        info + "/WHEEL": b"Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    lines = "".join(f"{{p}},sha256={{_b64(d)}},{{len(d)}}\\n" for p, d in members.items())
    members[info + "/RECORD"] = (lines + info + "/RECORD,,\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return name
'''


def recorder(root: Path, *, needs: str | None = None) -> Path:
    """A project whose backend (in-tree) imports ``needs`` and records its interpreter's
    prefix and the config settings it was given."""
    root.mkdir(parents=True)
    (root / "backend.py").write_text(
        BACKEND.format(import_line=f"import {needs}" if needs else "pass")
    )
    (root / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "recorder"
        version = "1.0"

        [build-system]
        requires = []
        build-backend = "backend"
        backend-path = ["."]
    """))
    return root


def record_of(venv: Path) -> dict[str, object]:
    import json

    return json.loads(run_python(venv, "import recorder; print(recorder.RECORD)"))  # type: ignore[no-any-return]


def test_no_build_isolation_builds_in_the_target_environment(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(install(venv, env, index, "wheelonly"))  # only the target environment has it
    project = recorder(tmp_path / "recorder", needs="wheelonly")
    isolated = install(venv, env, index, project)
    assert isolated.returncode == 1  # the isolated environment has no `wheelonly`
    ok(install(venv, env, index, "--no-build-isolation", project))
    assert Path(str(record_of(venv)["prefix"])).resolve() == venv.resolve()


def test_no_build_isolation_package_applies_to_that_package_only(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(install(venv, env, index, "wheelonly"))
    project = recorder(tmp_path / "recorder", needs="wheelonly")
    other = install(venv, env, index, "--no-build-isolation-package", "other", project)
    assert other.returncode == 1
    ok(install(venv, env, index, "--no-build-isolation-package", "recorder", project))


def test_config_settings_reach_the_backend_and_package_settings_win(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    project = recorder(tmp_path / "recorder")
    ok(install(venv, env, index, "-C", "mode=fast", "-C", "level=1",
               "--config-settings-package", "recorder:level=2",
               "--config-settings-package", "other:mode=slow", project))
    assert record_of(venv)["settings"] == {"mode": "fast", "level": "2"}


def test_a_malformed_package_config_setting_is_a_one_line_error(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = install(venv, env, index, "--config-settings-package", "level=2", "wheelonly")
    assert result.returncode == 2  # a usage error
    assert "expected `PACKAGE:KEY=VALUE`" in result.stderr
    assert "Traceback" not in result.stderr


# -- compile: --fork-strategy, --exclude-newer-package --------------------------------------


@pytest.fixture(scope="module")
def forking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """`forked` 1.0 for Python >= 3.8 and 2.0 for Python >= 3.10; `dated` 1.0 (2024) and
    2.0 (2025)."""
    files = tmp_path_factory.mktemp("forking")
    server = IndexServer()
    server.add(build_wheel(files, "forked", "1.0"), requires_python=">=3.8")
    server.add(build_wheel(files, "forked", "2.0"), requires_python=">=3.10")
    server.add(build_wheel(files, "dated", "1.0"), upload_time="2024-01-01T00:00:00Z")
    server.add(build_wheel(files, "dated", "2.0"), upload_time="2025-01-01T00:00:00Z")
    with server:
        yield server


def compile_(tmp_path: Path, env: dict[str, str], server: IndexServer, text: str,
             *args: str) -> str:
    source = tmp_path / "requirements.in"
    source.write_text(text)
    result = ok(kiln("pip", "compile", source, "--no-header", "--no-annotate",
                     "--default-index", server.url, *args, env=env))
    return "\n".join(line for line in result.stdout.splitlines() if line.strip())


def test_fork_strategy_fewest_picks_one_version_for_every_python(
    tmp_path: Path, env: dict[str, str], forking: IndexServer
) -> None:
    universal = ("--universal", "--python-version", "3.8")
    default = compile_(tmp_path, env, forking, "forked\n", *universal)
    assert "forked==2.0" in default and "forked==1.0" in default
    fewest = compile_(tmp_path, env, forking, "forked\n", *universal, "--fork-strategy", "fewest")
    assert fewest == "forked==1.0"


def test_exclude_newer_package_leaves_out_the_newer_files_of_its_package(
    tmp_path: Path, env: dict[str, str], forking: IndexServer
) -> None:
    text = compile_(tmp_path, env, forking, "dated\n", "--exclude-newer-package",
                    "dated=2024-06-01")
    assert text == "dated==1.0"
    text = compile_(tmp_path, env, forking, "dated\nforked\n", "--exclude-newer-package",
                    "dated=2025-06-01", "--exclude-newer-package", "forked=false")
    assert text == "dated==2.0\nforked==2.0"  # `false`: no cutoff for `forked`


def test_exclude_newer_leaves_out_files_without_an_upload_time_as_uv_does(
    tmp_path: Path, env: dict[str, str], forking: IndexServer
) -> None:
    """The index gives `forked` no upload times: under a cutoff nothing vouches for its files,
    so they are left out, and the failure says how to take them anyway."""
    source = tmp_path / "requirements.in"
    source.write_text("forked\n")
    failed = kiln("pip", "compile", source, "--default-index", forking.url,
                  "--exclude-newer", "2030-01-01", env=env)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert ("files of `forked` were left out because their index gives no upload time"
            in failed.stderr)
    assert "`--exclude-newer-package forked=false`" in failed.stderr
    text = compile_(tmp_path, env, forking, "forked\n", "--exclude-newer", "2030-01-01",
                    "--exclude-newer-package", "forked=false")
    assert text == "forked==2.0"


def test_exclude_newer_package_needs_a_name_and_a_date(
    tmp_path: Path, env: dict[str, str], forking: IndexServer
) -> None:
    source = tmp_path / "requirements.in"
    source.write_text("dated\n")
    result = kiln("pip", "compile", source, "--exclude-newer-package", "dated", env=env)
    assert result.returncode == 2
    assert "expected `PACKAGE=DATE`" in result.stderr


def test_no_build_is_part_of_the_lock_stamps(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "app"
        version = "1.0"
        requires-python = ">=3.8"
        dependencies = ["mixed"]
    """))
    ok(kiln("lock", "--default-index", index.url, env=env, cwd=root))
    assert 'version = "2.0"' in (root / "pylock.toml").read_text()
    stale = kiln("lock", "--check", "--default-index", index.url, "--no-build", env=env, cwd=root)
    assert stale.returncode == 1
    ok(kiln("lock", "--default-index", index.url, "--no-build", env=env, cwd=root))
    text = (root / "pylock.toml").read_text()
    assert 'version = "1.0"' in text and 'no-build = [":all:"]' in text
    ok(kiln("lock", "--check", "--default-index", index.url, "--no-build", env=env, cwd=root))


def test_sync_no_binary_installs_the_locked_sdist_and_no_build_refuses_one(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "app"
        version = "1.0"
        requires-python = ">=3.8"
        dependencies = ["both", "mixed"]
    """))
    ok(kiln("sync", "--default-index", index.url, "--no-binary-package", "both",
            env=env, cwd=root))
    venv = root / ".venv"
    assert run_python(venv, "import both; print(both.ORIGIN)") == "built"
    # the lock itself is the same as without the option: both files of `both` are in it
    lock = (root / "pylock.toml").read_text()
    assert "both-1.0.tar.gz" in lock and "both-1.0-py3-none-any.whl" in lock
    assert 'name = "mixed"\nversion = "2.0"' in lock  # an sdist only
    # with the lock as it is, the sdist of `mixed` 2.0 may not be built
    frozen = kiln("sync", "--frozen", "--no-build-package", "mixed", "--reinstall",
                  env=env, cwd=root)
    assert frozen.returncode == 1
    assert "mixed" in frozen.stderr and "Traceback" not in frozen.stderr
    # unfrozen, the option is a lock setting: the lock changes to the version with a wheel
    ok(kiln("sync", "--default-index", index.url, "--no-build-package", "mixed",
            env=env, cwd=root))
    assert run_python(venv, "import importlib.metadata as m; print(m.version('mixed'))") == "1.0"
