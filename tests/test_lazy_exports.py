"""The core packages re-export their public names lazily, so commands import only what they use."""

from __future__ import annotations

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


def test_listing_installed_packages_loads_no_resolver_and_no_http_client(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        f"code = main(['pip', 'list', '--python', {sys.executable!r}])\n"
        "loaded = [m for m in ('kiln.core.resolver.pubgrub', 'kiln.core.install.installer', "
        "'httpx', 'urllib3') if m in sys.modules]\n"
        "print('LOADED', loaded, code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert "LOADED [] 0" in result.stderr, result.stderr


def test_installing_what_is_installed_already_loads_no_resolver_and_no_http_client(
    tmp_path: Path,
) -> None:
    # --no-index --offline: were the audit to fail, nothing could be resolved or changed.
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        f"code = main(['pip', 'install', 'packaging>=1', '--python', {sys.executable!r}, "
        "'--no-index', '--offline'])\n"
        "loaded = [m for m in ('kiln.core.resolver.pubgrub', 'kiln.core.install.installer', "
        "'kiln.core.index.http', 'urllib3', 'ssl') if m in sys.modules]\n"
        "print('LOADED', loaded, code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert "Audited 1 package in " in result.stderr, result.stderr
    assert "LOADED [] 0" in result.stderr, result.stderr
