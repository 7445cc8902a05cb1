"""Index configuration: priority order, env fallbacks, pins, explicit indexes, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from kiln.core.index.config import PYPI_URL
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.core.index.redaction import redact
from kiln.errors import KilnError
from kiln.project.indexes import index_config


def _project(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "demo"\nversion = "1"\n' + body, encoding="utf-8")
    return path


def _urls(options: IndexOptions, tmp_path: Path, body: str = "", **env: str) -> list[str]:
    project = index_config(_project(tmp_path, body))
    locations = resolve_locations(options, project, environ=env, cwd=tmp_path)
    return [i.url for i in locations.indexes]


def test_pypi_is_the_only_index_without_configuration(tmp_path: Path) -> None:
    assert _urls(IndexOptions(), tmp_path) == [PYPI_URL]


def test_cli_indexes_come_before_config_and_default_is_last(tmp_path: Path) -> None:
    body = """
[[tool.kiln.index]]
name = "first-config"
url = "https://a.example/simple"
[[tool.kiln.index]]
name = "second-config"
url = "https://b.example/simple"
"""
    options = IndexOptions(
        index=["https://cli1.example/simple", "named=https://cli2.example/simple"],
        extra_index_url=["https://extra.example/simple"],
    )
    assert _urls(options, tmp_path, body) == [
        "https://cli1.example/simple",
        "https://cli2.example/simple",
        "https://a.example/simple",
        "https://b.example/simple",
        "https://extra.example/simple",
        PYPI_URL,
    ]


def test_default_index_is_searched_last_regardless_of_position(tmp_path: Path) -> None:
    body = """
[[tool.kiln.index]]
name = "mirror"
url = "https://mirror.example/simple"
default = true
[[tool.kiln.index]]
name = "internal"
url = "https://internal.example/simple"
"""
    assert _urls(IndexOptions(), tmp_path, body) == [
        "https://internal.example/simple",
        "https://mirror.example/simple",
    ]


def test_cli_default_index_replaces_pypi_and_config_default(tmp_path: Path) -> None:
    body = '[[tool.kiln.index]]\nurl = "https://cfg.example/simple"\ndefault = true\n'
    options = IndexOptions(default_index="https://cli.example/simple")
    assert _urls(options, tmp_path, body) == ["https://cli.example/simple"]


def test_index_url_is_the_default_and_extra_index_urls_come_first(tmp_path: Path) -> None:
    options = IndexOptions(
        index_url="https://main.example/simple",
        extra_index_url=["https://x1.example/simple", "https://x2.example/simple"],
    )
    assert _urls(options, tmp_path) == [
        "https://x1.example/simple",
        "https://x2.example/simple",
        "https://main.example/simple",
    ]


def test_env_vars_are_fallbacks_for_the_options(tmp_path: Path) -> None:
    urls = _urls(
        IndexOptions(), tmp_path,
        KILN_INDEX="https://e1.example/simple  https://e2.example/simple",
        KILN_DEFAULT_INDEX="https://d.example/simple",
    )
    assert urls == ["https://e1.example/simple", "https://e2.example/simple",
                    "https://d.example/simple"]
    # A command-line value wins over the variable (not merged).
    urls = _urls(IndexOptions(index=["https://cli.example/simple"]), tmp_path,
                 KILN_INDEX="https://env.example/simple")
    assert urls == ["https://cli.example/simple", PYPI_URL]


def test_env_index_url_extra_and_find_links(tmp_path: Path) -> None:
    locations = resolve_locations(
        IndexOptions(), None, cwd=tmp_path,
        environ={
            "KILN_INDEX_URL": "https://m.example/simple",
            "KILN_EXTRA_INDEX_URL": "https://x.example/simple https://y.example/simple",
            "KILN_FIND_LINKS": "https://f.example/links,./wheels",
            "KILN_INDEX_STRATEGY": "unsafe-best-match",
        },
    )
    assert [i.url for i in locations.indexes] == [
        "https://x.example/simple", "https://y.example/simple", "https://m.example/simple"]
    assert [i.url for i in locations.find_links] == [
        "https://f.example/links", (tmp_path / "wheels").resolve().as_uri()]
    assert all(i.format == "flat" for i in locations.find_links)
    assert locations.strategy == "unsafe-best-match"


def test_no_index_keeps_only_find_links(tmp_path: Path) -> None:
    locations = resolve_locations(
        IndexOptions(no_index=True, find_links=[str(tmp_path)]), None, environ={}, cwd=tmp_path
    )
    assert locations.indexes == ()
    assert len(locations.find_links) == 1


def test_explicit_index_is_not_searched_but_reachable_by_pin(tmp_path: Path) -> None:
    body = """
[tool.kiln.sources]
torch = { index = "pytorch" }
[[tool.kiln.index]]
name = "pytorch"
url = "https://download.pytorch.org/whl/cpu"
explicit = true
"""
    project = index_config(_project(tmp_path, body))
    locations = resolve_locations(IndexOptions(), project, environ={}, cwd=tmp_path)
    assert [i.url for i in locations.indexes] == [PYPI_URL]
    pinned = locations.pinned_index(canonicalize_name("torch"))
    assert pinned is not None
    assert pinned.url == "https://download.pytorch.org/whl/cpu"
    assert locations.pinned_index(canonicalize_name("numpy")) is None


def test_default_and_explicit_removes_pypi(tmp_path: Path) -> None:
    body = """
[[tool.kiln.index]]
name = "only"
url = "https://only.example/simple"
default = true
explicit = true
"""
    assert _urls(IndexOptions(), tmp_path, body) == []


def test_pins_with_markers_and_extras(tmp_path: Path) -> None:
    body = """
[tool.kiln.sources]
torch = [
  { index = "cpu", extra = "cpu" },
  { index = "mac", marker = "sys_platform == 'darwin'" },
  { index = "linux", marker = "sys_platform != 'darwin'" },
]
[[tool.kiln.index]]
name = "cpu"
url = "https://cpu.example/simple"
explicit = true
[[tool.kiln.index]]
name = "mac"
url = "https://mac.example/simple"
explicit = true
[[tool.kiln.index]]
name = "linux"
url = "https://linux.example/simple"
explicit = true
"""
    project = index_config(_project(tmp_path, body))
    locations = resolve_locations(IndexOptions(), project, environ={}, cwd=tmp_path)
    torch = canonicalize_name("torch")

    def pin(platform: str, extras: tuple[str, ...] = ()) -> str | None:
        found = locations.pinned_index(torch, environment={"sys_platform": platform},
                                       extras=extras)
        return found.name if found else None

    assert pin("darwin") == "mac"
    assert pin("linux") == "linux"
    assert pin("linux", ("cpu",)) == "cpu"


def test_uv_tables_are_read_when_kiln_tables_are_absent(tmp_path: Path) -> None:
    body = """
[tool.uv.sources]
torch = { index = "pytorch" }
[[tool.uv.index]]
name = "pytorch"
url = "https://download.pytorch.org/whl/cpu"
"""
    project = index_config(_project(tmp_path, body))
    assert [i.name for i in project.indexes] == ["pytorch"]
    assert canonicalize_name("torch") in project.pins


def test_first_definition_of_a_name_wins(tmp_path: Path) -> None:
    body = '[[tool.kiln.index]]\nname = "corp"\nurl = "https://config.example/simple"\n'
    assert _urls(IndexOptions(index=["corp=https://cli.example/simple"]), tmp_path, body) == [
        "https://cli.example/simple", PYPI_URL]


def test_relative_path_index_is_relative_to_the_project(tmp_path: Path) -> None:
    body = '[[tool.kiln.index]]\nname = "local"\nurl = "./simple"\n'
    assert _urls(IndexOptions(), tmp_path, body)[0] == (tmp_path / "simple").as_uri()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[[tool.kiln.index]]\nname = "x"\n', "`url` is required"),
        ('[[tool.kiln.index]]\nurl = "https://e.example"\nexplicit = true\n', "needs a `name`"),
        ('[[tool.kiln.index]]\nurl = "https://e.example"\nauthenticate = "sometimes"\n',
         "`authenticate`"),
        ('[[tool.kiln.index]]\nurl = "https://e.example"\nignore-error-codes = [9999]\n',
         "`ignore-error-codes`"),
        ('[[tool.kiln.index]]\nurl = "https://e.example"\nformat = "weird"\n', "`format`"),
        ('[[tool.kiln.index]]\nurl = "https://e.example"\nname = "bad name"\n',
         "invalid index name"),
        ('[[tool.kiln.index]]\nurl = "https://e.example"\nurl-typo = 1\n', "unknown key"),
        ('[tool.kiln.sources]\nfoo = [{ index = "a" }, { index = "b" }]\n'
         '[[tool.kiln.index]]\nname = "a"\nurl = "https://a.example"\n'
         '[[tool.kiln.index]]\nname = "b"\nurl = "https://b.example"\n', "`marker`"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path: Path, body: str, needle: str) -> None:
    path = _project(tmp_path, body)
    with pytest.raises(KilnError) as info:
        index_config(path)
    assert needle in info.value.message
    assert str(path) in info.value.message


def test_pin_to_undefined_index_is_an_error(tmp_path: Path) -> None:
    path = _project(tmp_path, '[tool.kiln.sources]\ntorch = { index = "missing" }\n')
    with pytest.raises(KilnError, match="`missing`, which is not defined"):
        resolve_locations(IndexOptions(), index_config(path), environ={}, cwd=tmp_path)


def test_redact_hides_passwords_and_lone_tokens() -> None:
    assert redact("https://user:s3cret@host.example/simple") == (
        "https://user:****@host.example/simple")
    assert redact("https://tok3n@host.example/simple") == "https://****@host.example/simple"
    assert redact("https://host.example/simple") == "https://host.example/simple"
