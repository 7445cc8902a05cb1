"""The reference pages keep up with the code: every variable and key that kiln reads is documented."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "src" / "reference"
SOURCES = (ROOT / "frontend" / "src", ROOT / "backend" / "src")

_VARIABLE = re.compile(r"[A-Z][A-Z0-9_]+")
#: ``KILN_*`` names inside any string (messages, f-string parts); ``_KILN_OLD_*`` are shell
#: variables of the activation scripts, not settings.
_KILN_NAME = re.compile(r"(?<![A-Za-z0-9_])KILN_[A-Z0-9_]*[A-Z0-9]")


def _python_files() -> Iterator[Path]:
    for root in SOURCES:
        yield from sorted(root.rglob("*.py"))


def _upper_string(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _VARIABLE.fullmatch(node.value)
    ):
        return node.value
    return None


def variables_read_by_the_code() -> dict[str, set[str]]:
    """Environment variable names the code looks up, with the files that mention them.

    Found as ``<mapping>.get("NAME")``, ``os.getenv("NAME")`` and ``<mapping>["NAME"]`` with
    an upper-case literal, plus every ``KILN_*`` name written in a string.
    """
    found: dict[str, set[str]] = {}
    for path in _python_files():
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name: str | None = None
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"get", "getenv"}
                and node.args
            ):
                name = _upper_string(node.args[0])
            elif isinstance(node, ast.Subscript):
                name = _upper_string(node.slice)
            if name is not None:
                found.setdefault(name, set()).add(where)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in _KILN_NAME.findall(node.value):
                    found.setdefault(match, set()).add(where)
    return found


def test_environment_reference_documents_every_variable_the_code_reads() -> None:
    text = (REFERENCE / "environment.md").read_text(encoding="utf-8")
    found = variables_read_by_the_code()
    # The scan itself must work: these are read in several places.
    assert {"KILN_CACHE_DIR", "KILN_PUBLISH_TOKEN", "SOURCE_DATE_EPOCH", "NO_COLOR"} <= set(found)
    missing = {
        name: sorted(files) for name, files in sorted(found.items()) if f"`{name}" not in text
    }
    assert not missing, f"not documented in docs/src/reference/environment.md: {missing}"


def test_documented_pip_variables_choose_the_build_environment_indexes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # kiln.core.index.pipconfig builds these names from pip's option names, so the scan above
    # cannot see them; check that each documented one really is read.
    from kiln.core.index.pipconfig import pip_index_settings

    text = (REFERENCE / "environment.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(PIP_[A-Z_]+)`", text))
    assert documented == {
        "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_CONFIG_FILE",
    }
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://a.example/simple https://b.example/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "/wheels /more-wheels")
    monkeypatch.setenv("PIP_NO_INDEX", "yes")
    settings = pip_index_settings()
    assert settings.index_url == "https://mirror.example/simple"
    assert settings.extra_index_urls == ("https://a.example/simple", "https://b.example/simple")
    assert settings.find_links == ("/wheels", "/more-wheels")
    assert settings.no_index is True


def test_configuration_reference_documents_every_source_kind_and_key() -> None:
    from kiln.core.sources import parse

    text = (REFERENCE / "configuration.md").read_text(encoding="utf-8")
    section = text[text.index("## Dependency sources: `[tool.kiln.sources]`") :]
    section = section[: section.index("\n## ", 1)]
    for kind in parse.KINDS:
        assert f"| `{kind}` |" in section, f"no row for the source kind `{kind}`"
        for key in parse._KIND_KEYS[kind]:
            assert f"`{key}`" in section, f"`{key}` of `{kind}` sources is not documented"
    for key in parse._COMMON_KEYS:
        assert f"`{key}`" in section, f"the common source key `{key}` is not documented"


def test_configuration_reference_documents_the_other_tool_kiln_keys() -> None:
    from kiln.core.builder.constraints import KEY

    text = (REFERENCE / "configuration.md").read_text(encoding="utf-8")
    for heading in (
        "## Workspaces: `[tool.kiln.workspace]`",
        "### `members`",
        "### `exclude`",
        f"### `{KEY}`",
        "### `package`",
        "## The `[tool.uv.*]` fallback",
    ):
        assert heading in text, f"no `{heading}` section"


def test_environment_reference_is_in_the_site_navigation() -> None:
    nav = (ROOT / "docs" / "mkdocs.yml").read_text(encoding="utf-8")
    assert "reference/environment.md" in nav
