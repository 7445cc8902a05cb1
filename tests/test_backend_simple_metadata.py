"""kiln_build writes plain tables' METADATA itself, byte for byte as pyproject-metadata does.

``kiln_build.simple_metadata.render`` handles the tables most projects have without importing
pyproject-metadata; for anything else it declines and pyproject-metadata is asked. These
tests render every test project (and a set of edge cases) both ways and compare the bytes,
check that a table the cheap path cannot vouch for is declined, and that a tiny project's
build imports neither pyproject-metadata nor ``packaging.requirements``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from backend_helpers import BACKEND_SRC, copy_project, project_names

from kiln_build.metadata import _prepare_table, _standard_fields
from kiln_build.modules import find_layout
from kiln_build.pyproject import load_project
from kiln_build.simple_metadata import render

TINY = """\
[project]
name = "tiny"
version = "1.0.0"
{extra}
[build-system]
requires = ["kiln-build>=0.1,<0.2"]
build-backend = "kiln_build"
"""


def _both(project: Path) -> tuple[Any, Any]:
    """(cheap path's fields or None, pyproject-metadata's fields) for ``project``."""
    loaded = load_project(project)
    layout = find_layout(loaded.tree, loaded.table["name"], loaded.settings)
    table = _prepare_table(loaded, layout)
    return render(loaded.data, table, loaded.root), _standard_fields(loaded, table)


def _tiny(tmp_path: Path, extra: str) -> Path:
    project = tmp_path / "tiny"
    (project / "src" / "tiny").mkdir(parents=True)
    (project / "src" / "tiny" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(TINY.format(extra=extra), encoding="utf-8")
    (project / "README.md").write_text("# Tiny\r\n\r\nWindows line endings.\r\n")
    (project / "notes.rst").write_text("Notes\n=====\n")
    (project / "LICENSE").write_text("MIT\n")
    (project / "a-b").mkdir()
    (project / "a-b" / "x.txt").write_text("licence\n")
    (project / "a").mkdir()
    (project / "a" / "b.txt").write_text("licence\n")
    return project


@pytest.mark.parametrize("name", project_names())
def test_cheap_metadata_is_byte_identical_to_pyproject_metadata(name: str, tmp_path: Path) -> None:
    project = copy_project(name, tmp_path)
    cheap, standard = _both(project)
    if cheap is not None:
        assert cheap == standard


def test_most_test_projects_take_the_cheap_path(tmp_path: Path) -> None:
    declined = []
    for name in project_names():
        cheap, _ = _both(copy_project(name, tmp_path / name))
        if cheap is None:
            declined.append(name)
    assert declined == []


EDGE_CASES = {
    "everything": """
description = "Ünïcode summary"
readme = "README.md"
requires-python = ">=3.9,!=3.10.*"
license = "MIT OR Apache-2.0"
license-files = ["LICENSE", "a-b/x.txt", "a/b.txt"]
keywords = ["one", "two"]
classifiers = ["Typing :: Typed", "Programming Language :: Python :: 3"]
authors = [
    {name = "Jane"},
    {name = "Jo, Smith", email = "jo@example.com"},
    {email = "anon@example.com"},
    {name = 'Quote "q" \\\\ back', email = "q@example.com"},
]
maintainers = [{email = "m@example.com"}]
dependencies = ["requests [socks] >= 2 ; python_version < '3.12'", "attrs@https://x.invalid/a.whl"]
scripts = {tiny = "tiny:main"}
gui-scripts = {tiny-gui = "tiny:gui"}
[project.optional-dependencies]
"Dev_Tools.x" = ["pytest>=8", "hypothesis"]
empty = []
url = ["foo @ https://example.invalid/foo.whl"]
markers = ["a; os_name == 'nt'", "b; os_name == 'nt' or python_version < '3.10'", "c @ https://x.invalid/c.whl ; os_name == 'nt'"]
[project.urls]
Homepage = "https://example.invalid"
"Issue tracker" = "https://example.invalid/issues"
[project.entry-points."tiny.plugins"]
one = "tiny.one:Plugin"
""",
    "readme-table-text": 'readme = {text = "Inline\\nreadme", content-type = "text/plain"}\n',
    "readme-table-file": 'readme = {file = "notes.rst", content-type = "text/x-rst; charset=UTF-8"}\n',
    "empty-values": 'description = ""\nkeywords = [""]\nrequires-python = ""\nlicense-files = []\n',
    "version-normalised": "",
    "legacy-license-text": 'license = {text = "\\nMIT\\n\\nPermission.\\n"}\n',
    "legacy-license-file": 'license = {file = "LICENSE"}\n',
    "dependency-groups": '[dependency-groups]\ndev = ["pytest", {include-group = "lint"}]\nlint = ["ruff"]\n',
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_cheap_metadata_matches_pyproject_metadata_on_edge_cases(case: str, tmp_path: Path) -> None:
    extra = EDGE_CASES[case]
    project = _tiny(tmp_path, extra)
    if case == "version-normalised":
        text = (project / "pyproject.toml").read_text().replace('"1.0.0"', '"1.0-RC1"')
        (project / "pyproject.toml").write_text(text)
    cheap, standard = _both(project)
    assert cheap is not None, f"{case}: declined"
    assert cheap.message.decode() == standard.message.decode()
    assert cheap == standard


DECLINED = {
    "unknown-key": 'frobnicate = "yes"\n',
    "import-names": 'import-names = ["tiny"]\n',
    "legacy-license-and-files": 'license = {text = "MIT"}\nlicense-files = ["LICENSE"]\n',
    "legacy-license-both-keys": 'license = {text = "MIT", file = "LICENSE"}\n',
    "legacy-license-tab": 'license = {text = "MIT\\tlicence"}\n',
    "license-classifier": 'classifiers = ["License :: OSI Approved :: MIT License"]\n',
    "invalid-extra-name": '[project.optional-dependencies]\n"-x" = ["foo"]\n',
    "long-url-label": '[project.urls]\n"{}" = "https://x.invalid"\n'.format("x" * 33),
    "control-character": 'description = "tab\\there"\n',
    "readme-unknown-suffix": 'readme = "LICENSE"\n',
    "readme-empty-text": 'readme = {text = "", content-type = "text/plain"}\n',
    "requires-python-invalid": 'requires-python = "three"\n',
    "dependency-invalid": 'dependencies = ["foo >>> 1"]\n',
    "bad-entry-point-group": '[project.entry-points."bad-group"]\nx = "a:b"\n',
    "wrong-type-authors": 'authors = ["Jane"]\n',
    "bad-dependency-group": "[dependency-groups]\ndev = [1]\n",
    "bad-build-requires": "",
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_tables_the_cheap_path_cannot_vouch_for_go_to_pyproject_metadata(
    case: str, tmp_path: Path
) -> None:
    project = _tiny(tmp_path, DECLINED[case])
    if case == "bad-build-requires":
        text = (project / "pyproject.toml").read_text()
        (project / "pyproject.toml").write_text(text.replace('requires = ["kiln', "requires = [1, \"kiln"))
    loaded = load_project(project)
    layout = find_layout(loaded.tree, "tiny", loaded.settings)
    assert render(loaded.data, _prepare_table(loaded, layout), loaded.root) is None


def test_a_tiny_build_imports_neither_pyproject_metadata_nor_requirements(tmp_path: Path) -> None:
    project = _tiny(
        tmp_path, 'readme = "README.md"\nrequires-python = ">=3.9"\nlicense = "MIT"\n'
    )
    code = (
        "import sys, kiln_build\n"
        "kiln_build.build_wheel(sys.argv[1])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pyproject_metadata', "
        "'packaging.requirements', 'packaging.markers', 'email'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out")],
        cwd=project,
        env={"PYTHONPATH": str(BACKEND_SRC), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
