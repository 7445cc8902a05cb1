"""Build backends `kiln init` can set up: the `[build-system]` table and the files each needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from kiln import __version__
from kiln.errors import KilnError
from kiln.init.names import ProjectName


def _compatible_range(version: str) -> str:
    """`>=0.1.0,<0.2` for a 0.x release, `>=1.4.0,<2` from 1.0 on: the next breaking release."""
    parts = [int(p) for p in version.split(".")[:3] if p.isdigit()]
    major, minor = [*parts, 0, 0][:2]
    upper = f"0.{minor + 1}" if major == 0 else str(major + 1)
    return f">={version},<{upper}"


# Files a backend adds, keyed by path relative to the project root.
FileMaker = Callable[[ProjectName], dict[str, str]]


def _no_files(project: ProjectName) -> dict[str, str]:
    return {}


# Extra `[tool.*]` tables; the flag says whether the project ships `py.typed`.
TableMaker = Callable[[ProjectName, bool], str]


def _no_tables(project: ProjectName, typed: bool) -> str:
    return ""


class Backend(NamedTuple):
    """One build backend: how to name it, require it and lay out a project for it."""

    name: str
    aliases: tuple[str, ...]
    requires: tuple[str, ...]
    build_backend: str
    native: bool = False
    tool_tables: TableMaker = _no_tables
    extra_files: FileMaker = _no_files

    def build_system(self) -> str:
        requires = ", ".join(f'"{r}"' for r in self.requires)
        return f'[build-system]\nrequires = [{requires}]\nbuild-backend = "{self.build_backend}"\n'


def _maturin_tables(project: ProjectName, typed: bool) -> str:
    return (
        "[tool.maturin]\n"
        f'module-name = "{project.module}._core"\n'
        f'python-packages = ["{project.module}"]\n'
        'python-source = "src"\n'
    )


def _maturin_files(project: ProjectName) -> dict[str, str]:
    cargo = f"""[package]
name = "{project.module}"
version = "0.1.0"
edition = "2021"

[lib]
# The compiled module is imported as `{project.module}._core`.
name = "_core"
# A C-compatible dynamic library is what Python loads as an extension module.
crate-type = ["cdylib"]

[dependencies]
# `extension-module` leaves libpython unlinked, as extension modules must;
# `abi3-py39` builds one wheel that works on CPython 3.9 and later.
pyo3 = {{ version = "0.25", features = ["extension-module", "abi3-py39"] }}
"""
    lib_rs = f"""use pyo3::prelude::*;

#[pyfunction]
fn hello_from_bin() -> String {{
    "Hello from {project.name}!".to_string()
}}

/// The compiled part of `{project.module}`, imported as `{project.module}._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {{
    m.add_function(wrap_pyfunction!(hello_from_bin, m)?)?;
    Ok(())
}}
"""
    return {
        "Cargo.toml": cargo,
        "src/lib.rs": lib_rs,
        f"src/{project.module}/_core.pyi": _CORE_STUB,
    }


def _scikit_tables(project: ProjectName, typed: bool) -> str:
    return (
        "[tool.scikit-build]\n"
        'minimum-version = "build-system.requires"\n'
        'build-dir = "build/{wheel_tag}"\n'
    )


def _scikit_files(project: ProjectName) -> dict[str, str]:
    cmake = f"""cmake_minimum_required(VERSION 3.15...3.31)
project(${{SKBUILD_PROJECT_NAME}} LANGUAGES CXX)

set(PYBIND11_FINDPYTHON ON)
find_package(pybind11 CONFIG REQUIRED)

# The extension is imported as `{project.module}._core`.
pybind11_add_module(_core MODULE src/main.cpp)
install(TARGETS _core DESTINATION {project.module})
"""
    main_cpp = f"""#include <pybind11/pybind11.h>

#include <string>

std::string hello_from_bin() {{ return "Hello from {project.name}!"; }}

PYBIND11_MODULE(_core, m) {{
    m.doc() = "The compiled part of {project.module}";
    m.def("hello_from_bin", &hello_from_bin, "Return a greeting from C++.");
}}
"""
    return {
        "CMakeLists.txt": cmake,
        "src/main.cpp": main_cpp,
        f"src/{project.module}/_core.pyi": _CORE_STUB,
    }


def _setuptools_tables(project: ProjectName, typed: bool) -> str:
    # setuptools before 69 leaves `py.typed` out of wheels unless it is named as package data.
    if not typed:
        return ""
    return f'[tool.setuptools.package-data]\n{project.module} = ["py.typed"]\n'


_CORE_STUB = "def hello_from_bin() -> str: ...\n"

BACKENDS: tuple[Backend, ...] = (
    Backend("kiln", ("kiln-build", "kiln_build"), (f"kiln-build{_compatible_range(__version__)}",), "kiln_build"),
    Backend("uv", ("uv-build", "uv_build"), ("uv_build>=0.13.0,<0.14",), "uv_build"),
    Backend("hatchling", ("hatch",), ("hatchling",), "hatchling.build"),
    Backend("flit-core", ("flit", "flit_core"), ("flit_core>=3.11,<5",), "flit_core.buildapi"),
    Backend("pdm-backend", ("pdm", "pdm_backend"), ("pdm-backend",), "pdm.backend"),
    Backend("setuptools", (), ("setuptools>=61",), "setuptools.build_meta", tool_tables=_setuptools_tables),
    Backend("poetry-core", ("poetry", "poetry_core"), ("poetry-core>=2,<3",), "poetry.core.masonry.api"),
    Backend(
        "maturin", (), ("maturin>=1.0,<2.0",), "maturin",
        native=True, tool_tables=_maturin_tables, extra_files=_maturin_files,
    ),
    Backend(
        "scikit-build-core", ("scikit", "scikit_build_core"), ("scikit-build-core>=0.10", "pybind11"),
        "scikit_build_core.build",
        native=True, tool_tables=_scikit_tables, extra_files=_scikit_files,
    ),
)

DEFAULT = "kiln"


def choices() -> list[str]:
    """Every accepted spelling, canonical names first."""
    return [b.name for b in BACKENDS] + [a for b in BACKENDS for a in b.aliases]


def lookup(name: str) -> Backend:
    for backend in BACKENDS:
        if name == backend.name or name in backend.aliases:
            return backend
    known = ", ".join(f"`{b.name}`" for b in BACKENDS)
    raise KilnError(f"unknown build backend `{name}`", hint=f"choose one of {known}")
