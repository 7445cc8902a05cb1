"""Reading and validating `[tool.kiln.sources]` / `[tool.uv.sources]`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.markers import Marker

from kiln.core.sources.model import (
    GitSource,
    IndexSource,
    PathSource,
    UrlSource,
    WorkspaceSource,
    merge_workspace_sources,
)
from kiln.core.sources.parse import load_sources
from kiln.errors import KilnError


def write(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    pyproject = directory / "pyproject.toml"
    pyproject.write_text('[project]\nname = "demo"\nversion = "1"\n' + textwrap.dedent(body))
    return pyproject


def error_of(pyproject: Path, index_names: set[str] | None = None) -> KilnError:
    with pytest.raises(KilnError) as caught:
        load_sources(pyproject, index_names=index_names)
    return caught.value


def test_every_kind_of_source_is_read(tmp_path: Path):
    (tmp_path / "libs" / "local").mkdir(parents=True)
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        local = { path = "libs/local", editable = true }
        repo = { git = "https://example.com/repo.git", tag = "v1", subdirectory = "pkg" }
        archive = { url = "https://example.com/a-1.tar.gz" }
        torch = { index = "pytorch" }
        member = { workspace = true }
        """,
    )
    sources = load_sources(pyproject, index_names={"pytorch"})
    assert sources.get("local")[0].source == PathSource(
        raw="libs/local", path=(tmp_path / "libs" / "local").resolve(), editable=True
    )
    assert sources.get("repo")[0].source == GitSource(
        url="https://example.com/repo.git", tag="v1", subdirectory="pkg"
    )
    assert sources.get("archive")[0].source == UrlSource(url="https://example.com/a-1.tar.gz")
    assert sources.get("torch")[0].source == IndexSource(index="pytorch")
    assert sources.get("member")[0].source == WorkspaceSource()
    assert sources.get("local")[0].key == "tool.kiln.sources.local"


def test_uv_sources_are_read_when_kiln_has_none(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.uv.sources]
        Foo_Bar = { index = "internal" }
        """,
    )
    sources = load_sources(pyproject)
    assert sources.get("foo-bar")[0].source == IndexSource("internal")
    assert sources.get("foo-bar")[0].key == "tool.uv.sources.Foo_Bar"


def test_kiln_sources_win_over_uv_sources(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        foo = { index = "a" }
        [tool.uv.sources]
        foo = { index = "b" }
        """,
    )
    assert load_sources(pyproject).get("foo")[0].source == IndexSource("a")


def test_a_marker_list_with_disjoint_markers_is_accepted(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        torch = [
            { index = "cu", marker = "sys_platform == 'linux'" },
            { index = "cpu", marker = "sys_platform != 'linux'" },
            { index = "cpu-extra", extra = "cpu" },
        ]
        """,
    )
    entries = load_sources(pyproject).get("torch")
    assert [e.marker for e in entries[:2]] == [
        Marker("sys_platform == 'linux'"),
        Marker("sys_platform != 'linux'"),
    ]
    assert entries[2].extra == "cpu"
    assert entries[1].key == "tool.kiln.sources.torch[1]"


def test_python_version_ranges_that_touch_but_do_not_overlap_are_accepted(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        foo = [
            { index = "old", marker = "python_version < '3.10'" },
            { index = "new", marker = "python_full_version >= '3.10'" },
        ]
        """,
    )
    assert len(load_sources(pyproject).get("foo")) == 2


def test_overlapping_markers_are_an_error_naming_where_both_hold(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        foo = [
            { index = "a", marker = "python_version >= '3.10'" },
            { index = "b", marker = "python_version >= '3.12'" },
        ]
        """,
    )
    error = error_of(pyproject)
    assert error.message == (
        f"{pyproject}: `tool.kiln.sources.foo`: the markers of entries 0 and 1 overlap: "
        '`python_version >= "3.10"` and `python_version >= "3.12"` both hold where '
        '`python_full_version >= "3.12"`'
    )
    assert error.hint == (
        "make the markers disjoint, e.g. give entry 0 the marker "
        '`python_full_version >= "3.10" and python_full_version < "3.12"`'
    )


def test_markers_overlapping_over_three_variables_are_an_error(tmp_path: Path):
    """A region shared by sys_platform, platform_machine and python_version together (each
    variable alone would be disjoint from something in the other marker)."""
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        torch = [
            { index = "cu", marker = "sys_platform == 'linux' and platform_machine == 'x86_64' and python_version >= '3.10'" },
            { index = "cpu", marker = "sys_platform != 'win32' and platform_machine != 'aarch64' and python_version < '3.12'" },
        ]
        """,
    )
    error = error_of(pyproject)
    assert error.message == (
        f"{pyproject}: `tool.kiln.sources.torch`: the markers of entries 0 and 1 overlap: "
        '`sys_platform == "linux" and platform_machine == "x86_64" and python_version >= "3.10"`'
        ' and `sys_platform != "win32" and platform_machine != "aarch64" and '
        'python_version < "3.12"` both hold where `python_full_version >= "3.10" and '
        'python_full_version < "3.12" and platform_machine == "x86_64" and '
        'sys_platform == "linux"`'
    )
    assert error.hint is not None and error.hint.startswith("make the markers disjoint, e.g. ")


def test_an_overlap_in_a_space_too_large_to_sample_is_an_error(tmp_path: Path):
    """The markers name 15 platforms, 15 machines and 101 Python releases; the old check
    sampled their combinations and, above 20,000, accepted the list."""
    from test_markers import THREE_VARIABLES_EXCLUSIONS, THREE_VARIABLES_LINUX

    pyproject = write(
        tmp_path,
        f"""
        [tool.kiln.sources]
        torch = [
            {{ index = "cu", marker = "{THREE_VARIABLES_LINUX}" }},
            {{ index = "cpu", marker = "{THREE_VARIABLES_EXCLUSIONS}" }},
        ]
        """,
    )
    error = error_of(pyproject)
    assert error.message.startswith(
        f"{pyproject}: `tool.kiln.sources.torch`: the markers of entries 0 and 1 overlap: "
        '`sys_platform == "linux" and platform_machine == "x86_64" and python_version >= "3.9"`'
        ' and `sys_platform != "darwin" and '
    )
    assert error.message.endswith(
        ' both hold, e.g. where `python_full_version > "3.9" and python_full_version < "3.9.2"'
        ' and platform_machine == "x86_64" and sys_platform == "linux"`'
    )
    assert error.hint == "make the markers disjoint"
    fixed = THREE_VARIABLES_EXCLUSIONS + " and platform_machine != 'x86_64'"
    pyproject.write_text(pyproject.read_text().replace(THREE_VARIABLES_EXCLUSIONS, fixed))
    assert len(load_sources(pyproject).get("torch")) == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "sys_platform == 'linux' and platform_machine == 'x86_64' and python_version >= '3.10'",
            "sys_platform == 'linux' and platform_machine == 'x86_64' and python_version < '3.10'",
        ),
        (
            "sys_platform == 'linux' and platform_machine == 'x86_64'",
            "sys_platform != 'linux' or platform_machine != 'x86_64'",
        ),
        ("platform_system == 'Linux'", "sys_platform == 'win32'"),
        ("'arm' in platform_machine", "'arm' not in platform_machine"),
        ("platform_release >= '6'", "platform_release < '6'"),
        ("extra == 'cpu'", "extra != 'cpu'"),
    ],
)
def test_disjoint_markers_are_accepted(tmp_path: Path, first: str, second: str):
    pyproject = write(
        tmp_path,
        f"""
        [tool.kiln.sources]
        foo = [
            {{ index = "a", marker = "{first}" }},
            {{ index = "b", marker = "{second}" }},
        ]
        """,
    )
    assert len(load_sources(pyproject).get("foo")) == 2


def test_markers_told_apart_only_by_opaque_comparisons_count_as_overlapping(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        foo = [
            { index = "a", marker = "'arm' in platform_machine" },
            { index = "b", marker = "platform_machine == 'x86_64'" },
        ]
        """,
    )
    error = error_of(pyproject)
    assert error.message == (
        f"{pyproject}: `tool.kiln.sources.foo`: the markers of entries 0 and 1 overlap: "
        '`"arm" in platform_machine` and `platform_machine == "x86_64"` may both hold where '
        '`"arm" in platform_machine and platform_machine == "x86_64"`'
    )
    assert error.hint == (
        'make the markers disjoint; kiln relates `"arm" in platform_machine` to nothing but '
        "its own opposite, so it cannot tell that the markers never hold together (compare "
        "`sys_platform`, `platform_machine` or `python_version` instead)"
    )


def test_an_extra_in_a_marker_is_read_for_each_extra_it_names(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        foo = [
            { index = "a", marker = "extra == 'cpu'" },
            { index = "b", marker = "sys_platform == 'linux'" },
        ]
        """,
    )
    assert error_of(pyproject).message == (
        f"{pyproject}: `tool.kiln.sources.foo`: the markers of entries 0 and 1 overlap: "
        '`extra == "cpu"` and `sys_platform == "linux"` both hold where '
        '`sys_platform == "linux"` (for a requirement declared in extra `cpu`)'
    )


def test_a_list_entry_without_marker_is_an_error(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        foo = [
            { index = "a", marker = "sys_platform == 'win32'" },
            { index = "b" },
        ]
        """,
    )
    assert error_of(pyproject).message == (
        f"{pyproject}: `tool.kiln.sources.foo[1]`: every source in a list needs a `marker` "
        "(or a different `extra`/`group`)"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'foo = { path = "x", git = "https://example.com/r" }',
            "`tool.kiln.sources.foo`: a source can have only one of `path`, `git`, `url`, "
            "`index` or `workspace`; found `path` and `git`",
        ),
        (
            'foo = { git = "https://example.com/r", rev = "abc", tag = "v1" }',
            "`tool.kiln.sources.foo`: can only specify one of `rev`, `tag` or `branch`; "
            "found `rev` and `tag`",
        ),
        (
            'foo = { index = "a", revision = "1" }',
            "`tool.kiln.sources.foo`: unknown key `revision`",
        ),
        (
            'foo = { index = "a", tag = "v1" }',
            "`tool.kiln.sources.foo`: `tag` cannot be used with `index`",
        ),
        (
            'foo = { marker = "sys_platform == \'linux\'" }',
            "`tool.kiln.sources.foo`: a source needs one of `path`, `git`, `url`, `index`, "
            "`workspace`",
        ),
        (
            'foo = { path = "missing" }',
            "`tool.kiln.sources.foo`: path `missing` does not exist",
        ),
        (
            'foo = { index = "nope" }',
            "`tool.kiln.sources.foo`: index `nope` is not defined in `[[tool.kiln.index]]`",
        ),
        (
            "foo = { workspace = false }",
            "`tool.kiln.sources.foo`: `workspace` must be `true`",
        ),
        (
            'foo = { index = "a", marker = "sys_platform =" }',
            "`tool.kiln.sources.foo`: invalid `marker` `sys_platform =`: ",
        ),
        (
            'foo = { url = "https://example.com/repo.git" }',
            "`tool.kiln.sources.foo`: `url` points to a git repository: "
            "`https://example.com/repo.git`",
        ),
        (
            'foo = { git = "https://example.com/r", subdirectory = "../up" }',
            "`tool.kiln.sources.foo`: `subdirectory` must be a relative path inside the archive "
            "or repository, not `../up`",
        ),
        (
            'foo = { index = "a", extra = "x", group = "y" }',
            "`tool.kiln.sources.foo`: a source can name an `extra` or a `group`, not both",
        ),
        ("foo = []", "`tool.kiln.sources.foo`: the list of sources is empty"),
        ('foo = "a"', "`tool.kiln.sources.foo` must be a table or a list of tables"),
        (
            'foo = { index = "a" }\nFOO = { index = "a" }',
            "`tool.kiln.sources.FOO`: the package is already listed as `foo`",
        ),
        (
            'foo = { path = ".", editable = "yes" }',
            "`tool.kiln.sources.foo`: `editable` must be `true` or `false`",
        ),
    ],
)
def test_invalid_sources_name_the_file_and_the_key(tmp_path: Path, body: str, message: str):
    pyproject = write(tmp_path, "[tool.kiln.sources]\n" + body + "\n")
    error = error_of(pyproject, index_names={"a"})
    assert error.message.startswith(f"{pyproject}: {message}")


def test_credentials_in_a_rejected_url_are_not_shown(tmp_path: Path):
    pyproject = write(
        tmp_path,
        """
        [tool.kiln.sources]
        foo = { url = "ftp://user:s3cret@example.com/a.whl" }
        """,
    )
    error = error_of(pyproject)
    assert "s3cret" not in error.message
    assert "****" in error.message


def test_paths_are_relative_to_the_declaring_file(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    root = write(tmp_path, '[tool.kiln.sources]\nshared = { path = "shared" }\n')
    member = write(tmp_path / "packages" / "app", "")
    merged = merge_workspace_sources(load_sources(member), load_sources(root))
    source = merged.get("shared")[0].source
    assert isinstance(source, PathSource)
    assert source.path == (tmp_path / "shared").resolve()
    assert merged.get("shared")[0].origin == root


def test_member_sources_override_the_root_per_package(tmp_path: Path):
    root = write(
        tmp_path,
        """
        [tool.kiln.sources]
        foo = { index = "root-index" }
        bar = { index = "root-index" }
        """,
    )
    member = write(
        tmp_path / "packages" / "app",
        """
        [tool.kiln.sources]
        foo = [
            { index = "member-a", marker = "os_name == 'nt'" },
            { index = "member-b", marker = "os_name != 'nt'" },
        ]
        """,
    )
    merged = merge_workspace_sources(load_sources(member), load_sources(root))
    assert [e.source for e in merged.get("foo")] == [
        IndexSource("member-a"),
        IndexSource("member-b"),
    ]
    assert [e.source for e in merged.get("bar")] == [IndexSource("root-index")]


def test_a_missing_pyproject_has_no_sources(tmp_path: Path):
    assert len(load_sources(tmp_path / "pyproject.toml")) == 0
