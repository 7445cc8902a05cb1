"""Every project under testprojects/errors fails with a clear BuildBackendError."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_helpers import copy_project, error_project_names, kiln_hook

SDIST, WHEEL, EDITABLE, METADATA = "sdist", "wheel", "editable", "metadata"
ALL = (SDIST, WHEEL, EDITABLE, METADATA)
BUILDS = (SDIST, WHEEL, EDITABLE)
METADATA_HOOKS = (SDIST, WHEEL, METADATA)

# error project -> (hooks that must fail, substrings the message must contain)
EXPECTED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "missing-module": (BUILDS, ("src/missing_module/__init__.py",)),
    "module-root-outside": (BUILDS, ("pyproject.toml", "tool.kiln.build-backend.module-root")),
    "bad-module-name": (
        BUILDS,
        ("pyproject.toml", "tool.kiln.build-backend.module-name", "bad-name"),
    ),
    "invalid-name": (ALL, ("pyproject.toml", "project.name", "invalid name")),
    "invalid-version": (ALL, ("pyproject.toml", "project.version", "one.two")),
    "bad-glob": (
        (SDIST, WHEEL),
        ("pyproject.toml", "tool.kiln.build-backend.source-exclude", "docs/***/x"),
    ),
    "bad-license-glob": (METADATA_HOOKS, ("pyproject.toml", "project.license-files", "../LICENSE")),
    "venv-in-module-root": ((SDIST, WHEEL), ("src/venv_in_module_root/.venv",)),
    "unknown-data-key": (ALL, ("pyproject.toml", "tool.kiln.build-backend.data", "header")),
    "data-outside-project": (
        (SDIST, WHEEL),
        ("pyproject.toml", "tool.kiln.build-backend.data.headers", "../include"),
    ),
    "dynamic-dependencies": (ALL, ("pyproject.toml", "project.dynamic", "dependencies")),
    "dynamic-version-missing": (ALL, ("__version__", "src/dynamic_version_missing/__init__.py")),
    "license-files-no-match": (
        METADATA_HOOKS,
        ("pyproject.toml", "project.license-files", "LICENSE.txt"),
    ),
    "invalid-license-expression": (
        METADATA_HOOKS,
        ("pyproject.toml", "project.license", "MIT XOR Apache-2.0"),
    ),
    "mixed-license-generations": (
        METADATA_HOOKS,
        ("pyproject.toml", "project.license-files", "project.license"),
    ),
    "missing-readme": (METADATA_HOOKS, ("pyproject.toml", "project.readme", "README.md")),
    "multiline-description": (METADATA_HOOKS, ("pyproject.toml", "project.description")),
    "pyproject-excluded": ((SDIST,), ("pyproject.toml", "tool.kiln.build-backend.source-exclude")),
    # Entry points are checked by every hook: an sdist that can never build a wheel is refused.
    "bad-entry-point-group": (
        ALL,
        ("pyproject.toml", "project.entry-points", "bad-group"),
    ),
    "console-scripts-table": (
        ALL,
        ("pyproject.toml", "project.entry-points.console_scripts", "project.scripts"),
    ),
    "stubs-without-pyi": (BUILDS, ("src/bar-stubs/__init__.pyi",)),
    "namespace-parent-init": (BUILDS, ("src/nsparent/__init__.py",)),
    "invalid-requirement": (ALL, ("pyproject.toml", "project.dependencies", "foo >>> 1")),
    "invalid-classifier": (ALL, ("pyproject.toml", "project.classifiers", "Foo")),
    "duplicate-extras": (ALL, ("pyproject.toml", "project.optional-dependencies", "foo-bar")),
    "toml-syntax-error": (ALL, ("pyproject.toml",)),
    "missing-project-table": (ALL, ("pyproject.toml", "project")),
    "wrong-type-source-include": (
        (SDIST,),
        ("pyproject.toml", "tool.kiln.build-backend.source-include"),
    ),
}

CASES = [(name, hook) for name, (hooks, _) in sorted(EXPECTED.items()) for hook in hooks]


def _call(project: Path, hook: str, out: Path) -> object:
    if hook == METADATA:
        return kiln_hook(project, "prepare_metadata_for_build_wheel", str(out))
    return kiln_hook(project, f"build_{hook}", str(out))


def test_every_error_project_has_expectations() -> None:
    assert sorted(EXPECTED) == error_project_names()


@pytest.mark.parametrize(("name", "hook"), CASES)
def test_error_project_fails_with_a_message_naming_file_and_key(
    name: str, hook: str, tmp_path: Path
) -> None:
    from kiln_build.errors import BuildBackendError

    project = copy_project(f"errors/{name}", tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(BuildBackendError) as excinfo:
        _call(project, hook, out)
    message = str(excinfo.value)
    for expected in EXPECTED[name][1]:
        assert expected in message, f"{expected!r} not in {message!r}"
    assert "Traceback" not in message
    assert list(out.iterdir()) == [], "a failed build left files in the output directory"


def test_build_backend_error_is_a_plain_exception() -> None:
    from kiln_build.errors import BuildBackendError

    assert issubclass(BuildBackendError, Exception)


def test_failed_build_leaves_the_output_directory_as_it_was(tmp_path: Path) -> None:
    """A failed build removes nothing it did not create: an earlier artifact of the same
    name stays, byte for byte (only a finished archive replaces it)."""
    from kiln_build.errors import BuildBackendError

    project = copy_project("errors/missing-module", tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    earlier_sdist = out / "missing_module-1.0.0.tar.gz"
    earlier_wheel = out / "missing_module-1.0.0-py3-none-any.whl"
    earlier_sdist.write_bytes(b"earlier")
    earlier_wheel.write_bytes(b"earlier")
    for hook in (SDIST, WHEEL):
        with pytest.raises(BuildBackendError):
            _call(project, hook, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([earlier_sdist.name, earlier_wheel.name])
    assert earlier_sdist.read_bytes() == earlier_wheel.read_bytes() == b"earlier"


def test_excluded_pyproject_only_breaks_the_sdist(tmp_path: Path) -> None:
    project = copy_project("errors/pyproject-excluded", tmp_path)
    out = tmp_path / "out"
    assert _call(project, WHEEL, out) == "pyproject_excluded-1.0.0-py3-none-any.whl"


@pytest.mark.parametrize("name", ["bad-entry-point-group", "console-scripts-table"])
def test_entry_point_errors_fail_the_sdist_with_the_wheel_message(
    name: str, tmp_path: Path
) -> None:
    from kiln_build.errors import BuildBackendError

    project = copy_project(f"errors/{name}", tmp_path)
    messages = {}
    for hook in (SDIST, WHEEL):
        out = tmp_path / f"out-{hook}"
        out.mkdir()
        with pytest.raises(BuildBackendError) as excinfo:
            _call(project, hook, out)
        messages[hook] = str(excinfo.value)
        assert list(out.iterdir()) == []
    assert messages[SDIST] == messages[WHEEL]


def test_error_message_has_a_single_error_line_and_optional_hint(tmp_path: Path) -> None:
    from kiln_build.errors import BuildBackendError

    project = copy_project("errors/module-root-outside", tmp_path)
    with pytest.raises(BuildBackendError) as excinfo:
        _call(project, WHEEL, tmp_path)
    lines = str(excinfo.value).splitlines()
    assert lines and not lines[0].startswith("hint:")
    assert all(line.startswith("hint: ") for line in lines[1:] if line.startswith("hint"))
