"""`kiln lock --script` and `kiln sync --script`: a PEP 723 script locked into
`pylock.<stem>.toml` beside it and synced into its own environment in the cache, from a real
loopback index, by real `kiln` processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import KILN_BUILD_SYSTEM, base_env, kiln, ok

UV = Path(sys.executable).parent / "uv"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(build_wheel(files, "requests", "2.31.0", requires_dist=["idna>=3"]))
    server.add(build_wheel(files, "requests", "2.32.3", requires_dist=["idna>=3"]))
    server.add(build_wheel(files, "idna", "3.6"))
    server.add(build_wheel(files, "idna", "3.7"))
    server.add(build_wheel(files, "six", "1.16.0"))
    with server:
        yield server


SCRIPT = """\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["requests>=2"]
# ///
import requests

print(requests.__name__)
"""


def script(directory: Path, text: str = SCRIPT, name: str = "fetch.py") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def run(
    command: str, path: Path, index: IndexServer, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    cache = path.parent.parent / "cache"
    result = kiln(command, "--script", path, "--default-index", index.url, *args,
                  env=base_env(cache), cwd=cwd or path.parent)
    assert "Traceback" not in result.stderr
    return result


def environments(path: Path) -> list[Path]:
    return sorted((path.parent.parent / "cache" / "environments-v1").glob("*"))


def installed(venv: Path) -> dict[str, str]:
    found = {}
    for entry in next((venv / "lib").glob("python*/site-packages")).glob("*.dist-info"):
        name, version = entry.name[: -len(".dist-info")].rsplit("-", 1)
        found[name.lower().replace("_", "-")] = version
    return found


def test_lock_script_writes_a_pep_751_lock_beside_the_script(
    tmp_path: Path, index: IndexServer
) -> None:
    from packaging.pylock import Pylock

    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    path = script(tmp_path / "work")
    result = ok(run("lock", path, index))
    assert "Updated `pylock.fetch.toml`:" in result.stderr
    lock = path.parent / "pylock.fetch.toml"
    data = tomllib.loads(lock.read_text())
    Pylock.from_dict(data)  # a valid PEP 751 lock
    assert {p["name"]: p["version"] for p in data["packages"]} == {
        "requests": "2.32.3", "idna": "3.7"}
    assert data["requires-python"] == ">=3.10"
    (record,) = data["tool"]["kiln"]["projects"]
    assert record["script"] == "fetch.py" and record["dependencies"] == ["requests>=2"]
    assert not (path.parent / "pylock.toml").exists()
    # Nothing else is written: no environment, no project file.
    assert sorted(p.name for p in path.parent.iterdir()) == ["fetch.py", "pylock.fetch.toml"]


def test_the_script_lock_follows_the_metadata_block_and_not_the_code(
    tmp_path: Path, index: IndexServer
) -> None:
    path = script(tmp_path / "work")
    ok(run("lock", path, index))
    lock = path.parent / "pylock.fetch.toml"
    before = lock.read_bytes()
    path.write_text(path.read_text() + "print('more code')\n")
    check = ok(run("lock", path, index, "--check"))
    assert "is up to date" in check.stderr
    ok(run("lock", path, index))
    assert lock.read_bytes() == before  # byte-identical: the code is not an input
    path.write_text(path.read_text().replace('["requests>=2"]', '["requests>=2", "six"]'))
    stale = run("lock", path, index, "--check")
    assert stale.returncode == 1
    assert "is not up to date" in stale.stderr and "`six`" in stale.stderr
    assert lock.read_bytes() == before
    ok(run("lock", path, index))
    assert 'name = "six"' in lock.read_text()


def test_sync_script_installs_the_lock_into_the_scripts_own_environment(
    tmp_path: Path, index: IndexServer
) -> None:
    path = script(tmp_path / "work")
    ok(run("lock", path, index))
    result = ok(run("sync", path, index))
    (venv,) = environments(path)
    assert venv.name.startswith("fetch-")
    assert "Creating script environment at: " in result.stderr
    assert installed(venv) == {"requests": "2.32.3", "idna": "3.7"}
    out = subprocess.run([str(venv / "bin" / "python"), str(path)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "requests"
    assert not (path.parent / ".venv").exists()
    again = ok(run("sync", path, index))
    assert again.stderr.splitlines()[-1].startswith("Audited 2 packages in ")
    # Another directory, the same script: the same environment.
    ok(run("sync", path, index, cwd=tmp_path))
    assert environments(path) == [venv]
    # The environment holds exactly what the lock selects.
    path.write_text(path.read_text().replace('["requests>=2"]', '["six"]'))
    ok(run("sync", path, index))
    assert installed(venv) == {"six": "1.16.0"}


def test_sync_script_ignores_the_project_environment_variable(
    tmp_path: Path, index: IndexServer
) -> None:
    path = script(tmp_path / "work")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    env = {**base_env(tmp_path / "cache"), "KILN_PROJECT_ENVIRONMENT": str(elsewhere),
           "UV_PROJECT_ENVIRONMENT": str(elsewhere)}
    ok(kiln("sync", "--script", path, "--default-index", index.url, env=env, cwd=path.parent))
    (venv,) = environments(path)
    assert installed(venv) == {"requests": "2.32.3", "idna": "3.7"}
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]


def test_sync_script_without_a_lock_resolves_and_writes_none(
    tmp_path: Path, index: IndexServer
) -> None:
    path = script(tmp_path / "work")
    result = ok(run("sync", path, index))
    assert "pylock.fetch.toml" not in result.stderr
    assert not (path.parent / "pylock.fetch.toml").exists()
    (venv,) = environments(path)
    assert installed(venv) == {"requests": "2.32.3", "idna": "3.7"}
    for option in ("--locked", "--frozen"):
        refused = run("sync", path, index, option)
        assert refused.returncode == 1
        assert "needs the lock of the script" in refused.stderr
        assert "hint: run `kiln lock --script fetch.py`" in refused.stderr


def test_a_script_lock_installs_with_uv(tmp_path: Path, index: IndexServer) -> None:
    path = script(tmp_path / "work")
    ok(run("lock", path, index))
    ok(run("sync", path, index))
    (venv,) = environments(path)
    target = tmp_path / "uv-venv"
    subprocess.run([str(UV), "venv", "-q", "--python", sys.executable, str(target)], check=True)
    subprocess.run(
        [str(UV), "pip", "sync", "-q", "--python", str(target / "bin" / "python"),
         str(path.parent / "pylock.fetch.toml")],
        check=True, env=base_env(tmp_path / "uv-cache") | {"UV_CACHE_DIR": str(tmp_path / "uvc")},
    )
    assert installed(target) == installed(venv)


def test_a_scripts_path_source_is_relative_to_the_script(
    tmp_path: Path, index: IndexServer
) -> None:
    library = tmp_path / "work" / "lib"
    (library / "src" / "helper").mkdir(parents=True)
    (library / "src" / "helper" / "__init__.py").write_text("")
    (library / "pyproject.toml").write_text(
        '[project]\nname = "helper"\nversion = "0.3"\ndependencies = ["six"]\n\n'
        + KILN_BUILD_SYSTEM
    )
    path = script(tmp_path / "work", """\
        # /// script
        # dependencies = ["helper"]
        # [tool.kiln.sources]
        # helper = { path = "lib" }
        # ///
        """)
    ok(run("sync", path, index, cwd=tmp_path))
    (venv,) = environments(path)
    assert installed(venv) == {"helper": "0.3", "six": "1.16.0"}


def test_lock_script_does_not_take_over_a_file_that_is_not_its_lock(
    tmp_path: Path, index: IndexServer
) -> None:
    path = script(tmp_path / "work")
    other = path.parent / "pylock.fetch.toml"
    other.write_text('lock-version = "1.0"\ncreated-by = "someone"\npackages = []\n')
    result = run("lock", path, index)
    assert result.returncode == 1
    assert "is not the lock of the script `fetch.py`" in result.stderr
    assert other.read_text().startswith('lock-version = "1.0"\ncreated-by = "someone"')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("print('no block')\n", "has no `# /// script` metadata block"),
        ("# /// script\n# dependencies = []\n# ///\nimport os\n# /// script\n# dependencies = []\n"
         "# ///\n",
         "has more than one `# /// script` metadata block"),
        ("# /// script\n# dependencies = []\n# ///\n# /// script\n# dependencies = []\n# ///\n",
         "has more than one `# /// script` metadata block"),
        ("# /// script\n# dependencies = [\n# ///\n", "the `# /// script` block of "),
        ("# /// script\n# dependencies = ['requests>==']\n# ///\n", "`dependencies[0]`"),
        ("# /// script\n# requires-python = 3\n# ///\n", "`requires-python`"),
    ],
    ids=["no-block", "two-blocks", "adjacent-blocks", "bad-toml", "bad-requirement", "bad-requires-python"],
)
def test_a_bad_script_gets_an_error_naming_the_script(
    tmp_path: Path, index: IndexServer, text: str, message: str
) -> None:
    path = script(tmp_path / "work", text)
    for command in ("lock", "sync"):
        result = run(command, path, index)
        assert result.returncode == 1, result.stderr
        assert message in result.stderr and str(path) in result.stderr
    assert sorted(p.name for p in path.parent.iterdir()) == ["fetch.py"]
    assert environments(path) == []


def test_sync_script_refuses_project_selection_options(
    tmp_path: Path, index: IndexServer
) -> None:
    path = script(tmp_path / "work")
    for option in (["--package", "x"], ["--all-extras"], ["--group", "dev"], ["--no-dev"]):
        result = run("sync", path, index, *option)
        assert result.returncode == 2
        assert f"`--script` cannot be combined with `{option[0]}`" in result.stderr
    assert environments(path) == []
