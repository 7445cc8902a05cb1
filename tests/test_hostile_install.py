"""Hostile and unlucky conditions around installing (issue #17), with real `kiln` processes,
real virtual environments, real wheels and a real loopback index:

* concurrent kiln processes changing one environment take turns (its `.lock`), and an
  installed distribution that lost files listed in its RECORD is installed again;
* a wheel cannot overwrite the environment's interpreter, `pyvenv.cfg`, activation scripts
  or any file no installed distribution owns, and uninstalling never removes them;
* staging directories left by a process killed mid-install are removed by the next run;
* a damaged download in the cache is noticed and downloaded again, or named with a hint;
* `--link-mode copy` (and `KILN_LINK_MODE`) give installed files of their own, where the
  default hard links share them with the cache.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel, sha256_of
from pip_helpers import base_env, kiln, make_venv, ok, run_python
from wheelbuilder import make_wheel, tree

from kiln.core.install.environment import Environment
from kiln.core.install.installed import installed_distributions
from kiln.core.install.installer import install_wheel
from kiln.core.install.removal import uninstall
from kiln.errors import KilnError

pytestmark = pytest.mark.usefixtures("isolated_cache")


def bulky_files(name: str, folders: int = 12, per_folder: int = 40) -> dict[str, str]:
    """Many small modules in nested packages: a wheel whose install takes a while."""
    files = {f"{name}/__init__.py": f"NAME = {name!r}\n"}
    for folder in range(folders):
        files[f"{name}/part{folder}/__init__.py"] = ""
        for module in range(per_folder):
            files[f"{name}/part{folder}/mod{module}.py"] = f"VALUE = {folder * 1000 + module}\n"
    return files


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    wheels = tmp_path_factory.mktemp("hostile-wheels")
    server = IndexServer()
    for name in ("alpha", "beta", "gamma"):
        server.add(make_wheel(wheels, name, "1.0", bulky_files(name)))
    server.add(make_wheel(wheels, "huge", "1.0", bulky_files("huge", folders=40, per_folder=100)))
    server.add(make_wheel(wheels, "app", "1.0", {"app.py": "import lib\n"}, requires=("lib",)))
    server.add(make_wheel(wheels, "lib", "1.0", bulky_files("lib", folders=2, per_folder=5)))
    server.add(make_wheel(wheels, "evil", "1.0", {
        "evil.py": "", "evil-1.0.data/data/bin/python3": "#!/bin/sh\necho owned\n",
    }))
    server.add(build_wheel(wheels, "plain", "1.0"))
    with server:
        yield server


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def pip(venv: Path, environ: dict[str, str], index: IndexServer, *args: str | Path
        ) -> subprocess.CompletedProcess[str]:
    return kiln("pip", *args, "--python", venv, "--default-index", index.url, env=environ)


def pip_process(venv: Path, environ: dict[str, str], index: IndexServer, *args: str
                ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kiln", "pip", *args, "--python", str(venv),
         "--default-index", index.url],
        env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def missing_recorded_files(venv: Path) -> dict[str, list[str]]:
    """For each installed distribution, the files its RECORD lists that do not exist."""
    site = site_packages(venv)
    missing: dict[str, list[str]] = {}
    for record in sorted(site.glob("*.dist-info/RECORD")):
        for row in csv.reader(record.read_text("utf-8").splitlines()):
            if not os.path.lexists(site / row[0]):
                missing.setdefault(record.parent.name, []).append(row[0])
    return missing


def wait_until_blocked(process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Wait until ``process`` waits for a file lock (Linux lists waiters in /proc/locks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"it did not wait for the lock: {process.communicate()}"
        waiting = [line.split() for line in Path("/proc/locks").read_text().splitlines()
                   if " -> " in line]
        if any(str(process.pid) in fields for fields in waiting):
            return
        time.sleep(0.01)
    pytest.fail("it never waited for the lock")


def staging_leftovers(venv: Path) -> list[str]:
    return sorted(p.name for p in site_packages(venv).glob(".kiln-tmp-*"))


# -- 1. one change at a time; distributions missing files are installed again ---------


def test_concurrent_installs_into_one_environment_take_turns_and_leave_it_whole(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    for round_number in range(3):
        venv = make_venv(tmp_path / f"venv{round_number}", environ)
        installers = [
            pip_process(venv, environ, index, "install", "alpha", "beta", "gamma")
            for _ in range(3)
        ]
        outcomes = [(p.wait(timeout=300), *p.communicate()) for p in installers]
        for code, _out, err in outcomes:
            assert code == 0, err
            assert "Traceback" not in err
        assert missing_recorded_files(venv) == {}
        assert staging_leftovers(venv) == []
        # One process installed everything; the others, waiting for the lock, then found
        # it all in place.
        installed = [err for _code, _out, err in outcomes if "Installed 3 packages" in err]
        assert len(installed) == 1, [err for _code, _out, err in outcomes]
        assert run_python(venv, "import alpha.part11.mod39, beta, gamma; "
                                "print(alpha.part11.mod39.VALUE)") == "11039"


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_an_install_waits_for_the_environment_lock_held_by_another_program(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    from filelock import FileLock  # what other tools (and uv's flock) take on `.lock`

    venv = make_venv(tmp_path / "venv", environ)
    holder = FileLock(str(venv / ".lock"))
    with holder:
        installer = pip_process(venv, environ, index, "install", "plain")
        wait_until_blocked(installer)
        assert not list(site_packages(venv).glob("plain*"))
    code = installer.wait(timeout=120)
    _out, err = installer.communicate()
    assert code == 0, err
    assert " + plain==1.0" in err


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_uv_waits_for_the_lock_kiln_holds_on_an_environment(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    from kiln.core.install.envlock import holding

    uv = Path(sys.executable).parent / "uv"
    venv = make_venv(tmp_path / "venv", environ)
    wheels = tmp_path / "wheels"
    build_wheel(wheels, "plain", "1.0")
    with holding(venv / ".lock", venv):
        other = subprocess.Popen(
            [str(uv), "pip", "install", "--python", str(venv / "bin" / "python"), "--offline",
             "--no-index", "--find-links", str(wheels), "--cache-dir", str(tmp_path / "uv"),
             "plain"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        wait_until_blocked(other)
    assert other.wait(timeout=120) == 0, other.communicate()
    assert (site_packages(venv) / "plain" / "__init__.py").is_file()


def test_an_install_puts_back_files_missing_from_a_record(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", environ)
    ok(pip(venv, environ, index, "install", "alpha"))
    lost = site_packages(venv) / "alpha" / "part3" / "mod7.py"
    lost.unlink()
    assert missing_recorded_files(venv) == {"alpha-1.0.dist-info": ["alpha/part3/mod7.py"]}
    repaired = ok(pip(venv, environ, index, "install", "alpha"))
    assert " - alpha==1.0\n + alpha==1.0\n" in repaired.stderr
    assert lost.read_text() == "VALUE = 3007\n"
    assert missing_recorded_files(venv) == {}
    # Whole again: the next install has nothing to do.
    assert "Audited 1 package" in ok(pip(venv, environ, index, "install", "alpha")).stderr


def test_sync_puts_back_a_dependency_missing_files(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", environ)
    ok(pip(venv, environ, index, "install", "app"))
    for module in (site_packages(venv) / "lib" / "part1").glob("mod*.py"):
        module.unlink()
    pins = tmp_path / "requirements.txt"
    pins.write_text("app==1.0\nlib==1.0\n")
    result = ok(pip(venv, environ, index, "sync", pins))
    assert " - lib==1.0\n + lib==1.0\n" in result.stderr
    assert "app==1.0" not in result.stderr  # whole: kept as it is
    assert missing_recorded_files(venv) == {}


# -- 2. what a wheel may overwrite ------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "entry_points", "shown"),
    [
        ({"evil-1.0.data/data/bin/python3": "#!/bin/sh\n"}, None, "bin/python3"),
        ({"evil-1.0.data/data/bin/python": "#!/bin/sh\n"}, None, "bin/python"),
        ({"evil-1.0.data/data/pyvenv.cfg": "home = /tmp\n"}, None, "pyvenv.cfg"),
        ({"evil-1.0.data/scripts/activate": "echo owned\n"}, None, "bin/activate"),
        ({"evil.py": ""}, "[console_scripts]\npython3 = evil:main\n", "bin/python3"),
    ],
    ids=["data-interpreter", "data-python", "pyvenv-cfg", "activate-script", "entry-point"],
)
def test_a_wheel_cannot_overwrite_the_environment_s_own_files(
    env: Environment, tmp_path: Path, files: dict[str, str], entry_points: str | None, shown: str
) -> None:
    wheel = make_wheel(tmp_path, "evil", "1.0", {"evil_pkg/__init__.py": "", **files},
                       entry_points=entry_points)
    before = tree(env.prefix)
    pyvenv = (env.prefix / "pyvenv.cfg").read_text()
    with pytest.raises(KilnError, match=f"would overwrite `{shown}`, a file of the environment") as caught:
        install_wheel(env, wheel)
    assert "`evil-1.0-py3-none-any.whl`" in caught.value.message
    assert caught.value.hint is not None and "nothing of it was installed" in caught.value.hint
    assert tree(env.prefix) == before
    assert (env.prefix / "pyvenv.cfg").read_text() == pyvenv
    assert installed_distributions(env) == []
    check = subprocess.run([str(env.python), "-c", "print('still python')"],
                           capture_output=True, text=True)
    assert check.stdout == "still python\n"


def test_a_wheel_cannot_overwrite_a_file_no_distribution_owns(
    env: Environment, tmp_path: Path
) -> None:
    mine = env.site_packages / "sitecustomize.py"
    mine.write_text("# the user's own start-up code\n")
    wheel = make_wheel(tmp_path, "grabby", "1.0", {"sitecustomize.py": "print('owned')\n",
                                                   "grabby/__init__.py": ""})
    before = tree(env.prefix)
    with pytest.raises(KilnError, match=r"would overwrite `lib/python3\.\d+/site-packages/"
                                        r"sitecustomize\.py`, which no installed package lists"):
        install_wheel(env, wheel)
    assert tree(env.prefix) == before
    assert mine.read_text() == "# the user's own start-up code\n"


def test_a_file_another_distribution_owns_may_be_replaced(
    env: Environment, tmp_path: Path
) -> None:
    install_wheel(env, make_wheel(tmp_path, "first", "1.0", {"shared.py": "WHO = 1\n"}))
    install_wheel(env, make_wheel(tmp_path, "second", "1.0", {"shared.py": "WHO = 2\n"}))
    assert (env.site_packages / "shared.py").read_text() == "WHO = 2\n"


def test_files_an_interrupted_install_left_with_the_same_content_may_be_replaced(
    env: Environment, tmp_path: Path
) -> None:
    # A killed install can leave a package's files in place without its .dist-info.
    (env.site_packages / "partial").mkdir()
    (env.site_packages / "partial" / "__init__.py").write_text("X = 1\n")
    (env.site_packages / "partial" / "__pycache__").mkdir()
    (env.site_packages / "partial" / "__pycache__" / "mod.cpython-39.pyc").write_bytes(b"old")
    wheel = make_wheel(tmp_path, "partial", "1.0", {
        "partial/__init__.py": "X = 1\n", "partial/__pycache__/mod.cpython-39.pyc": b"new",
    })
    install_wheel(env, wheel)
    assert [d.name for d in installed_distributions(env)] == ["partial"]
    assert (env.site_packages / "partial" / "__pycache__" / "mod.cpython-39.pyc").read_bytes() == b"new"


def test_uninstall_never_removes_the_environment_s_own_files(
    env: Environment, tmp_path: Path
) -> None:
    install_wheel(env, make_wheel(tmp_path, "claims", "1.0", {"claims.py": ""}))
    record = env.site_packages / "claims-1.0.dist-info" / "RECORD"
    relative = os.path.relpath(env.prefix, env.site_packages)
    with record.open("a") as handle:  # as another installer might have written it
        handle.write(f"{relative}/bin/python3,,\n{relative}/pyvenv.cfg,,\n")
    removal = uninstall(env, "claims")
    assert sorted(removal.skipped) == [f"{relative}/bin/python3", f"{relative}/pyvenv.cfg"]
    assert (env.prefix / "bin" / "python3").exists()
    assert (env.prefix / "pyvenv.cfg").exists()
    assert not (env.site_packages / "claims.py").exists()


def test_kiln_pip_install_refuses_a_wheel_that_replaces_the_interpreter(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", environ)
    interpreter = os.readlink(venv / "bin" / "python3")
    result = pip(venv, environ, index, "install", "evil")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (f"error: cannot install `evil-1.0-py3-none-any.whl` into `{venv}`: it would "
            "overwrite `bin/python3`, a file of the environment itself") in result.stderr
    assert os.readlink(venv / "bin" / "python3") == interpreter
    assert not (site_packages(venv) / "evil.py").exists()
    assert run_python(venv, "print('ok')") == "ok"


# -- 3. leftovers of dead processes -----------------------------------------------------


def test_the_next_install_removes_the_staging_directory_of_a_killed_install(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", environ)
    ok(pip(venv, environ, index, "install", "huge"))  # fills the cache: later runs only link
    site = site_packages(venv)
    left: list[str] = []
    for _attempt in range(10):
        installer = pip_process(venv, environ, index, "install", "--reinstall", "huge")
        while installer.poll() is None and not left:
            left = staging_leftovers(venv)
            time.sleep(0.002)
        if left:
            installer.send_signal(signal.SIGKILL)
            installer.wait(timeout=60)
            break
        installer.communicate()
    else:
        pytest.fail("no install was caught in the middle in ten attempts")
    assert installer.returncode == -signal.SIGKILL
    assert staging_leftovers(venv)  # what the dead process left behind
    ok(pip(venv, environ, index, "install", "huge"))
    assert staging_leftovers(venv) == []
    assert missing_recorded_files(venv) == {}
    assert (site / "huge-1.0.dist-info" / "RECORD").is_file()
    assert run_python(venv, "import huge.part39.mod99 as m; print(m.VALUE)") == "39099"


def test_a_run_with_nothing_to_do_removes_staging_left_by_a_dead_process(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", environ)
    ok(pip(venv, environ, index, "install", "plain"))
    left = site_packages(venv) / ".kiln-tmp-dead1234"
    (left / "0-1" / "plain").mkdir(parents=True)
    (left / "0-1" / "plain" / "big.bin").write_bytes(b"\0" * 4096)
    result = ok(pip(venv, environ, index, "install", "plain"))
    assert "Audited 1 package" in result.stderr
    assert staging_leftovers(venv) == []


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_staging_is_left_alone_while_another_process_holds_the_lock(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    from filelock import FileLock

    venv = make_venv(tmp_path / "venv", environ)
    ok(pip(venv, environ, index, "install", "plain"))
    live = site_packages(venv) / ".kiln-tmp-live"
    live.mkdir()
    with FileLock(str(venv / ".lock")):  # its owner is alive and busy
        auditor = pip_process(venv, environ, index, "install", "plain")
        wait_until_blocked(auditor)
        assert live.is_dir()
    assert auditor.wait(timeout=120) == 0
    assert not live.exists()


# -- 4. damaged downloads in the cache --------------------------------------------------


def cached_download(environ: dict[str, str], filename: str) -> Path:
    return next(Path(environ["KILN_CACHE_DIR"]).glob(f"files-v1/*/*/{filename}"))


def test_a_truncated_download_in_the_cache_is_downloaded_again(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    first = make_venv(tmp_path / "first", environ)
    ok(pip(first, environ, index, "install", "lib"))
    cached = cached_download(environ, "lib-1.0-py3-none-any.whl")
    digest = sha256_of(cached)
    with cached.open("r+b") as handle:
        handle.truncate(cached.stat().st_size // 2)
    # The unpacked copy is gone too, so the archive itself has to be read.
    for unpacked in Path(environ["KILN_CACHE_DIR"]).glob("wheels-v1/*"):
        if (unpacked / "lib-1.0.dist-info").is_dir():
            shutil.rmtree(unpacked)
    downloads = len(index.requests("/files/lib-1.0-py3-none-any.whl", "GET"))
    second = make_venv(tmp_path / "second", environ)
    result = ok(pip(second, environ, index, "install", "lib"))
    assert " + lib==1.0" in result.stderr
    assert len(index.requests("/files/lib-1.0-py3-none-any.whl", "GET")) == downloads + 1
    assert sha256_of(cached) == digest
    assert missing_recorded_files(second) == {}


def test_a_damaged_download_offline_is_named_with_a_hint(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    first = make_venv(tmp_path / "first", environ)
    ok(pip(first, environ, index, "install", "lib"))
    cached = cached_download(environ, "lib-1.0-py3-none-any.whl")
    cached.write_bytes(cached.read_bytes()[:100])
    second = make_venv(tmp_path / "second", environ)
    # --no-deps: the metadata is not read from the download while resolving.
    result = pip(second, environ, index, "install", "lib", "--offline", "--no-deps")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: the cached `lib-1.0-py3-none-any.whl` was damaged" in result.stderr
    assert "hint: run once without `--offline` to download it again" in result.stderr


def test_a_download_that_is_no_zip_archive_names_the_cached_file_and_the_cleaning_command(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    broken = tmp_path / "files" / "broken-1.0-py3-none-any.whl"
    broken.parent.mkdir()
    broken.write_bytes(b"this is not a zip archive, though the index vouches for its hash")
    with IndexServer(metadata_files=False) as server:
        server.add(broken)
        venv = make_venv(tmp_path / "venv", environ)
        result = kiln("pip", "install", "broken", "--python", venv, "--default-index",
                      server.url, "--no-deps", env=environ)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: invalid wheel `broken-1.0-py3-none-any.whl`: not a readable zip archive" in (
        result.stderr)
    cached = cached_download(environ, "broken-1.0-py3-none-any.whl")
    assert f"hint: it is kiln's cached download `{cached}`; run `kiln cache clean broken`" in (
        result.stderr)


# -- 5. link modes ----------------------------------------------------------------------


def unpacked_copy(environ: dict[str, str], relative: str) -> Path:
    return next(Path(environ["KILN_CACHE_DIR"]).glob(f"wheels-v1/*/{relative}"))


def test_hard_links_share_installed_files_with_the_cache(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", environ)
    ok(pip(venv, environ, index, "install", "plain"))
    installed = site_packages(venv) / "plain" / "__init__.py"
    assert installed.stat().st_ino == unpacked_copy(environ, "plain/__init__.py").stat().st_ino


@pytest.mark.parametrize(
    "how", ["install --link-mode copy", "sync --link-mode copy", "KILN_LINK_MODE=copy install",
            "KILN_LINK_MODE=copy sync", "KILN_LINK_MODE=hardlink install --link-mode copy"],
)
def test_copy_link_mode_gives_installed_files_of_their_own(
    tmp_path: Path, environ: dict[str, str], index: IndexServer, how: str
) -> None:
    venv = make_venv(tmp_path / "venv", environ)
    ok(pip(make_venv(tmp_path / "warm", environ), environ, index, "install", "plain"))
    words = how.split()
    if "=" in words[0]:
        key, _, value = words.pop(0).partition("=")
        environ = {**environ, key: value}
    pins = tmp_path / "requirements.txt"
    pins.write_text("plain==1.0\n")
    target = [str(pins)] if words[0] == "sync" else ["plain"]
    ok(pip(venv, environ, index, words[0], *target, *words[1:]))
    installed = site_packages(venv) / "plain" / "__init__.py"
    cached = unpacked_copy(environ, "plain/__init__.py")
    assert installed.stat().st_ino != cached.stat().st_ino
    installed.write_text("EDITED = True\n")  # editing in place leaves the cache alone
    assert "EDITED" not in cached.read_text()


def test_kiln_venv_seeds_copies_with_kiln_link_mode(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    ok(kiln("venv", tmp_path / "warm", "--seed", env=environ))
    ok(kiln("venv", tmp_path / "venv", "--seed", env={**environ, "KILN_LINK_MODE": "copy"}))
    installed = site_packages(tmp_path / "venv") / "pip" / "__init__.py"
    assert installed.stat().st_ino != unpacked_copy(environ, "pip/__init__.py").stat().st_ino


def test_an_unknown_kiln_link_mode_is_an_error_naming_the_variable(
    tmp_path: Path, environ: dict[str, str], index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", environ)
    result = pip(venv, {**environ, "KILN_LINK_MODE": "symlink"}, index, "install", "plain")
    assert result.returncode == 1
    assert "error: `KILN_LINK_MODE`: unknown link mode `symlink`" in result.stderr
    assert "hint: use one of `hardlink`, `copy`" in result.stderr
    assert not list(site_packages(venv).glob("plain*"))
