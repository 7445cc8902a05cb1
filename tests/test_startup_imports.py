"""Start-up cost: a command imports only the code it uses.

The core packages' ``__init__`` modules import nothing; callers import each name from the
module that defines it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGES = ["kiln.core", "kiln.core.operations", "kiln.core.install", "kiln.core.resolver",
            "kiln.core.index", "kiln.core.builder"]


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_core_package_loads_none_of_its_modules(package: str) -> None:
    probe = (
        "import sys\n"
        f"import {package}\n"
        f"print(sorted(m for m in sys.modules if m.startswith('{package}.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "[]\n"


#: What a command that needs no resolution must not load.
HEAVY = ("kiln.core.resolver.pubgrub", "kiln.core.install.installer", "kiln.core.index.http",
         "urllib3", "ssl")


def _run_in_process(argv: list[str], cwd: Path) -> tuple[str, list[str], int]:
    """Run ``kiln argv`` in a fresh interpreter: its diagnostics, the heavy modules it
    loaded (and, for ``--version`` and ``--help``, every core module) and its exit status."""
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"heavy = [m for m in sys.modules if m in {HEAVY!r} or m.startswith('kiln.core')]\n"
        "print('LOADED', heavy, code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=cwd, check=False)
    diagnostics, _, last = result.stderr.rpartition("LOADED ")
    loaded, code = last.rsplit(" ", 1)
    return diagnostics, ast.literal_eval(loaded), int(code)


@pytest.mark.parametrize("argv", [["--version"], ["pip", "install", "--help"]])
def test_version_and_help_load_no_core_module(tmp_path: Path, argv: list[str]) -> None:
    _, loaded, code = _run_in_process(argv, tmp_path)
    assert (loaded, code) == ([], 0)


def test_listing_installed_packages_loads_no_resolver_and_no_http_client(tmp_path: Path) -> None:
    _, loaded, code = _run_in_process(["pip", "list", "--python", sys.executable], tmp_path)
    assert not set(loaded) & set(HEAVY)
    assert code == 0


def test_installing_what_is_installed_already_loads_no_resolver_and_no_http_client(
    tmp_path: Path,
) -> None:
    # --no-index --offline: were the audit to fail, nothing could be resolved or changed.
    argv = ["pip", "install", "packaging>=1", "--python", sys.executable, "--no-index",
            "--offline"]
    diagnostics, loaded, code = _run_in_process(argv, tmp_path)
    assert "Audited 1 package in " in diagnostics
    assert not set(loaded) & set(HEAVY)
    assert code == 0


#: All that `kiln lock` may load when the lock's stamps say it is current.
NO_OP_LOCK_MODULES = {
    "kiln.core", "kiln.core.lockfile", "kiln.core.lockfile.stamps", "kiln.core.operations",
    "kiln.core.operations.locking", "kiln.core.index", "kiln.core.index.configfiles",
    "kiln.core.index.pipconfig",
}
#: Modules that are slow to import and that checking the stamps does not need.
NOT_FOR_A_NO_OP = ("dataclasses", "inspect", "configparser", "difflib", "json", "email",
                   "packaging", "tomlkit", "kiln.project", *HEAVY)


def test_a_current_lock_is_recognised_with_few_imports(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        "dependencies = []\n", encoding="utf-8",
    )
    argv = ["lock", "--no-index", "--offline"]
    first = subprocess.run([sys.executable, "-m", "kiln", *argv], cwd=tmp_path,
                           capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        f"code = main({argv!r})\n"
        "print(code, sorted(m for m in sys.modules if m.startswith('kiln.core')))\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {NOT_FOR_A_NO_OP!r}\n"
        f"             or m in {NOT_FOR_A_NO_OP!r} or m.startswith('kiln.project')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=tmp_path, check=True)
    code, core = result.stdout.splitlines()[0].split(" ", 1)
    assert (code, set(ast.literal_eval(core))) == ("0", NO_OP_LOCK_MODULES)
    assert ast.literal_eval(result.stdout.splitlines()[1]) == []


def test_syncing_from_a_current_lock_loads_no_resolver(tmp_path: Path) -> None:
    # No dependencies, no index: the environment is made and the lock holds nothing to
    # install; the resolver must not be loaded to find that out.
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        "dependencies = []\n", encoding="utf-8",
    )
    argv = ["lock", "--no-index", "--offline"]
    first = subprocess.run([sys.executable, "-m", "kiln", *argv], cwd=tmp_path,
                           capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    diagnostics, loaded, code = _run_in_process(
        ["sync", "--no-index", "--offline", "--python", sys.executable], tmp_path
    )
    assert code == 0, diagnostics
    assert (tmp_path / ".venv" / "pyvenv.cfg").is_file()
    assert "kiln.core.resolver.pubgrub" not in loaded
    assert not any(m.startswith("kiln.core.resolver.p") for m in loaded), loaded


def test_syncing_a_new_environment_from_a_warm_cache_loads_no_network_code(
    tmp_path: Path,
) -> None:
    # The wheels are in the download cache after the first sync: making the environment
    # again must link them from there without loading the index client or TLS; from the
    # snapshot of the environment made at the same place, without the installer either, and
    # without `dataclasses` (see docs/src/contributing/architecture.md).
    import shutil

    from indexserver import IndexServer, build_wheel
    from pip_helpers import base_env

    server = IndexServer()
    server.add(build_wheel(tmp_path / "wheels", "idna", "3.7"))
    server.add(build_wheel(tmp_path / "wheels", "six", "1.16.0", requires_dist=["idna"]))
    project = tmp_path / "demo"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        'dependencies = ["six"]\n', encoding="utf-8",
    )
    env = base_env(tmp_path / "cache")
    argv = ["sync", "--default-index", "", "--python", sys.executable]

    def loaded_by_a_new_sync() -> list[str]:
        shutil.rmtree(project / ".venv")
        probe = (
            "import sys\n"
            "from kiln.cli.main import main\n"
            f"code = main({argv!r})\n"
            "print('LOADED', sorted(m for m in sys.modules if m in "
            f"{HEAVY!r} or m in ('kiln.core.operations.session', 'dataclasses')), code,\n"
            "      file=sys.stderr)\n"
        )
        result = subprocess.run([sys.executable, "-c", probe], cwd=project, env=env,
                                capture_output=True, text=True, check=False)
        diagnostics, _, last = result.stderr.rpartition("LOADED ")
        loaded, code = last.rsplit(" ", 1)
        assert int(code) == 0, diagnostics
        assert "Installed 2 packages" in diagnostics
        return list(ast.literal_eval(loaded))

    with server:
        argv[2] = server.url
        first = subprocess.run([sys.executable, "-m", "kiln", *argv], cwd=project, env=env,
                               capture_output=True, text=True, check=False)
        assert first.returncode == 0, first.stderr
        assert loaded_by_a_new_sync() == []
        shutil.rmtree(tmp_path / "cache" / "sync-snapshots-v1")
        assert loaded_by_a_new_sync() == ["kiln.core.install.installer"]


def test_no_module_of_kiln_imports_dataclasses() -> None:
    # Creating a dataclass costs start-up time on every run; kiln's value classes are named
    # tuples or `kiln.core.record` classes (docs/src/contributing/architecture.md).
    root = Path(__file__).resolve().parent.parent / "frontend" / "src" / "kiln"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if "dataclasses" in names:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
