"""`--prerelease-package NAME=MODE` (issue #19): a pre-release mode for one package, instead
of `--prerelease`, in `kiln pip compile`/`install`, `kiln lock` and `kiln sync`; for a lock
also `prerelease-package` in `[tool.kiln]`/`[tool.uv]`, a resolution input that the lock
records. The packages come from a loopback index (`kiln build`'s use is tested with the
build environment options, in `test_build_env_options.py`)."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok, run_python


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """alpha and beta: a release and a newer pre-release each; gamma: pre-releases only."""
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    for name in ("alpha", "beta"):
        server.add(build_wheel(files, name, "1.0"))
        server.add(build_wheel(files, name, "2.0b1"))
    server.add(build_wheel(files, "gamma", "1.0b1"))
    with server:
        yield server


def compile_(tmp_path: Path, index: IndexServer, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "requirements.in").write_text("alpha\nbeta\n")
    return kiln("pip", "compile", "requirements.in", "--no-header", "--no-annotate",
                "--default-index", index.url, *args, env=base_env(tmp_path / "cache"),
                cwd=tmp_path)


@pytest.mark.parametrize(
    ("options", "pins"),
    [
        ((), "alpha==1.0\nbeta==1.0\n"),
        (("--prerelease-package", "Alpha=allow"), "alpha==2.0b1\nbeta==1.0\n"),
        (("--prerelease", "allow"), "alpha==2.0b1\nbeta==2.0b1\n"),
        (("--prerelease", "allow", "--prerelease-package", "beta=disallow"),
         "alpha==2.0b1\nbeta==1.0\n"),
        (("--prerelease", "allow", "--prerelease-package", "beta=if-necessary-or-explicit"),
         "alpha==2.0b1\nbeta==1.0\n"),
        # The last mode given for a package wins, as for a repeated option.
        (("--prerelease-package", "alpha=allow", "--prerelease-package", "alpha=explicit"),
         "alpha==1.0\nbeta==1.0\n"),
    ],
)
def test_a_package_mode_wins_over_the_resolutions_for_that_package_only(
    tmp_path: Path, index: IndexServer, options: tuple[str, ...], pins: str
) -> None:
    assert ok(compile_(tmp_path, index, *options)).stdout == pins


def test_disallow_for_a_package_with_only_pre_releases_leaves_no_version(
    tmp_path: Path, index: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("gamma\n")
    run = ("pip", "compile", "requirements.in", "--no-header", "--default-index", index.url)
    env = base_env(tmp_path / "cache")
    assert "gamma==1.0b1" in ok(kiln(*run, env=env, cwd=tmp_path)).stdout
    failed = kiln(*run, "--prerelease-package", "gamma=disallow", env=env, cwd=tmp_path)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "gamma" in failed.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("alpha", "expected `PACKAGE=MODE`, got `alpha`"),
        ("=allow", "expected `PACKAGE=MODE`, got `=allow`"),
        ("alpha=sometimes", "unknown pre-release mode `sometimes`"),
        ("not a name=allow", "`not a name` is not a valid package name"),
    ],
)
def test_a_malformed_value_is_a_usage_error(
    tmp_path: Path, index: IndexServer, value: str, message: str
) -> None:
    failed = compile_(tmp_path, index, "--prerelease-package", value)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert message in failed.stderr


def test_pip_install_installs_the_pre_release_of_that_package_only(
    tmp_path: Path, index: IndexServer
) -> None:
    env = base_env(tmp_path / "cache")
    venv = make_venv(tmp_path / "venv", env)
    ok(kiln("pip", "install", "--python", venv / "bin" / "python", "alpha", "beta",
            "--default-index", index.url, "--prerelease-package", "beta=allow", env=env))
    versions = run_python(venv, "import importlib.metadata as m; "
                                "print(m.version('alpha'), m.version('beta'))")
    assert versions == "1.0 2.0b1"


# -- kiln lock and kiln sync ---------------------------------------------------------------------


def project(root: Path, tool: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "app"
        version = "1"
        requires-python = ">=3.9"
        dependencies = ["alpha", "beta"]
        """) + tool)
    return root


def lock(root: Path, index: IndexServer, *args: str) -> subprocess.CompletedProcess[str]:
    result = kiln("lock", "--default-index", index.url, *args,
                  env=base_env(root.parent / "cache"), cwd=root)
    assert "Traceback" not in result.stderr
    return result


def locked(root: Path) -> dict[str, str]:
    data = tomllib.loads((root / "pylock.toml").read_text())
    return {p["name"]: p.get("version", "") for p in data["packages"] if p["name"] != "app"}


def test_the_lock_records_the_package_modes_so_changing_them_makes_it_stale(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "app")
    ok(lock(root, index))
    assert locked(root) == {"alpha": "1.0", "beta": "1.0"}
    assert lock(root, index, "--check", "--prerelease-package", "alpha=allow").returncode == 1
    # The locked versions are kept where they fit (as in uv): upgrade alpha to move it.
    ok(lock(root, index, "--prerelease-package", "alpha=allow", "-P", "alpha"))
    assert locked(root) == {"alpha": "2.0b1", "beta": "1.0"}
    options = tomllib.loads((root / "pylock.toml").read_text())["tool"]["kiln"]["options"]
    assert options["prerelease-package"] == {"alpha": "allow"}
    ok(lock(root, index, "--check", "--prerelease-package", "alpha=allow"))
    # Without the option the lock is not what `kiln lock` would write.
    stale = lock(root, index, "--check")
    assert stale.returncode == 1 and "not up to date" in stale.stderr


def test_prerelease_package_in_tool_uv_is_read_and_the_command_line_wins(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "app", '\n[tool.uv]\nprerelease-package = { beta = "allow", '
                                     'alpha = "allow" }\n')
    ok(lock(root, index))
    assert locked(root) == {"alpha": "2.0b1", "beta": "2.0b1"}
    ok(lock(root, index, "--prerelease-package", "alpha=disallow"))
    assert locked(root) == {"alpha": "1.0", "beta": "2.0b1"}
    # Changing the setting makes the lock stale.
    project(root, '\n[tool.kiln]\nprerelease-package = { alpha = "disallow" }\n')
    stale = lock(root, index, "--check")
    assert stale.returncode == 1 and "not up to date" in stale.stderr
    ok(lock(root, index, "--upgrade"))  # (else the locked pre-release of beta is kept, as in uv)
    assert locked(root) == {"alpha": "1.0", "beta": "1.0"}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('prerelease-package = { alpha = "sometimes" }',
         "`tool.kiln.prerelease-package.alpha` must be one of"),
        ('prerelease-package = ["alpha=allow"]', "`tool.kiln.prerelease-package` must be a table"),
    ],
)
def test_a_bad_setting_is_an_error_naming_the_key(
    tmp_path: Path, index: IndexServer, setting: str, message: str
) -> None:
    root = project(tmp_path / "app", f"\n[tool.kiln]\n{setting}\n")
    failed = lock(root, index)
    assert failed.returncode == 1 and message in failed.stderr


def test_sync_locks_and_installs_with_the_package_modes(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "app", "\n[tool.kiln]\npackage = false\n")
    ok(kiln("sync", "--default-index", index.url, "--prerelease-package", "beta=allow",
            env=base_env(tmp_path / "cache"), cwd=root))
    assert locked(root) == {"alpha": "1.0", "beta": "2.0b1"}
    versions = run_python(root / ".venv", "import importlib.metadata as m; "
                                          "print(m.version('alpha'), m.version('beta'))")
    assert versions == "1.0 2.0b1"
