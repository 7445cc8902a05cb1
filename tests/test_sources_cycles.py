"""Cycles among projects that need each other to build through path sources."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from kiln.core.sources.cycles import check_no_cycle, find_cycle
from kiln.core.sources.lower import lower_all
from kiln.core.sources.model import PathSource
from kiln.core.sources.parse import load_sources
from kiln.errors import KilnError


def test_a_graph_without_cycles_has_none():
    graph = {"a": ["b", "c"], "b": ["c"], "c": []}
    assert find_cycle("a", lambda node: graph[node]) is None


def test_a_cycle_is_reported_as_the_chain_that_closes_it():
    graph = {"app": ["lib"], "lib": ["tools"], "tools": ["lib"]}
    assert find_cycle("app", lambda node: graph[node]) == ["lib", "tools", "lib"]


def test_a_project_needing_itself_is_a_cycle():
    assert find_cycle("a", lambda node: ["a"]) == ["a", "a"]


def test_each_project_is_asked_once():
    asked: list[str] = []
    graph = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}

    def needs(node: str) -> list[str]:
        asked.append(node)
        return graph[node]

    assert find_cycle("a", needs) is None
    assert sorted(asked) == ["a", "b", "c", "d"]


def project(directory: Path, name: str, requires: list[str], sources: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{name}"
            version = "1"
            [build-system]
            requires = {requires!r}
            build-backend = "backend"
            [tool.kiln.sources]
            """
        )
        + sources
    )
    return directory.resolve()


def build_path_needs(directory: Path) -> list[Path]:
    """The directories a project's build requirements come from (through path sources)."""
    import tomllib

    data = tomllib.loads((directory / "pyproject.toml").read_text())
    sources = load_sources(directory / "pyproject.toml")
    lowered = lower_all(
        [Requirement(r) for r in data["build-system"]["requires"]],
        sources,
        project_root=directory,
    )
    return [item.source.path for item in lowered if isinstance(item.source, PathSource)]


def test_build_requirements_that_need_each_other_are_reported_by_name(tmp_path: Path):
    app = project(tmp_path / "app", "app", ["backend"], 'backend = { path = "../backend" }\n')
    project(tmp_path / "backend", "backend", ["helper"], 'helper = { path = "../helper" }\n')
    project(tmp_path / "helper", "helper", ["backend"], 'backend = { path = "../backend" }\n')
    with pytest.raises(KilnError) as caught:
        check_no_cycle(app, build_path_needs, describe=lambda path: path.name)
    assert caught.value.message == "build dependency cycle: backend -> helper -> backend"


def test_a_chain_without_cycle_passes(tmp_path: Path):
    app = project(tmp_path / "app", "app", ["backend"], 'backend = { path = "../backend" }\n')
    project(tmp_path / "backend", "backend", ["setuptools"], "")
    check_no_cycle(app, build_path_needs)
