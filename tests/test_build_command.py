"""`kiln build`: the real CLI in a subprocess, real backends, real build environments.

Isolated builds install their build requirements offline from the local
(``file://``) package indexes of pip's configuration; tests that need PyPI are
marked ``network``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from kiln.core.builder.configsettings import parse_config_settings
from kiln.core.builder.envcache import CACHE_BUCKET
from kiln.core.builder.installer import redact
from kiln.core.index.pipconfig import pip_index_settings
from kiln.errors import KilnError

KILN_BUILD_SYSTEM = (
    '[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n'
)
HATCHLING_BUILD_SYSTEM = (
    '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
)


# --- helpers -----------------------------------------------------------------------------


def _local_indexes() -> list[str]:
    settings = pip_index_settings()
    urls = [settings.index_url or "", *settings.extra_index_urls]
    return [url for url in urls if url.startswith("file://")]


def _base_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "VIRTUAL_ENV"))}
    env["KILN_CACHE_DIR"] = str(cache)
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture(scope="session")
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the CLI: a session build-env cache and only local indexes."""
    local = _local_indexes()
    if not local:
        pytest.skip("pip's configuration has no local (file://) package index")
    env = _base_env(tmp_path_factory.mktemp("kiln-cache"))
    env["PIP_INDEX_URL"] = local[0]
    env["PIP_EXTRA_INDEX_URL"] = " ".join(local[1:])
    env["PIP_FIND_LINKS"] = ""
    return env


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


def ok(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def kiln_project(root: Path, name: str = "demo", version: str = "1.0.0") -> Path:
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text("VALUE = 42\n")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\n\n{KILN_BUILD_SYSTEM}'
    )
    return root


def hatchling_project(root: Path, name: str = "hatched") -> Path:
    (root / "src" / name).mkdir(parents=True)
    (root / "src" / name / "__init__.py").write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.2.0"\n\n{HATCHLING_BUILD_SYSTEM}'
    )
    return root


def wheel_members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return sorted(zf.namelist())


def wheel_metadata(path: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        message = HeaderParser().parsestr(zf.read(name).decode())
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key.lower(), []).append(value)
    return fields


def env_dirs(env: dict[str, str]) -> list[Path]:
    bucket = Path(env["KILN_CACHE_DIR"]) / CACHE_BUCKET
    if not bucket.is_dir():
        return []
    return sorted(p for p in bucket.iterdir() if p.is_dir() and not p.name.startswith("."))


# --- fast path ---------------------------------------------------------------------------


def test_kiln_build_project_builds_sdist_then_wheel_in_process(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    env = _base_env(tmp_path / "cache")
    result = kiln(project, "-v", env=env)
    lines = ok(result)
    dist = project / "dist"
    assert sorted(p.name for p in dist.iterdir()) == [
        ".gitignore",
        "demo-1.0.0-py3-none-any.whl",
        "demo-1.0.0.tar.gz",
    ]
    assert (dist / ".gitignore").read_text() == "*"
    assert [Path(line).name for line in lines] == [
        "demo-1.0.0.tar.gz",
        "demo-1.0.0-py3-none-any.whl",
    ]
    assert "using the bundled `kiln_build` backend" in result.stderr
    assert "Building wheel from source distribution..." in result.stderr
    assert env_dirs(env) == []  # no build environment was made
    assert not (tmp_path / "cache" / CACHE_BUCKET).exists()
    assert "demo/__init__.py" in wheel_members(dist / "demo-1.0.0-py3-none-any.whl")


def test_paths_are_printed_relative_to_the_working_directory(tmp_path: Path) -> None:
    kiln_project(tmp_path / "demo")
    lines = ok(kiln("--wheel", env=_base_env(tmp_path / "cache"), cwd=tmp_path / "demo"))
    assert lines == [os.path.join("dist", "demo-1.0.0-py3-none-any.whl")]


def test_sdist_and_wheel_flags_build_both_from_the_tree(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    result = kiln(project, "--sdist", "--wheel", env=_base_env(tmp_path / "cache"))
    ok(result)
    assert "Building wheel..." in result.stderr
    assert "from source distribution" not in result.stderr
    assert {p.name for p in (project / "dist").glob("demo-*")} == {
        "demo-1.0.0.tar.gz",
        "demo-1.0.0-py3-none-any.whl",
    }


def test_out_dir_gets_a_gitignore_unless_it_has_one_as_uv_does(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    env = _base_env(tmp_path / "cache")
    ok(kiln(project, "--sdist", "-o", tmp_path / "new" / "out", env=env))
    assert sorted(p.name for p in (tmp_path / "new" / "out").iterdir()) == [
        ".gitignore",
        "demo-1.0.0.tar.gz",
    ]
    assert (tmp_path / "new" / "out" / ".gitignore").read_text() == "*"
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / ".gitignore").write_text("# mine\n")
    ok(kiln(project, "--wheel", "--out-dir", existing, env=env))
    assert sorted(p.name for p in existing.iterdir()) == [
        ".gitignore", "demo-1.0.0-py3-none-any.whl"
    ]
    assert (existing / ".gitignore").read_text() == "# mine\n"
    assert not (project / "dist").exists()


def test_no_create_gitignore_writes_none(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    out = tmp_path / "out"
    ok(kiln(project, "--wheel", "-o", out, "--no-create-gitignore", env=_base_env(tmp_path / "c")))
    assert [p.name for p in out.iterdir()] == ["demo-1.0.0-py3-none-any.whl"]


def test_clear_empties_the_out_dir_first(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    (project / "dist").mkdir()
    (project / "dist" / "stale-0.1.tar.gz").write_text("old")
    ok(kiln(project, "--wheel", "--clear", env=_base_env(tmp_path / "cache")))
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        ".gitignore",
        "demo-1.0.0-py3-none-any.whl",
    ]


def test_list_prints_members_without_writing_anything(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    lines = ok(kiln(project, "--list", env=_base_env(tmp_path / "cache")))
    assert lines[0] == "sdist:"
    assert "  demo-1.0.0/pyproject.toml" in lines
    assert "  demo-1.0.0/src/demo/__init__.py" in lines
    wheel_at = lines.index("wheel:")
    assert "  demo/__init__.py" in lines[wheel_at:]
    assert "  demo-1.0.0.dist-info/METADATA" in lines[wheel_at:]
    assert not (project / "dist").exists()


def test_list_wheel_only(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    lines = ok(kiln(project, "--list", "--wheel", env=_base_env(tmp_path / "cache")))
    assert lines[0] == "wheel:"
    assert "sdist:" not in lines


def test_sdist_input_builds_a_wheel_beside_it(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    env = _base_env(tmp_path / "cache")
    ok(kiln(project, "--sdist", "-o", tmp_path / "sdists", env=env))
    sdist = tmp_path / "sdists" / "demo-1.0.0.tar.gz"
    lines = ok(kiln(sdist, env=env))
    assert Path(lines[0]).name == "demo-1.0.0-py3-none-any.whl"
    assert (tmp_path / "sdists" / "demo-1.0.0-py3-none-any.whl").is_file()
    failed = kiln(sdist, "--sdist", env=env)
    assert failed.returncode == 1
    assert "error: cannot build an sdist from the source distribution" in failed.stderr


def test_sdist_with_unsafe_member_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil-1.0.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../escaped")
    result = kiln(evil, "--wheel", env=_base_env(tmp_path / "cache"))
    assert result.returncode == 1
    assert "error: cannot unpack source distribution" in result.stderr
    assert not (tmp_path / "escaped").exists()


def test_fast_path_failure_leaves_no_dist_and_exits_1(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "broken"\nversion = "1.0"\n\n{KILN_BUILD_SYSTEM}'
    )
    result = kiln(project, env=_base_env(tmp_path / "cache"))
    assert result.returncode == 1
    assert "error: `kiln_build.build_sdist` failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "dist").exists()


def test_missing_source_and_bad_config_setting_are_errors(tmp_path: Path) -> None:
    env = _base_env(tmp_path / "cache")
    missing = kiln(tmp_path / "nope", env=env)
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr
    project = kiln_project(tmp_path / "demo")
    bad = kiln(project, "-C", "novalue", env=env)
    assert bad.returncode == 1
    assert "error: invalid config setting `novalue`" in bad.stderr


def test_config_settings_accumulate_repeated_keys() -> None:
    assert parse_config_settings(["a=1", "b = x=y", "a=2", "a=3"]) == {
        "a": ["1", "2", "3"],
        "b": "x=y",
    }
    with pytest.raises(KilnError):
        parse_config_settings(["=1"])


def test_credentials_in_index_urls_are_redacted() -> None:
    assert (
        redact("uv pip install --index-url https://user:secret@example.org/simple x")
        == "uv pip install --index-url https://user:****@example.org/simple x"
    )
    assert redact("see https://t0ken@example.org/simple") == "see https://****@example.org/simple"
    assert redact("file:///opt/pypi/simple") == "file:///opt/pypi/simple"


# --- workspaces --------------------------------------------------------------------------


def _workspace(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.kiln.workspace]\nmembers = ["packages/*"]\n')
    kiln_project(root / "packages" / "alpha", "alpha", "0.1.0")
    kiln_project(root / "packages" / "beta", "beta", "0.2.0")
    (root / "packages" / "virtual").mkdir()
    (root / "packages" / "virtual" / "pyproject.toml").write_text(
        '[project]\nname = "virtual"\nversion = "1"\n'
    )
    return root


def test_all_packages_builds_every_buildable_member_into_root_dist(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    result = kiln("--all-packages", "--wheel", env=_base_env(tmp_path / "cache"), cwd=root)
    lines = ok(result)
    assert [Path(line).name for line in lines] == [
        "alpha-0.1.0-py3-none-any.whl",
        "beta-0.2.0-py3-none-any.whl",
    ]
    assert "[beta] Building wheel..." in result.stderr
    assert sorted(p.name for p in (root / "dist").iterdir()) == [
        ".gitignore",
        "alpha-0.1.0-py3-none-any.whl",
        "beta-0.2.0-py3-none-any.whl",
    ]


def test_package_builds_one_member_from_a_member_directory(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    env = _base_env(tmp_path / "cache")
    ok(kiln("--package", "BETA", "--sdist", env=env, cwd=root / "packages" / "alpha"))
    assert [p.name for p in (root / "dist").glob("*.tar.gz")] == ["beta-0.2.0.tar.gz"]
    unknown = kiln("--package", "gamma", env=env, cwd=root)
    assert unknown.returncode == 1
    assert "error: package `gamma` is not a member" in unknown.stderr
    virtual = kiln("--package", "virtual", env=env, cwd=root)
    assert virtual.returncode == 1
    assert "has no `[build-system]`" in virtual.stderr


def test_all_packages_outside_a_workspace_is_an_error(tmp_path: Path) -> None:
    project = kiln_project(tmp_path / "demo")
    result = kiln(project, "--all-packages", env=_base_env(tmp_path / "cache"))
    assert result.returncode == 1
    assert "is not in a workspace" in result.stderr


# --- isolated builds (offline, local indexes) --------------------------------------------


def test_hatchling_project_builds_in_an_isolated_environment(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    project = hatchling_project(tmp_path / "hatched")
    lines = ok(kiln(project, env=offline_env))
    wheel = project / "dist" / "hatched-0.2.0-py2.py3-none-any.whl"
    assert [Path(line).name for line in lines] == ["hatched-0.2.0.tar.gz", wheel.name]
    assert "hatched/__init__.py" in wheel_members(wheel)
    assert wheel_metadata(wheel)["version"] == ["0.2.0"]


def test_flit_core_project_builds_in_an_isolated_environment(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    project = tmp_path / "flitted"
    (project / "flitted").mkdir(parents=True)
    (project / "flitted" / "__init__.py").write_text('"""A flit project."""\n__version__ = "3.1"\n')
    (project / "pyproject.toml").write_text(
        '[project]\nname = "flitted"\ndynamic = ["version", "description"]\n\n'
        '[build-system]\nrequires = ["flit_core>=3.2,<5"]\nbuild-backend = "flit_core.buildapi"\n'
    )
    ok(kiln(project, env=offline_env))
    wheel = project / "dist" / "flitted-3.1-py2.py3-none-any.whl"
    assert "flitted/__init__.py" in wheel_members(wheel)
    assert wheel_metadata(wheel)["summary"] == ["A flit project."]


def test_project_without_build_system_falls_back_to_setuptools(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    project = tmp_path / "plain"
    (project / "plain").mkdir(parents=True)
    (project / "plain" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text('[project]\nname = "plain"\nversion = "1.5"\n')
    result = kiln(project, "--wheel", "-v", env=offline_env)
    ok(result)
    assert "using `setuptools.build_meta:__legacy__`" in result.stderr
    assert "plain/__init__.py" in wheel_members(project / "dist" / "plain-1.5-py3-none-any.whl")


def test_build_environment_is_reused_by_the_next_build(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    env = _base_env(tmp_path / "cache")
    env.update(
        {k: offline_env[k] for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")}
    )
    first = kiln(hatchling_project(tmp_path / "one", "one"), "--wheel", "-v", env=env)
    ok(first)
    assert "Installing build requirements: `hatchling`" in first.stderr
    [env_dir] = env_dirs(env)
    inode = env_dir.stat().st_ino
    second = kiln(hatchling_project(tmp_path / "two", "two"), "--wheel", "-v", env=env)
    ok(second)
    assert "Installing build requirements" not in second.stderr
    assert f"reusing build environment `{env_dir}`" in second.stderr
    assert "hatchling==" in second.stderr
    assert env_dirs(env) == [env_dir]
    assert env_dir.stat().st_ino == inode
    refreshed = kiln(tmp_path / "two", "--wheel", "--refresh", env=env)
    ok(refreshed)
    assert "Installing build requirements" in refreshed.stderr
    assert env_dirs(env) == [env_dir]


def test_no_cache_uses_a_throwaway_environment(tmp_path: Path, offline_env: dict[str, str]) -> None:
    env = _base_env(tmp_path / "cache")
    env.update(
        {k: offline_env[k] for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")}
    )
    ok(kiln(hatchling_project(tmp_path / "p"), "--wheel", "--no-cache", env=env))
    assert env_dirs(env) == []


def test_concurrent_builds_share_one_environment(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    env = _base_env(tmp_path / "cache")
    env.update(
        {k: offline_env[k] for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")}
    )
    projects = [hatchling_project(tmp_path / f"p{i}", f"p{i}") for i in range(2)]
    results: list[subprocess.CompletedProcess[str]] = []

    def build(project: Path) -> None:
        results.append(kiln(project, "--wheel", "-v", env=env))

    threads = [threading.Thread(target=build, args=(p,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        ok(result)
    assert sum("Installing build requirements" in r.stderr for r in results) == 1
    assert len(env_dirs(env)) == 1


def test_backend_failure_leaves_out_dir_empty_and_shows_backend_output(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    project = tmp_path / "nomodule"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "nomodule"\nversion = "1.0"\n\n{HATCHLING_BUILD_SYSTEM}'
    )
    result = kiln(project, env=offline_env)
    assert result.returncode == 1
    assert (
        "error: build backend hook `hatchling.build.build_wheel` failed for `nomodule`"
        in result.stderr
    )
    assert "Unable to determine which files to ship" in result.stderr  # captured output shown
    assert result.stdout == ""
    assert not (project / "dist").exists()


def test_build_constraint_applies_to_build_requirements(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("hatchling==0.0.1\n")
    result = kiln(hatchling_project(tmp_path / "p"), "--wheel", "-b", constraints, env=offline_env)
    assert result.returncode == 1
    assert "error: installing build requirements failed" in result.stderr
    assert not (tmp_path / "p" / "dist").exists()


def test_no_build_isolation_uses_the_running_environment(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    pytest.importorskip("hatchling")
    env = _base_env(tmp_path / "cache")
    ok(kiln(hatchling_project(tmp_path / "p"), "--wheel", "--no-build-isolation", env=env))
    assert (tmp_path / "p" / "dist" / "hatched-0.2.0-py2.py3-none-any.whl").is_file()
    assert env_dirs(env) == []


def test_list_for_other_backends_builds_into_a_temporary_directory(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    project = hatchling_project(tmp_path / "p")
    lines = ok(kiln(project, "--list", env=offline_env))
    assert "hatched-0.2.0.tar.gz:" in lines
    assert "  hatched/__init__.py" in lines
    assert not (project / "dist").exists()


# --- real sdists from PyPI ---------------------------------------------------------------

# One project per backend family: setuptools, setuptools_scm, hatchling + hatch-vcs,
# flit_core, poetry-core and pdm-backend.
REAL_PROJECTS = ["six", "pluggy", "platformdirs==4.3.6", "tomli", "crashtest", "unearth"]


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.parametrize("requirement", REAL_PROJECTS)
def test_real_sdist_wheel_matches_pypa_build(
    requirement: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    downloads = tmp_path / "downloads"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            # Only the project itself as an sdist: its build requirements may be wheels
            # (`:all:` would demand sdists of those too, which some do not publish).
            "--no-binary",
            Requirement(requirement).name,
            "-d",
            downloads,
            requirement,
        ],
        check=True,
        timeout=300,
    )
    [sdist] = downloads.glob("*.tar.gz")
    env = _base_env(tmp_path_factory.getbasetemp() / "network-kiln-cache")
    lines = ok(kiln(sdist, "--wheel", "-o", tmp_path / "kiln", env=env))
    ours = Path(lines[0])
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    [tree] = unpacked.iterdir()
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "pypa", tree],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [theirs] = (tmp_path / "pypa").glob("*.whl")
    assert ours.name == theirs.name
    assert wheel_members(ours) == wheel_members(theirs)
    assert wheel_metadata(ours) == wheel_metadata(theirs)
    shutil.rmtree(unpacked)
