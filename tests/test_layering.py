"""kiln's packages form layers, and no module imports from a layer above its own.

The layers are the table of `docs/src/contributing/architecture.md`, read here: the page and
the check cannot drift apart. Every `import` of every module counts (at the top, inside a
function, under `TYPE_CHECKING`, and `importlib.import_module("kiln...")`), and every module
must belong to a layer, so a new package has to be placed in the table.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "frontend" / "src"
ARCHITECTURE = ROOT / "docs" / "src" / "contributing" / "architecture.md"
MARKER = "<!-- layers: read by tests/test_layering.py -->"


@dataclass(frozen=True)
class Layer:
    rank: int
    name: str
    packages: tuple[str, ...]


def documented_layers() -> list[Layer]:
    """The rows of the layer table: rank, layer name, packages (in backquotes)."""
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    start = lines.index(MARKER) + 3  # the marker, the header row, the separator row
    layers: list[Layer] = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        packages = tuple(re.findall(r"`(kiln[a-z_.]*)`", cells[2]))
        layers.append(Layer(int(cells[0]), cells[1], packages))
    return layers


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted((SOURCE / "kiln").rglob("*.py"))}


def layer_of(module: str, layers: list[Layer]) -> Layer | None:
    """The layer of the longest listed package that ``module`` is or is inside; a listed
    package that holds other listed packages (``kiln``, ``kiln.core``) is itself only."""
    listed = {package: layer for layer in layers for package in layer.packages}
    best: str | None = None
    for package in listed:
        parent = any(other.startswith(package + ".") for other in listed)
        inside = module == package or (not parent and module.startswith(package + "."))
        if inside and (best is None or len(package) > len(best)):
            best = package
    return None if best is None else listed[best]


def imported_modules(module: str, path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every kiln module that ``module`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((node.lineno, submodule if submodule in MODULES else base))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
        ):
            first = node.args[0]
            if isinstance(first, ast.JoinedStr):
                first = first.values[0] if first.values else first
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value.rstrip(".")))
    return [(line, name) for line, name in found if name == "kiln" or name.startswith("kiln.")]


def test_the_layer_table_is_well_formed() -> None:
    layers = documented_layers()
    names = [layer.name for layer in layers]
    assert len(names) == len(set(names)), names
    assert [layer.rank for layer in layers] == sorted(layer.rank for layer in layers)
    packages = [package for layer in layers for package in layer.packages]
    assert len(packages) == len(set(packages)), packages
    for package in packages:  # every listed package exists
        assert package in MODULES, f"{package} is in the layer table but not in the source"
    assert {"core", "cli", "builder", "operations", "configuration"} <= set(names)


def test_every_module_belongs_to_a_layer() -> None:
    layers = documented_layers()
    unplaced = [module for module in MODULES if layer_of(module, layers) is None]
    assert not unplaced, f"add these to the layer table of {ARCHITECTURE.name}: {unplaced}"


def test_no_module_imports_from_a_higher_or_sibling_layer() -> None:
    layers = documented_layers()
    violations: list[str] = []
    for module, path in MODULES.items():
        own = layer_of(module, layers)
        assert own is not None
        for line, target in imported_modules(module, path):
            other = layer_of(target, layers)
            assert other is not None, f"{module}:{line} imports the unknown module {target}"
            if other.name != own.name and other.rank >= own.rank:
                violations.append(
                    f"{path.relative_to(ROOT)}:{line}: {module} ({own.name}, rank {own.rank}) "
                    f"imports {target} ({other.name}, rank {other.rank})"
                )
    assert not violations, "\n".join(violations)


def test_the_check_sees_imports_in_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    """The walker itself: a lazy import and a TYPE_CHECKING import are both found."""
    path = tmp_path / "probe.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from kiln.cli.ui import UI\n"
        "def run():\n    import kiln.core.operations.installing\n"
        "    importlib.import_module(f'kiln.cli.commands.{name}')\n"
        "from .. import errors\n"
    )
    found = {name for _line, name in imported_modules("kiln.core.probe", path)}
    assert found == {
        "kiln.cli.ui", "kiln.core.operations.installing", "kiln.cli.commands", "kiln.errors",
    }


@pytest.mark.parametrize("module", sorted(set(MODULES) - {"kiln.__main__"}))  # that one runs
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)
