"""The core packages re-export their public names lazily, so commands import only what they use."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

PACKAGES = ["kiln.core.operations", "kiln.core.install", "kiln.core.resolver", "kiln.core.index"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_exported_name_is_also_a_submodule(package: str) -> None:
    # Importing a submodule sets the package attribute of the same name to the module,
    # which would hide a lazily exported function of that name.
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert not submodules & set(module.__all__)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_to_its_object(package: str) -> None:
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        importlib.import_module(f"{package}.{info.name}")
    for name in module.__all__:
        assert not isinstance(getattr(module, name), types.ModuleType), name
    with pytest.raises(AttributeError, match="no attribute 'missing_name'"):
        getattr(module, "missing_name")  # noqa: B009


#: What a command that needs no resolution must not load.
HEAVY = ("kiln.core.resolver.pubgrub", "kiln.core.install.installer", "kiln.core.index.http",
         "urllib3", "ssl")


def _run_in_process(argv: list[str], cwd: Path) -> tuple[str, list[str], int]:
    """Run ``kiln argv`` in a fresh interpreter: its diagnostics, the heavy modules it
    loaded and its exit status."""
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        f"code = main({argv!r})\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules], code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=cwd, check=False)
    diagnostics, _, last = result.stderr.rpartition("LOADED ")
    loaded, code = last.rsplit(" ", 1)
    return diagnostics, ast.literal_eval(loaded), int(code)


def test_listing_installed_packages_loads_no_resolver_and_no_http_client(tmp_path: Path) -> None:
    _, loaded, code = _run_in_process(["pip", "list", "--python", sys.executable], tmp_path)
    assert (loaded, code) == ([], 0)


def test_installing_what_is_installed_already_loads_no_resolver_and_no_http_client(
    tmp_path: Path,
) -> None:
    # --no-index --offline: were the audit to fail, nothing could be resolved or changed.
    argv = ["pip", "install", "packaging>=1", "--python", sys.executable, "--no-index",
            "--offline"]
    diagnostics, loaded, code = _run_in_process(argv, tmp_path)
    assert "Audited 1 package in " in diagnostics
    assert (loaded, code) == ([], 0)
