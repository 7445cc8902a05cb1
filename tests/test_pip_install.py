"""`kiln pip install/uninstall/sync`: a real loopback index, real venvs, real builds."""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel, sha256_of
from pip_helpers import base_env, kiln, kiln_project, make_venv, ok, run_python


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "alpha", "1.0", requires_dist=["beta>=1"]))
    server.add(build_wheel(files, "beta", "1.0"))
    server.add(build_wheel(files, "beta", "2.0"))
    server.add(build_wheel(files, "gamma", "0.1"))
    with server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def pip(venv: Path, env: dict[str, str], index: IndexServer, *args: str | Path,
        cwd: Path | None = None):  # type: ignore[no-untyped-def]
    return kiln("pip", *args, "--python", venv, "--default-index", index.url, env=env, cwd=cwd)


def test_install_resolves_dependencies_and_the_packages_import(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(pip(venv, env, index, "install", "alpha"))
    assert "Resolved 2 packages in " in result.stderr
    assert "Installed 2 packages in " in result.stderr
    assert " + alpha==1.0\n + beta==2.0\n" in result.stderr
    assert run_python(venv, "import alpha, beta; print(alpha.__version__, beta.__version__)") == (
        "1.0 2.0"
    )
    site = next((venv / "lib").glob("python*/site-packages"))
    assert (site / "alpha-1.0.dist-info" / "REQUESTED").exists()
    assert not (site / "beta-2.0.dist-info" / "REQUESTED").exists()
    again = ok(pip(venv, env, index, "install", "alpha"))
    assert "Audited 1 package" in again.stderr


def test_installed_versions_are_kept_unless_upgrading(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "beta==1.0"))
    kept = ok(pip(venv, env, index, "install", "alpha"))
    assert " + alpha==1.0" in kept.stderr
    assert "beta" not in kept.stderr.split("Installed", 1)[1]
    upgraded = ok(pip(venv, env, index, "install", "-U", "alpha"))
    assert " - beta==1.0\n + beta==2.0" in upgraded.stderr


def test_requirements_file_with_hashes_installs_and_a_mismatch_is_refused(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    gamma = next(f.path for f in index.files if f.project == "gamma")
    good = tmp_path / "good.txt"
    good.write_text(f"# pinned\ngamma==0.1 \\\n    --hash=sha256:{sha256_of(gamma)}\n")
    ok(pip(venv, env, index, "install", "-r", good, "--require-hashes"))
    assert run_python(venv, "import gamma; print(gamma.__version__)") == "0.1"

    other = make_venv(tmp_path / "other", env)
    bad = tmp_path / "bad.txt"
    bad.write_text(f"gamma==0.1 --hash=sha256:{'0' * 64}\n")
    result = pip(other, env, index, "install", "-r", bad, "--require-hashes")
    assert result.returncode == 1
    assert "error: hash mismatch for `gamma`" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((other / "lib").glob("python*/site-packages/gamma*"))


def test_hashes_in_a_constraints_file_are_checked_and_vouch_for_requirements(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    gamma = next(f.path for f in index.files if f.project == "gamma")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"gamma==0.1 --hash=sha256:{'0' * 64}\n")
    venv = make_venv(tmp_path / "venv", env)
    # Checked without hash checking; `alpha` and `beta` have no hash and need none.
    result = pip(venv, env, index, "install", "alpha", "gamma", "-c", wrong)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "hash mismatch for `gamma`" in result.stderr
    assert not list((venv / "lib").glob("python*/site-packages/gamma*"))
    right = tmp_path / "right.txt"
    right.write_text(f"gamma==0.1 --hash=sha256:{sha256_of(gamma)}\n")
    ok(pip(venv, env, index, "install", "alpha", "gamma", "-c", right))
    # Under `--require-hashes`, the constraint pins and hashes the unpinned `gamma`.
    other = make_venv(tmp_path / "other", env)
    ok(pip(other, env, index, "install", "gamma", "-c", right, "--require-hashes"))
    unhashed = pip(other, env, index, "install", "beta", "-c", right, "--require-hashes")
    assert unhashed.returncode == 1 and "`beta`" in unhashed.stderr
    # A constraint's hash never covers a directory, which has no file to check.
    local = kiln_project(tmp_path / "local", "gamma", "0.1")
    refused = pip(other, env, index, "install", local, "-c", right, "--require-hashes")
    assert refused.returncode == 1 and "cannot be hash-checked" in refused.stderr


def test_require_hashes_refuses_unpinned_requirements(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    (tmp_path / "r.txt").write_text("gamma\n")
    result = pip(venv, env, index, "install", "-r", tmp_path / "r.txt", "--require-hashes")
    assert result.returncode == 1
    assert "is not pinned with `==`" in result.stderr


def test_editable_install_of_a_local_kiln_build_project(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    project = kiln_project(tmp_path / "proj", "editme", dependencies=("gamma",))
    result = ok(pip(venv, env, index, "install", "-e", project))
    assert " + editme==1.0" in result.stderr
    assert " + gamma==0.1" in result.stderr
    assert run_python(venv, "import editme; print(editme.VALUE)") == "editme"
    (project / "src" / "editme" / "__init__.py").write_text("VALUE = 'changed'\n")
    assert run_python(venv, "import editme; print(editme.VALUE)") == "changed"
    site = next((venv / "lib").glob("python*/site-packages"))
    direct = json.loads((site / "editme-1.0.dist-info" / "direct_url.json").read_text())
    assert direct == {"url": project.resolve().as_uri(), "dir_info": {"editable": True}}
    freeze = ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout.splitlines()
    assert freeze == [f"-e {project.resolve().as_uri()}", "gamma==0.1"]


def test_local_directory_and_sdist_are_built_with_kiln_build(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    lib = kiln_project(tmp_path / "lib", "locallib")
    ok(kiln("build", "--sdist", lib, env=env))
    sdist = lib / "dist" / "locallib-1.0.tar.gz"
    app = kiln_project(tmp_path / "app", "localapp", dependencies=(f"locallib @ {sdist.as_uri()}",))
    result = ok(pip(venv, env, index, "install", "./app", cwd=tmp_path))
    assert " + localapp==1.0\n + locallib==1.0" in result.stderr
    assert run_python(venv, "import localapp, locallib; print(locallib.VALUE)") == "locallib"
    site = next((venv / "lib").glob("python*/site-packages"))
    app_url = json.loads((site / "localapp-1.0.dist-info" / "direct_url.json").read_text())
    assert app_url == {"url": app.resolve().as_uri(), "dir_info": {}}
    lib_url = json.loads((site / "locallib-1.0.dist-info" / "direct_url.json").read_text())
    assert lib_url["url"] == sdist.as_uri()
    assert lib_url["archive_info"]["hashes"]["sha256"] == sha256_of(sdist)


def test_sync_installs_exactly_the_listed_set(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "alpha", "gamma"))
    (tmp_path / "lock.txt").write_text("beta==1.0\ngamma==0.1\n")
    result = ok(pip(venv, env, index, "sync", tmp_path / "lock.txt"))
    assert " - alpha==1.0\n - beta==2.0\n + beta==1.0\n" in result.stderr
    freeze = ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout.splitlines()
    assert freeze == ["beta==1.0", "gamma==0.1"]


def test_sync_chooses_index_wheels_without_reading_their_metadata(tmp_path: Path) -> None:
    """Nothing is resolved in a sync, so the metadata of a pinned wheel (its dependencies)
    is never asked for: the page and the wheel are the only requests per package."""
    env = base_env(tmp_path / "cache")
    files = tmp_path / "wheels"
    with IndexServer() as server:
        server.add(build_wheel(files, "delta", "1.0", requires_dist=["epsilon>=1"]))
        server.add(build_wheel(files, "epsilon", "1.0"))
        venv = make_venv(tmp_path / "venv", env)
        (tmp_path / "lock.txt").write_text("delta==1.0\n")
        result = ok(pip(venv, env, server, "sync", tmp_path / "lock.txt"))
        asked = [r.path for r in server.log]
    assert " + delta==1.0\n" in result.stderr
    assert "epsilon" not in result.stderr
    assert sorted(asked) == ["/files/delta-1.0-py3-none-any.whl", "/simple/delta/"]
    assert run_python(venv, "import delta; print(delta.__version__)") == "1.0"


def test_a_wheel_whose_requires_python_excludes_the_environment_is_not_installed(
    tmp_path: Path,
) -> None:
    """The index does not say that the wheel needs a newer Python, and ``--no-deps`` reads
    no metadata while resolving: the wheel's own METADATA stops the install."""
    env = base_env(tmp_path / "cache")
    files = tmp_path / "wheels"
    with IndexServer() as server:
        server.add(build_wheel(files, "gamma", "0.1"))
        server.add(build_wheel(files, "future", "1.0", requires_python=">=3.99"))
        venv = make_venv(tmp_path / "venv", env)
        result = pip(venv, env, server, "install", "--no-deps", "gamma", "future==1.0")
    assert result.returncode == 1
    python = run_python(venv, "import platform; print(platform.python_version())")
    assert result.stderr == (
        f"Using Python {python} environment at: {venv}\n"
        f"error: `future-1.0-py3-none-any.whl` requires Python >=3.99, but `{venv}` has "
        f"Python {python}\n"
        "hint: choose a version of it that supports this Python, or another environment "
        "(`--python`)\n"
    )
    assert ok(kiln("pip", "freeze", "--python", venv, env=env)).stdout == ""


def test_a_warm_sync_loads_no_archive_reader_or_metadata_parser(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    """Start-up cost: with the wheels unpacked in the cache, a sync needs neither the tar
    reader nor the core metadata parser. (The zip reader comes with the HTTP client, through
    importlib.metadata.)"""
    import subprocess
    import sys

    (tmp_path / "lock.txt").write_text("beta==1.0\ngamma==0.1\n")
    first = make_venv(tmp_path / "first", env)
    ok(pip(first, env, index, "sync", tmp_path / "lock.txt"))
    second = make_venv(tmp_path / "second", env)
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        f"code = main(['pip', 'sync', {str(tmp_path / 'lock.txt')!r}, '--python', "
        f"{str(second)!r}, '--default-index', {index.url!r}, '-q'])\n"
        "loaded = [m for m in ('tarfile', 'packaging.metadata') "
        "if m in sys.modules]\n"
        "print('LOADED', loaded, code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=env, check=False, timeout=120)
    assert "LOADED [] 0" in result.stderr, result.stderr
    assert run_python(second, "import beta, gamma; print(beta.__version__)") == "1.0"


def test_the_audit_and_an_install_told_it_ran_agree_on_what_is_to_do(
    tmp_path: Path, env: dict[str, str], index: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``audit`` answers alone for requirements that are met; ``install(audited=True)``
    trusts that it was asked and goes straight to resolving (reinstalling nothing)."""
    from kiln.core.index.clientoptions import ClientOptions
    from kiln.core.index.locations import IndexOptions
    from kiln.core.install.environment import Environment
    from kiln.core.operations.auditing import audit
    from kiln.core.operations.installing import install
    from kiln.core.operations.options import Settings
    from kiln.core.requirements_file import RequirementsInput, parse_requirement

    monkeypatch.setenv("KILN_CACHE_DIR", env["KILN_CACHE_DIR"])
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "gamma"))
    environment = Environment.from_venv(venv)
    settings = Settings(index=IndexOptions(default_index=index.url),
                        client=ClientOptions(cache_dir=Path(env["KILN_CACHE_DIR"])))
    met = RequirementsInput([parse_requirement("gamma")])
    report = audit(environment, met, settings)
    assert report is not None and report.audited == 1
    assert install(environment, met, settings).audited == 1
    told = install(environment, met, settings, audited=True)
    assert (told.audited, told.resolved, told.installed) == (None, 1, [])
    missing = RequirementsInput([parse_requirement("gamma"), parse_requirement("beta")])
    assert audit(environment, missing, settings) is None


def test_uninstall_removes_the_package_files(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(pip(venv, env, index, "install", "gamma"))
    result = ok(kiln("pip", "uninstall", "gamma", "nothere", "--python", venv, env=env))
    assert "warning: Skipping `nothere`: it is not installed" in result.stderr
    assert "Uninstalled 1 package in " in result.stderr
    assert " - gamma==0.1" in result.stderr
    site = next((venv / "lib").glob("python*/site-packages"))
    assert not (site / "gamma").exists()
    assert not list(site.glob("gamma-*.dist-info"))


def test_unsatisfiable_requirements_print_the_derivation_and_exit_1(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = pip(venv, env, index, "install", "alpha", "beta<1")
    assert result.returncode == 1
    assert result.stderr.startswith(f"Using Python {platform.python_version()} environment at: {venv}\n")
    assert "\nerror: no solution found when resolving dependencies:\n" in result.stderr
    assert "Because" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreadable_certificate_bundle_is_named_without_a_traceback(
    tmp_path: Path, env: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    missing = tmp_path / "missing.pem"
    result = kiln(
        "pip", "install", "alpha", "--python", venv, "--default-index",
        "https://127.0.0.1:9/simple/", env={**env, "SSL_CERT_FILE": str(missing)},
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"Using Python {platform.python_version()} environment at: {venv}\n"
        f"error: cannot load the trusted certificates from `SSL_CERT_FILE` (`{missing}`): "
        "No such file or directory\n"
        "hint: point `SSL_CERT_FILE` at a PEM bundle or unset it\n"
    )


def test_no_environment_exits_with_a_hint(tmp_path: Path, env: dict[str, str]) -> None:
    result = kiln("pip", "install", "alpha", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: no virtual environment found\n"
        "hint: create one with `kiln venv`, activate one, or pass `--python`\n"
    )


def test_virtual_env_variable_selects_the_environment(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    env = {**env, "VIRTUAL_ENV": str(venv)}
    ok(kiln("pip", "install", "gamma", "--default-index", index.url, env=env, cwd=tmp_path))
    assert run_python(venv, "import gamma; print(gamma.__version__)") == "0.1"


def test_credentials_in_index_urls_are_never_printed(
    tmp_path: Path, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = IndexServer(auth=("someone", "s3cret-token"))
    server.add(build_wheel(tmp_path / "w", "gamma", "0.1"))
    venv = make_venv(tmp_path / "venv", env)
    with server:
        url = server.url.replace("http://", "http://someone:s3cret-token@")
        (tmp_path / "req.in").write_text("gamma\n")
        compiled = ok(kiln("pip", "compile", "req.in", "--default-index", url, env=env,
                           cwd=tmp_path))
        installed = ok(kiln("pip", "install", "gamma", "--python", venv,
                            "--default-index", url, env=env))
        failed = kiln("pip", "install", "gamma>5", "--python", venv, "--default-index", url,
                      env=env)
    assert failed.returncode == 1
    for result in (compiled, installed, failed):
        assert "s3cret-token" not in result.stdout + result.stderr
    assert "gamma==0.1" in compiled.stdout


@pytest.mark.network
def test_install_a_small_package_from_pypi(tmp_path: Path, env: dict[str, str]) -> None:
    venv = make_venv(tmp_path / "venv", env)
    ok(kiln("pip", "install", "six==1.16.0", "--python", venv, env=env))
    assert run_python(venv, "import six; print(six.__version__)") == "1.16.0"
