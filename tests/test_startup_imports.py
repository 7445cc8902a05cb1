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
