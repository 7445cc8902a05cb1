"""Index priority, pinning, explicit indexes, the three strategies, dependency confusion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.core.index.source import IndexPackageSource
from kiln.project.indexes import index_config

SHARED = canonicalize_name("shared")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheels")
    for sub, name, version in [
        ("internal", "shared", "1.0"),
        ("internal", "internal-only", "1.0"),
        ("public", "shared", "1.0"),
        ("public", "shared", "99.0"),
        ("public", "public-only", "2.0"),
    ]:
        build_wheel(root / sub, name, version)
    return root


@pytest.fixture
def servers(wheels: Path) -> Iterator[tuple[IndexServer, IndexServer]]:
    internal, public = IndexServer(), IndexServer()
    for path in (wheels / "internal").iterdir():
        internal.add(path)
    for path in (wheels / "public").iterdir():
        public.add(path)
    with internal, public:
        yield internal, public


def _source(
    tmp_path: Path, internal: IndexServer, public: IndexServer, body: str = "",
    strategy: str | None = None, **cli: object,
) -> IndexPackageSource:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        f"""[project]
name = "app"
version = "1"
{body}
[[tool.kiln.index]]
name = "public"
url = "{public.url}"
default = true
""",
        encoding="utf-8",
    )
    options = IndexOptions(strategy=strategy, **cli)  # type: ignore[arg-type]
    locations = resolve_locations(
        options, index_config(pyproject), environ={}, cwd=tmp_path)
    return IndexPackageSource(
        locations, ClientOptions(cache_dir=tmp_path / "cache", retries=0), environ={})


def _internal_index(internal: IndexServer, extra: str = "") -> str:
    return f'[[tool.kiln.index]]\nname = "internal"\nurl = "{internal.url}"\n{extra}'


def _versions(source: IndexPackageSource, name: str = "shared") -> list[str]:
    return sorted({str(f.version) for f in source.files(canonicalize_name(name))})


def test_first_index_takes_versions_only_from_the_internal_index(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer]
) -> None:
    """Dependency confusion: `shared` 99.0 on the public index is never seen."""
    internal, public = servers
    with _source(tmp_path, internal, public, _internal_index(internal)) as source:
        assert _versions(source) == ["1.0"]
        assert {f.index for f in source.files(SHARED)} == {"internal"}
        assert _versions(source, "public-only") == ["2.0"]
    assert not public.requests("/simple/shared/")


def test_cli_index_comes_before_configured_indexes(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer]
) -> None:
    internal, public = servers
    with _source(tmp_path, internal, public, index=[f"pub={public.url}"],
                 default_index=internal.url) as source:
        assert _versions(source) == ["1.0", "99.0"]


def test_unsafe_best_match_merges_every_index(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer]
) -> None:
    internal, public = servers
    with _source(tmp_path, internal, public, _internal_index(internal),
                 strategy="unsafe-best-match") as source:
        files = source.files(SHARED)
        order = source.version_order(SHARED)
    assert [f.index for f in files] == ["internal", "public", "public"]
    assert order == [Version("99.0"), Version("1.0")]


def test_unsafe_first_match_prefers_index_order(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer]
) -> None:
    internal, public = servers
    with _source(tmp_path, internal, public, _internal_index(internal),
                 strategy="unsafe-first-match") as source:
        assert _versions(source) == ["1.0", "99.0"]
        assert source.version_order(SHARED) == [Version("1.0"), Version("99.0")]


def test_pinned_package_comes_only_from_its_index(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer]
) -> None:
    internal, public = servers
    body = '[tool.kiln.sources]\nshared = { index = "public" }\n' + _internal_index(internal)
    with _source(tmp_path, internal, public, body) as source:
        assert _versions(source) == ["1.0", "99.0"]
        assert {f.index for f in source.files(SHARED)} == {"public"}
    assert not internal.requests("/simple/shared/")


def test_explicit_index_serves_only_pinned_packages(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer]
) -> None:
    internal, public = servers
    body = (
        '[tool.kiln.sources]\ninternal-only = { index = "internal" }\n'
        + _internal_index(internal, "explicit = true\n")
    )
    with _source(tmp_path, internal, public, body) as source:
        assert _versions(source, "internal-only") == ["1.0"]
        # `shared` is not pinned: the explicit index is skipped, the public one is used.
        assert _versions(source) == ["1.0", "99.0"]
    assert not internal.requests("/simple/shared/")


@pytest.mark.parametrize("code", [401, 403])
def test_auth_failure_stops_the_first_index_search(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer], code: int
) -> None:
    internal, public = servers
    internal.status_override["/simple/shared/"] = code
    with _source(tmp_path, internal, public, _internal_index(internal)) as source:
        assert source.files(SHARED) == []
    assert not public.requests("/simple/shared/")


def test_ignore_error_codes_continue_the_search(
    tmp_path: Path, servers: tuple[IndexServer, IndexServer]
) -> None:
    internal, public = servers
    internal.status_override["/simple/shared/"] = 403
    body = _internal_index(internal, "ignore-error-codes = [403]\n")
    with _source(tmp_path, internal, public, body) as source:
        assert _versions(source) == ["1.0", "99.0"]
