"""The documentation site builds cleanly and its configuration examples are valid TOML."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SRC = DOCS / "src"

#: Pages whose ```toml examples must parse; later, they will be executed as builds too.
TOML_PAGES = (
    "guide/backend.md",
    "reference/configuration.md",
    "migration/from-uv.md",
    "migration/from-hatch.md",
    "migration/from-flit.md",
    "migration/from-setuptools.md",
)

#: Every key of `[tool.kiln.build-backend]`, each needing a section in the reference.
BUILD_BACKEND_KEYS = (
    "module-root",
    "module-name",
    "namespace",
    "source-include",
    "source-exclude",
    "wheel-exclude",
    "default-excludes",
    "respect-gitignore",
    "data",
)

#: The planned `[[tool.kiln.index]]` keys, each needing a row in the reference.
INDEX_KEYS = (
    "name",
    "url",
    "default",
    "explicit",
    "format",
    "publish-url",
    "authenticate",
    "ignore-error-codes",
)

_FENCE = re.compile(r"^```toml[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def _toml_blocks_with_project_table() -> list[pytest.ParameterSet]:
    params = []
    for page in TOML_PAGES:
        text = (SRC / page).read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            block = match.group(1)
            if re.search(r"^\[project\]\s*$", block, re.MULTILINE):
                line = text.count("\n", 0, match.start()) + 1
                params.append(pytest.param(block, id=f"{page}:{line}"))
    return params


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "-f", str(DOCS / "mkdocs.yml"), "-d", str(site)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return site


def test_site_builds_strict_with_every_page(built_site: Path) -> None:
    pages = sorted(p.relative_to(SRC).with_suffix("") for p in SRC.rglob("*.md"))
    assert pages, "no Markdown pages under docs/src"
    for page in pages:
        html = built_site / (page.parent if page.name == "index" else page) / "index.html"
        assert html.is_file(), f"{page}.md was not rendered to {html.relative_to(built_site)}"


def test_site_has_the_required_sections(built_site: Path) -> None:
    for page in (
        "getting-started", "commands/init", "commands/build", "commands/publish",
        "commands/venv", "commands/pip", "commands/cache", "guide/backend",
        "differences", "reference/configuration", "migration/from-uv",
        "migration/from-hatch", "migration/from-flit", "migration/from-setuptools",
        "contributing/messages", "benchmarks",
    ):
        assert (built_site / page / "index.html").is_file(), page


@pytest.mark.parametrize("block", _toml_blocks_with_project_table())
def test_toml_example_with_project_table_parses(block: str) -> None:
    data = tomllib.loads(block)
    assert isinstance(data["project"].get("name"), str)


def test_toml_examples_were_found() -> None:
    assert len(_toml_blocks_with_project_table()) >= 15


def test_configuration_reference_documents_every_build_backend_key() -> None:
    text = (SRC / "reference" / "configuration.md").read_text(encoding="utf-8")
    for key in BUILD_BACKEND_KEYS:
        assert f"### `{key}`" in text, f"no section for `{key}`"
    assert "[tool.uv.build-backend]" in text


def test_configuration_reference_documents_every_index_key() -> None:
    text = (SRC / "reference" / "configuration.md").read_text(encoding="utf-8")
    section = text[text.index("[[tool.kiln.index]]") :]
    for key in INDEX_KEYS:
        assert f"| `{key}` |" in section, f"no row for `{key}`"


def test_benchmarks_page_has_the_results_block() -> None:
    text = (SRC / "benchmarks.md").read_text(encoding="utf-8")
    start = text.index("<!-- benchmark-results:start -->")
    assert text.index("<!-- benchmark-results:end -->") > start
