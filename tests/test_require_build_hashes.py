"""`--require-build-hashes` (issue #19): every package installed into a build environment
must be pinned with `==` and hashed with `--hash` by the build constraints, and its file
must match; `--no-require-build-hashes` turns that off again. The `--hash` digests that
build constraints give are checked either way (as uv does).

A loopback index serves a stand-in build backend (`standin`, which needs `standin-helper`);
the projects and the sdist built here name it in `[build-system]`, so every build must
install it from that index.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, sha256_of
from pip_helpers import kiln, make_venv, run_python
from wheelbuilder import make_wheel

BACKEND = '''
import base64, hashlib, os, re, zipfile

import standin_helper


def _line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    text = open("pyproject.toml").read()
    name = re.search(r'^name = "(.+)"', text, re.M).group(1)
    version = re.search(r'^version = "(.+)"', text, re.M).group(1)
    info = f"{name}-{version}.dist-info"
    members = {
        f"{name}.py": f"BUILT_BY = {standin_helper.WHO!r}\\n".encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: standin\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join(_line(p, d) for p, d in members.items()) + f"{info}/RECORD,,\\n"
    members[f"{info}/RECORD"] = record.encode()
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return filename
'''

PYPROJECT = """\
[build-system]
requires = ["standin"]
build-backend = "standin_backend"

[project]
name = "{name}"
version = "0.1.0"
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("backend")
    return {
        "standin": make_wheel(directory, "standin", "1.0", {"standin_backend.py": BACKEND},
                              requires=("standin-helper",)),
        "standin-helper": make_wheel(directory, "standin-helper", "1.0",
                                     {"standin_helper.py": "WHO = 'standin 1.0'\n"}),
    }


@pytest.fixture(scope="module")
def index(wheels: dict[str, Path]) -> Iterator[IndexServer]:
    server = IndexServer()
    for wheel in wheels.values():
        server.add(wheel)
    with server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No settings of the machine; a cache of the test's own."""
    environ = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("KILN_", "UV_", "PIP_", "VIRTUAL_ENV"))
    }
    environ["KILN_CACHE_DIR"] = str(tmp_path / "cache")
    environ["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    environ["XDG_CONFIG_DIRS"] = str(tmp_path / "xdg-config-dirs")
    environ["NO_COLOR"] = "1"
    return environ


def project(root: Path, name: str = "app") -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=name))
    return root


def constraints(path: Path, wheels: dict[str, Path], **hashes: str | None) -> Path:
    """A build constraints file pinning both backend packages to 1.0, each with its right
    hash unless ``hashes`` says otherwise (`standin_helper="0" * 64`; None: no `--hash`;
    "unpinned": the right hash on a line without `==`; "absent": no line)."""
    lines = []
    for name, wheel in wheels.items():
        given = hashes.get(name.replace("-", "_"), sha256_of(wheel))
        if given == "absent":
            continue
        if given == "unpinned":
            lines.append(f"{name} --hash=sha256:{sha256_of(wheel)}")
        elif given is None:
            lines.append(f"{name}==1.0")
        else:
            lines.append(f"{name}==1.0 --hash=sha256:{given}")
    path.write_text("\n".join(lines) + "\n")
    return path


def build(root: Path, env: dict[str, str], index: IndexServer,
          *args: str | Path) -> subprocess.CompletedProcess[str]:
    result = kiln("build", "--wheel", root, "--default-index", index.url, *args, env=env,
                  cwd=root)
    assert "Traceback" not in result.stderr
    return result


def built_by(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read("app.py").decode()


def test_a_build_whose_requirements_are_all_pinned_and_hashed_succeeds(
    tmp_path: Path, env: dict[str, str], index: IndexServer, wheels: dict[str, Path]
) -> None:
    root = project(tmp_path / "app")
    given = constraints(tmp_path / "c.txt", wheels)
    result = build(root, env, index, "--require-build-hashes", "-b", given)
    assert result.returncode == 0, result.stderr
    assert "standin 1.0" in built_by(root / "dist" / "app-0.1.0-py3-none-any.whl")


@pytest.mark.parametrize(
    ("hashes", "message"),
    [
        ({"standin_helper": "0" * 64}, "hash mismatch for `standin-helper`"),
        ({"standin": "f" * 64}, "hash mismatch for `standin`"),
        ({"standin_helper": None},
         "these packages have no `--hash` in the requirements: `standin-helper`"),
        ({"standin_helper": "absent"},
         "these packages have no `--hash` in the requirements: `standin-helper`"),
        ({"standin": "unpinned"},
         "is not pinned with `==`, which hash checking requires"),
    ],
)
def test_a_build_requirement_without_its_right_hash_fails_naming_it(
    tmp_path: Path, env: dict[str, str], index: IndexServer, wheels: dict[str, Path],
    hashes: dict[str, str | None], message: str,
) -> None:
    root = project(tmp_path / "app")
    given = constraints(tmp_path / "c.txt", wheels, **hashes)
    failed = build(root, env, index, "--require-build-hashes", "-b", given)
    assert failed.returncode == 1
    assert message in failed.stderr
    assert not (root / "dist" / "app-0.1.0-py3-none-any.whl").exists()


def test_a_wrong_hash_fails_even_without_the_option_and_a_missing_one_does_not(
    tmp_path: Path, env: dict[str, str], index: IndexServer, wheels: dict[str, Path]
) -> None:
    root = project(tmp_path / "app")
    wrong = constraints(tmp_path / "wrong.txt", wheels, standin_helper="0" * 64)
    failed = build(root, env, index, "-b", wrong)
    assert failed.returncode == 1 and "hash mismatch for `standin-helper`" in failed.stderr
    missing = constraints(tmp_path / "missing.txt", wheels, standin_helper=None)
    assert build(root, env, index, "-b", missing).returncode == 0
    # The last of `--require-build-hashes` and `--no-require-build-hashes` counts.
    again = build(root, env, index, "-b", missing, "--require-build-hashes",
                  "--no-require-build-hashes")
    assert again.returncode == 0, again.stderr
    refused = build(root, env, index, "-b", missing, "--no-require-build-hashes",
                    "--require-build-hashes")
    assert refused.returncode == 1 and "`standin-helper`" in refused.stderr


def test_a_cached_environment_made_without_the_check_is_not_reused_for_it(
    tmp_path: Path, env: dict[str, str], index: IndexServer, wheels: dict[str, Path]
) -> None:
    root = project(tmp_path / "app")
    given = constraints(tmp_path / "c.txt", wheels, standin_helper=None)
    assert build(root, env, index, "-b", given).returncode == 0
    failed = build(root, env, index, "-b", given, "--require-build-hashes")
    assert failed.returncode == 1 and "`standin-helper`" in failed.stderr


def test_without_build_isolation_nothing_can_be_checked(
    tmp_path: Path, env: dict[str, str], index: IndexServer, wheels: dict[str, Path]
) -> None:
    root = project(tmp_path / "app")
    given = constraints(tmp_path / "c.txt", wheels)
    failed = build(root, env, index, "-b", given, "--require-build-hashes",
                   "--no-build-isolation")
    assert failed.returncode == 1
    assert "`--require-build-hashes` cannot check the build requirements of" in failed.stderr


def test_the_in_process_kiln_build_backend_is_not_used_unchecked(
    tmp_path: Path, env: dict[str, str], index: IndexServer
) -> None:
    """kiln builds a `kiln_build` project in-process, installing nothing; with
    `--require-build-hashes`, `kiln-build` is a build requirement like any other, which must
    be pinned and hashed by the build constraints (here it is not, so the build fails)."""
    root = tmp_path / "app"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n\n'
        '[project]\nname = "app"\nversion = "0.1.0"\n'
    )
    assert build(root, env, index).returncode == 0
    failed = build(root, env, index, "--require-build-hashes")
    assert failed.returncode == 1
    assert "`kiln-build<0.2,>=0.1` is not pinned with `==`" in failed.stderr


def test_an_installer_that_cannot_check_hashes_is_refused(
    tmp_path: Path, env: dict[str, str], index: IndexServer, wheels: dict[str, Path]
) -> None:
    root = project(tmp_path / "app")
    given = constraints(tmp_path / "c.txt", wheels)
    asked = len(index.requests("/simple/standin/"))  # by the other tests of the module
    failed = build(root, {**env, "KILN_BUILD_INSTALLER": "pip"}, index, "-b", given,
                   "--require-build-hashes")
    assert failed.returncode == 1
    assert "`--require-build-hashes` is checked by kiln's own installer" in failed.stderr
    assert len(index.requests("/simple/standin/")) == asked


# -- kiln pip install of an sdist ---------------------------------------------------------------


def sdist(directory: Path) -> Path:
    """`app-0.1.0.tar.gz`, built by the stand-in backend."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "app-0.1.0.tar.gz"
    pkg_info = b"Metadata-Version: 2.1\nName: app\nVersion: 0.1.0\n"
    with tarfile.open(path, "w:gz") as archive:
        for member, data in (("app-0.1.0/PKG-INFO", pkg_info),
                             ("app-0.1.0/pyproject.toml", PYPROJECT.format(name="app").encode())):
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("hashes", "message"),
    [
        ({}, None),
        ({"standin": "0" * 64}, "hash mismatch for `standin`"),
        ({"standin_helper": "absent"}, "`standin-helper`"),
    ],
)
def test_pip_install_checks_the_build_environment_of_an_sdist(
    tmp_path: Path, env: dict[str, str], index: IndexServer, wheels: dict[str, Path],
    hashes: dict[str, str | None], message: str | None,
) -> None:
    archive = sdist(tmp_path / "sdists")
    given = constraints(tmp_path / "c.txt", wheels, **hashes)
    venv = make_venv(tmp_path / "venv", env)
    result = kiln("pip", "install", "--python", venv / "bin" / "python", archive,
                  "--default-index", index.url, "--require-build-hashes",
                  "--build-constraints", given, env=env, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    if message is None:
        assert result.returncode == 0, result.stderr
        assert run_python(venv, "import app; print(app.BUILT_BY)") == "standin 1.0"
    else:
        assert result.returncode == 1
        assert message in result.stderr
        assert "app" not in run_python(venv, "import importlib.metadata as m; "
                                             "print([d.name for d in m.distributions()])")


# -- kiln lock --------------------------------------------------------------------------------


def test_lock_that_needs_a_build_fails_naming_the_unhashed_build_requirements(
    tmp_path: Path, env: dict[str, str], wheels: dict[str, Path]
) -> None:
    server = IndexServer()
    for wheel in wheels.values():
        server.add(wheel)
    server.add(sdist(tmp_path / "sdists"))
    root = tmp_path / "consumer"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "consumer"\nversion = "1"\nrequires-python = ">=3.9"\n'
        'dependencies = ["app"]\n\n[tool.kiln]\npackage = false\n'
    )
    with server:
        run = ("lock", "--default-index", server.url)
        failed = kiln(*run, "--require-build-hashes", env=env, cwd=root)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert "`standin` is not pinned with `==`, which hash checking requires" in failed.stderr
        assert not (root / "pylock.toml").exists()
        done = kiln(*run, "--require-build-hashes", "--no-require-build-hashes", env=env,
                    cwd=root)
        assert done.returncode == 0, done.stderr


def test_lock_applies_the_projects_build_constraints_to_the_sdists_it_builds(
    tmp_path: Path, env: dict[str, str], wheels: dict[str, Path]
) -> None:
    """`build-constraint-dependencies` of the project hold for every build of its lock, as
    in uv, not only for the project's own build; a change of them makes the lock stale."""
    server = IndexServer()
    for wheel in wheels.values():
        server.add(wheel)
    server.add(sdist(tmp_path / "sdists"))
    root = tmp_path / "consumer"
    root.mkdir()
    pyproject = root / "pyproject.toml"
    text = ('[project]\nname = "consumer"\nversion = "1"\nrequires-python = ">=3.9"\n'
            'dependencies = ["app"]\n\n[tool.uv]\npackage = false\n'
            'build-constraint-dependencies = ["standin-helper<1"]\n')
    pyproject.write_text(text)
    with server:
        run = ("lock", "--default-index", server.url)
        failed = kiln(*run, env=env, cwd=root)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert "standin-helper" in failed.stderr
        assert not (root / "pylock.toml").exists()
        pyproject.write_text(text.replace('"standin-helper<1"', '"standin-helper==1.0"'))
        done = kiln(*run, env=env, cwd=root)
        assert done.returncode == 0, done.stderr
        assert (root / "pylock.toml").exists()
        pyproject.write_text(text.replace('"standin-helper<1"', '"standin-helper>=1"'))
        stale = kiln(*run, "--check", env=env, cwd=root)
        assert stale.returncode == 1 and "is not up to date" in stale.stderr
        # Installing the locked sdist builds it with the project's constraints too.
        pyproject.write_text(text)
        frozen = kiln("sync", "--frozen", "--default-index", server.url, "--no-cache",
                      env=env, cwd=root)
        assert frozen.returncode == 1 and "standin-helper" in frozen.stderr, frozen.stderr


def test_pip_compile_checks_the_build_that_gives_an_sdists_metadata(
    tmp_path: Path, env: dict[str, str], index: IndexServer, wheels: dict[str, Path]
) -> None:
    archive = sdist(tmp_path / "sdists")
    (tmp_path / "requirements.in").write_text(f"app @ {archive.as_uri()}\n")
    run = ("pip", "compile", "requirements.in", "--default-index", index.url,
           "--require-build-hashes")
    wrong = constraints(tmp_path / "wrong.txt", wheels, standin_helper="0" * 64)
    failed = kiln(*run, "-b", wrong, env=env, cwd=tmp_path)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "hash mismatch for `standin-helper`" in failed.stderr
    right = constraints(tmp_path / "right.txt", wheels)
    done = kiln(*run, "-b", right, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "app @ file:" in done.stdout
