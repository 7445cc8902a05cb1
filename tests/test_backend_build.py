"""kiln_build hooks called in-process on the testprojects: archive layout and contents."""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from backend_helpers import (
    TESTPROJECTS,
    CoreMetadata,
    Member,
    assert_same_metadata,
    copy_project,
    dist_info_file,
    extract_sdist,
    kiln_build,
    kiln_hook,
    member,
    names,
    parse_metadata,
    people,
    read_record,
    record_digest,
    run_kiln_subprocess,
    sdist_members,
    unfolded_license,
    wheel_members,
)
from backend_helpers import built as _built

GOLDEN = "built-by-kiln"
G = "built_by_kiln-0.1.0"

# ------------------------------------------------------------------ golden project


def test_golden_sdist_has_exact_members_modes_and_order() -> None:
    members = _built(GOLDEN).sdist_members()
    assert [(m.name, m.mode) for m in members] == [
        (f"{G}/PKG-INFO", 0o644),
        (f"{G}/pyproject.toml", 0o644),
        (f"{G}/", 0o755),
        (f"{G}/LICENSE-APACHE", 0o644),
        (f"{G}/LICENSE-MIT", 0o644),
        (f"{G}/README.md", 0o644),
        (f"{G}/assets/", 0o755),
        (f"{G}/assets/data.csv", 0o644),
        (f"{G}/header/", 0o755),
        (f"{G}/header/built_by_kiln.h", 0o644),
        (f"{G}/scripts/", 0o755),
        (f"{G}/scripts/whoami.sh", 0o755),
        (f"{G}/src/", 0o755),
        (f"{G}/src/built_by_kiln/", 0o755),
        (f"{G}/src/built_by_kiln/__init__.py", 0o644),
        (f"{G}/src/built_by_kiln/arithmetic/", 0o755),
        (f"{G}/src/built_by_kiln/arithmetic/__init__.py", 0o644),
        (f"{G}/src/built_by_kiln/arithmetic/circle.py", 0o644),
        (f"{G}/src/built_by_kiln/arithmetic/pi.txt", 0o644),
        (f"{G}/src/built_by_kiln/build-only.h", 0o644),
        (f"{G}/src/built_by_kiln/cli.py", 0o644),
        (f"{G}/third-party-licenses/", 0o755),
        (f"{G}/third-party-licenses/PEP-401.txt", 0o644),
    ]


def test_golden_wheel_has_exact_members_modes_and_order() -> None:
    members = _built(GOLDEN).wheel_members()
    assert [(m.name, m.mode) for m in members] == [
        ("built_by_kiln/", 0o755),
        ("built_by_kiln/__init__.py", 0o644),
        ("built_by_kiln/arithmetic/", 0o755),
        ("built_by_kiln/arithmetic/__init__.py", 0o644),
        ("built_by_kiln/arithmetic/circle.py", 0o644),
        ("built_by_kiln/arithmetic/pi.txt", 0o644),
        ("built_by_kiln/cli.py", 0o644),
        (f"{G}.dist-info/licenses/", 0o755),
        (f"{G}.dist-info/licenses/LICENSE-APACHE", 0o644),
        (f"{G}.dist-info/licenses/LICENSE-MIT", 0o644),
        (f"{G}.dist-info/licenses/third-party-licenses/", 0o755),
        (f"{G}.dist-info/licenses/third-party-licenses/PEP-401.txt", 0o644),
        (f"{G}.data/headers/", 0o755),
        (f"{G}.data/headers/built_by_kiln.h", 0o644),
        (f"{G}.data/scripts/", 0o755),
        (f"{G}.data/scripts/whoami.sh", 0o755),
        (f"{G}.data/data/", 0o755),
        (f"{G}.data/data/data.csv", 0o644),
        (f"{G}.dist-info/", 0o755),
        (f"{G}.dist-info/WHEEL", 0o644),
        (f"{G}.dist-info/entry_points.txt", 0o644),
        (f"{G}.dist-info/METADATA", 0o644),
        (f"{G}.dist-info/RECORD", 0o644),
    ]


GOLDEN_METADATA = """\
Metadata-Version: 2.4
Name: built-by-kiln
Version: 0.1.0
Summary: A package that uses every feature of the build backend
License-File: LICENSE-APACHE
License-File: LICENSE-MIT
License-File: third-party-licenses/PEP-401.txt
Requires-Python: >=3.9
Requires-Dist: anyio<5,>=4
Description-Content-Type: text/markdown

# built_by_kiln

A package that uses every feature of the build backend.
"""


def test_golden_metadata_and_pkg_info_have_the_expected_fields() -> None:
    b = _built(GOLDEN)
    metadata = dist_info_file(b.wheel_members(), "METADATA")
    assert_same_metadata(parse_metadata(metadata.decode()), parse_metadata(GOLDEN_METADATA))
    assert member(b.sdist_members(), f"{G}/PKG-INFO").data == metadata


def test_golden_entry_points_txt_is_exact() -> None:
    data = dist_info_file(_built(GOLDEN).wheel_members(), "entry_points.txt")
    assert data == b"[console_scripts]\nsay-hi = built_by_kiln.cli:hello\n\n"


def test_golden_wheel_file_declares_pure_py3_wheel() -> None:
    b = _built(GOLDEN)
    assert b.wheel.name == "built_by_kiln-0.1.0-py3-none-any.whl"
    lines = dist_info_file(b.wheel_members(), "WHEEL").decode().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Wheel-Version",
        "Generator",
        "Root-Is-Purelib",
        "Tag",
    ]
    assert lines[0] == "Wheel-Version: 1.0"
    assert lines[2:] == ["Root-Is-Purelib: true", "Tag: py3-none-any"]


def test_golden_archives_have_fixed_owner_and_timestamps() -> None:
    b = _built(GOLDEN)
    with tarfile.open(b.sdist) as tar:
        infos = tar.getmembers()
    assert {(i.uid, i.gid, i.uname, i.gname) for i in infos} == {(0, 0, "", "")}
    assert len({i.mtime for i in infos}) == 1
    assert {i.type for i in infos} <= {tarfile.REGTYPE, tarfile.DIRTYPE}
    assert b.sdist.read_bytes()[:2] == b"\x1f\x8b"
    with zipfile.ZipFile(b.wheel) as zf:
        assert len({i.date_time for i in zf.infolist()}) == 1
        assert all(i.date_time[0] >= 1980 for i in zf.infolist())


# ------------------------------------------------------------------ every project

BUILDABLE = sorted(p.name for p in TESTPROJECTS.iterdir() if p.is_dir() and p.name != "errors")


@pytest.mark.parametrize("name", BUILDABLE)
def test_record_lists_every_file_with_its_hash_and_size(name: str) -> None:
    members = _built(name).wheel_members()
    rows = read_record(members)
    files = [m for m in members if not m.is_dir]
    assert [row[0] for row in rows] == [m.name for m in files]
    *hashed, last = rows
    assert last[0].endswith(".dist-info/RECORD") and last[1:] == ["", ""]
    for row, m in zip(hashed, files):
        assert row == [m.name, record_digest(m.data), str(len(m.data))]


@pytest.mark.parametrize("name", BUILDABLE)
def test_sdist_pkg_info_equals_wheel_metadata(name: str) -> None:
    b = _built(name)
    (pkg_info,) = [
        m for m in b.sdist_members() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
    ]
    assert pkg_info.data == dist_info_file(b.wheel_members(), "METADATA")


@pytest.mark.parametrize("name", BUILDABLE)
def test_sdist_starts_with_pkg_info_and_pyproject_then_the_top_directory(name: str) -> None:
    members = _built(name).sdist_members()
    top = members[0].name.split("/")[0]
    assert [m.name for m in members[:3]] == [f"{top}/PKG-INFO", f"{top}/pyproject.toml", f"{top}/"]
    assert members[2].is_dir
    assert all(m.name.startswith(f"{top}/") for m in members)


@pytest.mark.parametrize("name", BUILDABLE)
def test_sdist_copies_pyproject_byte_for_byte_without_an_orig_file(name: str) -> None:
    b = _built(name)
    members = b.sdist_members()
    top = members[0].name.split("/")[0]
    original = (b.project / "pyproject.toml").read_bytes()
    assert member(members, f"{top}/pyproject.toml").data == original
    assert [m.name for m in members if m.name.endswith("pyproject.toml.orig")] == []


@pytest.mark.parametrize("name", sorted(set(BUILDABLE) - {"gitignore"}))
def test_wheel_from_unpacked_sdist_is_identical_to_wheel_from_tree(
    name: str, tmp_path: Path
) -> None:
    b = _built(name)
    unpacked = extract_sdist(b.sdist, tmp_path / "unpacked")
    wheel = kiln_build(unpacked, "wheel", tmp_path / "dist")
    assert wheel.name == b.wheel.name
    assert names(wheel_members(wheel)) == names(b.wheel_members())
    assert wheel.read_bytes() == b.wheel.read_bytes()


# ------------------------------------------------------------------ reproducibility


def _build_both(tmp_path: Path, label: str, umask: int) -> tuple[Path, Path]:
    project = copy_project(GOLDEN, tmp_path / label, umask=umask)
    old = os.umask(umask)
    try:
        sdist = kiln_build(project, "sdist", tmp_path / label / "dist")
        wheel = kiln_build(project, "wheel", tmp_path / label / "dist")
    finally:
        os.umask(old)
    return sdist, wheel


def test_builds_in_different_directories_and_umasks_are_byte_identical(tmp_path: Path) -> None:
    sdist_a, wheel_a = _build_both(tmp_path, "first", 0o022)
    sdist_b, wheel_b = _build_both(tmp_path / "deeper" / "path", "second", 0o077)
    assert sdist_a.read_bytes() == sdist_b.read_bytes()
    assert wheel_a.read_bytes() == wheel_b.read_bytes()
    # Output files follow the umask like any new file (0666 & ~umask).
    assert sdist_a.stat().st_mode & 0o777 == 0o644
    assert wheel_b.stat().st_mode & 0o777 == 0o600


def test_source_date_epoch_sets_archive_timestamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    epoch = 1_700_000_000  # 2023-11-14 22:13:20 UTC, an even second for zip
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    project = copy_project(GOLDEN, tmp_path)
    sdist = kiln_build(project, "sdist", tmp_path / "dist1")
    wheel = kiln_build(project, "wheel", tmp_path / "dist1")
    with tarfile.open(sdist) as tar:
        assert {i.mtime for i in tar.getmembers()} == {epoch}
    with zipfile.ZipFile(wheel) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    again = kiln_build(project, "wheel", tmp_path / "dist2")
    assert again.read_bytes() == wheel.read_bytes()


def test_source_date_epoch_before_1980_is_clamped_in_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    project = copy_project("src-layout", tmp_path)
    wheel = kiln_build(project, "wheel", tmp_path / "dist")
    with zipfile.ZipFile(wheel) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# ------------------------------------------------------------------ layouts


GENERATED_SDIST_FILES = ("PKG-INFO", "pyproject.toml")


def _files(members: list[Member], prefix: str = "") -> list[str]:
    """File names (no directories); for sdists without the generated files."""
    files = names(members, files_only=True, strip=prefix)
    return [f for f in files if f not in GENERATED_SDIST_FILES] if prefix else files


def test_src_layout_packages_only_the_project_module_without_caches() -> None:
    b = _built("src-layout")
    assert _files(b.wheel_members()) == [
        "src_layout/__init__.py",
        "src_layout/core.py",
        "src_layout/py.typed",
        "src_layout/sub/__init__.py",
        "src_layout/sub/resource.json",
        "src_layout-1.0.0.dist-info/WHEEL",
        "src_layout-1.0.0.dist-info/METADATA",
        "src_layout-1.0.0.dist-info/RECORD",
    ]
    assert _files(b.sdist_members(), "src_layout-1.0.0/") == [
        "src/src_layout/__init__.py",
        "src/src_layout/core.py",
        "src/src_layout/py.typed",
        "src/src_layout/sub/__init__.py",
        "src/src_layout/sub/resource.json",
    ]


def test_flat_layout_takes_the_module_from_the_project_root() -> None:
    b = _built("flat-layout")
    assert _files(b.wheel_members())[:2] == ["flat_layout/__init__.py", "flat_layout/helpers.py"]
    assert _files(b.sdist_members(), "flat_layout-1.0.0/") == [
        "flat_layout/__init__.py",
        "flat_layout/helpers.py",
    ]


def test_dotted_module_name_packages_a_namespace_portion() -> None:
    wheel = names(_built("namespace-dotted").wheel_members())
    assert wheel[:4] == [
        "acme/",
        "acme/widgets/",
        "acme/widgets/__init__.py",
        "acme/widgets/button.py",
    ]


def test_namespace_flag_packages_the_directory_without_init() -> None:
    wheel = names(_built("namespace-flag").wheel_members())
    assert wheel[:6] == [
        "acme_suite/",
        "acme_suite/part_a/",
        "acme_suite/part_a/__init__.py",
        "acme_suite/part_b/",
        "acme_suite/part_b/__init__.py",
        "acme_suite/part_b/extra.py",
    ]


def test_stubs_package_keeps_the_dash_in_the_module_directory() -> None:
    b = _built("stubs")
    assert b.wheel.name == "foo_stubs-1.0.0-py3-none-any.whl"
    assert names(b.wheel_members())[:3] == [
        "foo-stubs/",
        "foo-stubs/__init__.pyi",
        "foo-stubs/bar.pyi",
    ]


def test_module_name_list_is_sorted_and_unlisted_modules_are_left_out() -> None:
    wheel = _files(_built("multi-module").wheel_members())
    assert wheel[:4] == [
        "alpha/__init__.py",
        "beta/__init__.py",
        "beta/util.py",
        "gamma/delta/__init__.py",
    ]
    assert not any(n.startswith("unlisted/") for n in wheel)


def test_single_file_module_in_src_is_packaged_alone() -> None:
    b = _built("single-file")
    assert b.wheel.name == "solo-1.0.0-py3-none-any.whl"
    assert _files(b.wheel_members())[0] == "solo.py"
    assert names(b.wheel_members())[0] == "solo.py"  # no directory entry before it
    assert "other.py" not in _files(b.wheel_members())
    assert _files(b.sdist_members(), "solo-1.0.0/") == [
        "src/solo.py",
    ]


def test_single_file_module_in_flat_layout_with_explicit_name() -> None:
    b = _built("single-file-flat")
    assert _files(b.wheel_members())[0] == "soloflat.py"
    assert _files(b.sdist_members(), "solo_flat-1.0.0/") == ["soloflat.py"]


def test_uv_table_configures_the_backend_when_there_is_no_kiln_table() -> None:
    b = _built("uv-configured")
    assert _files(b.wheel_members())[0] == "uvconf/__init__.py"
    assert _files(b.sdist_members(), "uv_configured-1.0.0/") == [
        "extra/included.txt",
        "lib/uvconf/__init__.py",
    ]


def test_kiln_table_wins_over_uv_table_as_a_whole() -> None:
    b = _built("kiln-table-wins")
    assert _files(b.wheel_members())[0] == "from_kiln/__init__.py"
    assert not any(n.startswith("from_uv/") for n in _files(b.wheel_members()))
    assert _files(b.sdist_members(), "kiln_table_wins-1.0.0/") == ["src/from_kiln/__init__.py"]


# ------------------------------------------------------------------ include / exclude


def test_include_and_exclude_globs_select_sdist_and_wheel_files() -> None:
    b = _built("include-exclude")
    assert _files(b.sdist_members(), "include_exclude-1.0.0/") == [
        "CHANGELOG.md",
        "docs/guide.md",
        "src/include_exclude/__init__.py",
        "src/include_exclude/devonly/tool.py",
        "src/include_exclude/resources/data.txt",
        "src/include_exclude/speedups.c",
        "tests/fixtures/input.csv",
        "tests/test_a.py",
    ]
    assert _files(b.wheel_members())[:2] == [
        "include_exclude/__init__.py",
        "include_exclude/resources/data.txt",
    ]
    assert len(_files(b.wheel_members())) == 5


def test_source_include_of_a_bare_directory_includes_its_contents(tmp_path: Path) -> None:
    project = copy_project("include-exclude", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"tests/**"', '"tests"'))
    sdist = kiln_build(project, "sdist", tmp_path / "dist")
    files = _files(sdist_members(sdist), "include_exclude-1.0.0/")
    assert "tests/test_a.py" in files
    assert "tests/fixtures/input.csv" in files
    assert "tests/fixtures/leftover.tmp" not in files


def test_default_excludes_off_lets_bytecode_caches_through() -> None:
    b = _built("default-excludes-off")
    assert _files(b.wheel_members())[:3] == [
        "default_excludes_off/__init__.py",
        "default_excludes_off/__pycache__/__init__.cpython-311.pyc",
        "default_excludes_off/old.pyc",
    ]


def test_data_directories_map_to_wheel_categories_with_exec_bits() -> None:
    b = _built("data-dirs")
    wheel = {m.name: m.mode for m in b.wheel_members() if not m.is_dir}
    d = "data_dirs-1.0.0.data"
    assert [n for n in wheel if n.startswith(d)] == [
        f"{d}/purelib/pure_extra.py",
        f"{d}/platlib/plat_extra.py",
        f"{d}/headers/data_dirs.h",
        f"{d}/scripts/data-dirs-tool",
        f"{d}/scripts/plain.txt",
        f"{d}/data/data_dirs/config.ini",
        f"{d}/data/data_dirs/nested/more.txt",
    ]
    assert wheel[f"{d}/scripts/data-dirs-tool"] == 0o755
    assert wheel[f"{d}/scripts/plain.txt"] == 0o644
    sdist = {m.name: m.mode for m in b.sdist_members()}
    assert sdist["data_dirs-1.0.0/bin/data-dirs-tool"] == 0o755
    assert sdist["data_dirs-1.0.0/bin/plain.txt"] == 0o644


# ------------------------------------------------------------------ gitignore


GITIGNORE_KEPT = [
    "LICENSE",
    "README.md",
    "notes/public.md",
    "src/gitignore_demo/__init__.py",
    "src/gitignore_demo/generated/generated_keep.py",
    "src/gitignore_demo/generated/handwritten.py",
]


def _without_gitignore_files(files: list[str]) -> list[str]:
    return [f for f in files if not f.endswith(".gitignore")]


def test_sdist_leaves_out_gitignored_files_but_keeps_readme_and_license() -> None:
    b = _built("gitignore")
    files = _files(b.sdist_members(), "gitignore_demo-1.0.0/")
    assert _without_gitignore_files(files) == GITIGNORE_KEPT


def test_respect_gitignore_false_keeps_ignored_files(tmp_path: Path) -> None:
    project = copy_project("gitignore", tmp_path)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    marker = "[tool.kiln.build-backend]\n"
    pyproject.write_text(text.replace(marker, marker + "respect-gitignore = false\n"))
    files = _files(
        sdist_members(kiln_build(project, "sdist", tmp_path / "dist")), "gitignore_demo-1.0.0/"
    )
    assert sorted(set(_without_gitignore_files(files)) - set(GITIGNORE_KEPT)) == [
        "notes/private.md",
        "src/gitignore_demo/build/artifact.py",
        "src/gitignore_demo/debug.log",
        "src/gitignore_demo/generated/generated_api.py",
    ]


# ------------------------------------------------------------------ metadata


def test_dynamic_version_is_read_statically_and_written_concretely() -> None:
    b = _built("dynamic-version")
    assert b.sdist.name == "dynamic_version-2.3.4.tar.gz"
    assert b.wheel.name == "dynamic_version-2.3.4-py3-none-any.whl"
    metadata = b.metadata()
    assert metadata.get("Version") == "2.3.4"
    assert metadata.get_all("Dynamic") == []
    pkg_info = parse_metadata(
        member(b.sdist_members(), "dynamic_version-2.3.4/PKG-INFO").data.decode()
    )
    assert pkg_info.get("Version") == "2.3.4"
    assert pkg_info.get_all("Dynamic") == []


def test_dynamic_version_from_a_single_file_module_is_normalised() -> None:
    b = _built("dynamic-version-single-file")
    assert b.wheel.name == "dynsolo-0.7.0rc1-py3-none-any.whl"
    assert b.metadata().get("Version") == "0.7.0rc1"
    assert _files(b.wheel_members())[0] == "dynsolo.py"


def test_default_license_globs_apply_when_license_files_is_absent() -> None:
    b = _built("license-default-globs")
    metadata = b.metadata()
    assert metadata.get("Metadata-Version") == "2.4"
    assert metadata.get("License-Expression") == "MIT"
    assert metadata.get_all("License-File") == ["AUTHORS", "COPYING.LESSER", "LICENSE", "NOTICE.md"]
    d = "license_default_globs-1.0.0.dist-info/licenses"
    assert [n for n in _files(b.wheel_members()) if n.startswith(d)] == [
        f"{d}/AUTHORS",
        f"{d}/COPYING.LESSER",
        f"{d}/LICENSE",
        f"{d}/NOTICE.md",
    ]
    assert _files(b.sdist_members(), "license_default_globs-1.0.0/") == [
        "AUTHORS",
        "COPYING.LESSER",
        "LICENSE",
        "NOTICE.md",
        "src/license_default_globs/__init__.py",
    ]


def test_pep639_license_expression_and_files() -> None:
    metadata = _built("license-pep639").metadata()
    assert metadata.get("Metadata-Version") == "2.4"
    assert metadata.get("License-Expression") == "MIT OR Apache-2.0"
    assert metadata.get_all("License-File") == [
        "LICENSE-APACHE",
        "LICENSE-MIT",
        "licenses/vendored/six.txt",
    ]


def test_legacy_license_file_is_embedded_and_no_default_globs_apply() -> None:
    b = _built("license-legacy-file")
    metadata = parse_metadata(dist_info_file(b.wheel_members(), "METADATA").decode())
    expected = parse_metadata(
        "Metadata-Version: 2.1\n"
        "Name: license-legacy-file\n"
        "Version: 1.0.0\n"
        "Summary: Pre-PEP 639 license file table\n"
        "License: Copy carefully.\n"
        "         Sincerely, the authors\n"
    )
    assert_same_metadata(metadata, expected)
    assert unfolded_license(metadata) == "Copy carefully.\nSincerely, the authors"
    assert metadata.body.strip() == ""
    assert "license_legacy_file-1.0.0/LICENSE.txt" in names(b.sdist_members())
    assert "license_legacy_file-1.0.0/NOTICE" not in names(b.sdist_members())
    assert not any("/licenses/" in n for n in names(b.wheel_members()))


def test_legacy_license_text_gives_license_header_only() -> None:
    metadata = _built("license-legacy-text").metadata()
    assert metadata.get("Metadata-Version") == "2.1"
    assert metadata.get("License") == "Public domain"
    assert metadata.get_all("License-File") == []


def test_full_metadata_headers_and_values() -> None:
    metadata = _built("full-metadata").metadata()
    expected = CoreMetadata(
        [
            ("Metadata-Version", "2.4"),
            ("Name", "Full.Metadata_Project"),
            ("Version", "2.0.0.post1"),
            ("Summary", "A project that sets every [project] field"),
            ("Keywords", "packaging,kiln,testing"),
            ("License-Expression", "MIT OR Apache-2.0"),
            ("License-File", "LICENSE"),
            ("Classifier", "Development Status :: 4 - Beta"),
            ("Classifier", "Programming Language :: Python :: 3"),
            ("Classifier", "Typing :: Typed"),
            ("Requires-Python", ">=3.9"),
            ("Project-URL", "Homepage, https://example.com/full"),
            ("Project-URL", "Repository, https://example.com/full.git"),
            ("Project-URL", "Bug Tracker, https://example.com/full/issues"),
            ("Provides-Extra", "docs"),
            ("Provides-Extra", "empty"),
            ("Provides-Extra", "test-extra"),
            ("Description-Content-Type", "text/markdown"),
            # PEP 621: people with an email are in *-email only; names alone in Author.
            ("Author", "John Doe"),
            ("Author-email", "Jane Doe <jane@example.com>, info@example.com"),
            ("Maintainer-email", "Ferris <ferris@example.com>"),
            ("Requires-Dist", "anyio>=4,<5"),
            ("Requires-Dist", "typing-extensions>=4.0; python_version < '3.11'"),
            ("Requires-Dist", "tomli>=1.1; python_version<'3.11' and platform_system!='Windows'"),
            ("Requires-Dist", "mkdocs>=1.6; extra == 'docs'"),
            ("Requires-Dist", "pytest>=8; extra == 'test-extra'"),
            (
                "Requires-Dist",
                "coverage[toml]>=7; sys_platform == 'linux' and extra == 'test-extra'",
            ),
        ],
        "# Full metadata\n\nEvery field, with **markdown**.\n",
    )
    assert_same_metadata(metadata, expected)
    assert people(metadata, "author") == {
        ("Jane Doe", "jane@example.com"),
        ("John Doe", None),
        (None, "info@example.com"),
    }
    assert people(metadata, "maintainer") == {("Ferris", "ferris@example.com")}
    assert metadata.get_all("Maintainer") == []
    assert metadata.body == "# Full metadata\n\nEvery field, with **markdown**.\n"
    assert (
        _built("full-metadata").wheel.name == "full_metadata_project-2.0.0.post1-py3-none-any.whl"
    )


def test_full_metadata_requirements_are_normalised_with_extras_markers() -> None:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    reqs: dict[str, Requirement] = {
        canonicalize_name(r.name): r
        for r in map(Requirement, _built("full-metadata").metadata().get_all("Requires-Dist"))
    }
    assert {name: (sorted(r.extras), r.specifier) for name, r in reqs.items()} == {
        "anyio": ([], SpecifierSet(">=4,<5")),
        "typing-extensions": ([], SpecifierSet(">=4.0")),
        "tomli": ([], SpecifierSet(">=1.1")),
        "mkdocs": ([], SpecifierSet(">=1.6")),
        "pytest": ([], SpecifierSet(">=8")),
        "coverage": (["toml"], SpecifierSet(">=7")),
    }
    env = {"python_full_version": "3.12.0", "python_version": "3.12", "sys_platform": "linux"}
    pytest_marker, coverage_marker = reqs["pytest"].marker, reqs["coverage"].marker
    assert pytest_marker is not None and pytest_marker.evaluate({**env, "extra": "test-extra"})
    assert not pytest_marker.evaluate({**env, "extra": "docs"})
    assert coverage_marker is not None and coverage_marker.evaluate({**env, "extra": "test-extra"})
    assert not coverage_marker.evaluate({**env, "sys_platform": "win32", "extra": "test-extra"})
    assert reqs["anyio"].marker is None


def test_entry_points_txt_groups_and_names_are_sorted() -> None:
    data = dist_info_file(_built("entry-points").wheel_members(), "entry_points.txt").decode()
    assert data == (
        "[console_scripts]\n"
        "ep-alpha = entry_points.cli:alpha\n"
        "ep-zeta = entry_points.cli:zeta\n"
        "\n"
        "[gui_scripts]\n"
        "ep-gui = entry_points.gui:main\n"
        "\n"
        "[entry_points.hooks]\n"
        "first = entry_points.hooks:first\n"
        "second = entry_points.hooks:second\n"
        "\n"
        "[pytest11]\n"
        "ep-plugin = entry_points.plugin\n"
        "\n"
    )


# ------------------------------------------------------------------ other hooks


def test_get_requires_hooks_return_no_extra_requirements(tmp_path: Path) -> None:
    project = copy_project("src-layout", tmp_path)
    for hook in ("sdist", "wheel", "editable"):
        assert kiln_hook(project, f"get_requires_for_build_{hook}") == []


@pytest.mark.parametrize(
    ("name", "root"), [("src-layout", "src"), ("flat-layout", ""), ("uv-configured", "lib")]
)
def test_editable_wheel_holds_a_pth_with_the_module_root(
    name: str, root: str, tmp_path: Path
) -> None:
    project = copy_project(name, tmp_path)
    wheel = kiln_build(project, "editable", tmp_path / "dist")
    members = wheel_members(wheel)
    dist_name = project.name.replace("-", "_")
    pth = members[0]
    assert pth.name == f"{dist_name}.pth"
    text = pth.data.decode()
    assert not text.endswith("\n")
    assert os.path.isabs(text)
    assert Path(text).resolve() == (project / root).resolve()
    if root == "":
        assert text.endswith(os.sep)
    assert not any(m.name.endswith(".py") for m in members)
    assert [n.split("/", 1)[1] for n in names(members)[1:]] == ["", "WHEEL", "METADATA", "RECORD"]


def test_editable_wheel_carries_data_files_and_entry_points(tmp_path: Path) -> None:
    project = copy_project("data-dirs", tmp_path)
    files = names(
        wheel_members(kiln_build(project, "editable", tmp_path / "dist")), files_only=True
    )
    assert "data_dirs-1.0.0.data/scripts/data-dirs-tool" in files
    assert "data_dirs-1.0.0.data/data/data_dirs/nested/more.txt" in files
    ep_project = copy_project("entry-points", tmp_path / "ep")
    ep_wheel = kiln_build(ep_project, "editable", tmp_path / "ep-dist")
    assert dist_info_file(wheel_members(ep_wheel), "entry_points.txt").startswith(
        b"[console_scripts]\n"
    )


def test_prepare_metadata_then_build_wheel_uses_consistent_metadata(tmp_path: Path) -> None:
    project = copy_project(GOLDEN, tmp_path)
    meta_root = tmp_path / "meta"
    meta_root.mkdir()
    dist_info = kiln_hook(project, "prepare_metadata_for_build_wheel", str(meta_root))
    assert dist_info == f"{G}.dist-info"
    directory = meta_root / dist_info
    assert sorted(p.name for p in directory.iterdir()) == [
        "METADATA",
        "RECORD",
        "WHEEL",
        "entry_points.txt",
    ]
    metadata = (directory / "METADATA").read_bytes()
    assert_same_metadata(parse_metadata(metadata.decode()), parse_metadata(GOLDEN_METADATA))
    record = (directory / "RECORD").read_text().splitlines()
    assert [row.split(",")[0] for row in record] == [
        f"{dist_info}/WHEEL",
        f"{dist_info}/entry_points.txt",
        f"{dist_info}/METADATA",
        f"{dist_info}/RECORD",
    ]
    wheel = kiln_build(project, "wheel", tmp_path / "dist", metadata_directory=str(directory))
    assert dist_info_file(wheel_members(wheel), "METADATA") == metadata


def test_list_files_matches_what_the_builds_write() -> None:
    import kiln_build

    for name in (GOLDEN, "include-exclude", "gitignore", "single-file"):
        b = _built(name)
        sdist_listed, wheel_listed = kiln_build.list_files(str(b.project))
        top = b.sdist_members()[0].name.split("/")[0] + "/"
        sdist_files = set(names(b.sdist_members(), files_only=True, strip=top))
        wheel_files = set(_files(b.wheel_members()))
        listed_s = {n.removeprefix(top) for n in sdist_listed if not n.endswith("/")}
        listed_w = {n for n in wheel_listed if not n.endswith("/")}
        generated = {"PKG-INFO", "pyproject.toml"}
        assert sdist_files - generated <= listed_s <= sdist_files, name
        payload = {n for n in wheel_files if ".dist-info/" not in n or "/licenses/" in n}
        assert payload <= listed_w <= wheel_files, name


# ------------------------------------------------------------------ warnings


def _sdist_in_subprocess(project: Path) -> str:
    out = project.parent / "dist"
    proc = run_kiln_subprocess(
        project, f"import kiln_build; print(kiln_build.build_sdist({str(out)!r}))"
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def test_unbounded_backend_requirement_warns_for_sdists(tmp_path: Path) -> None:
    project = copy_project("src-layout", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"kiln-build>=0.1,<0.2"', '"kiln-build>=0.1"')
    )
    stderr = _sdist_in_subprocess(project)
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    assert warnings, stderr
    assert "kiln-build>=0.1" in warnings[0]
    assert "upper bound" in warnings[0]


def test_license_classifier_warns(tmp_path: Path) -> None:
    project = copy_project("src-layout", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'description = "Default src layout"\n',
            'description = "Default src layout"\n'
            'classifiers = ["License :: OSI Approved :: MIT License"]\n',
        )
    )
    stderr = _sdist_in_subprocess(project)
    assert any(
        line.startswith("warning: ") and "License :: OSI Approved :: MIT License" in line
        for line in stderr.splitlines()
    ), stderr


def test_bounded_requirement_builds_without_warnings(tmp_path: Path) -> None:
    assert _sdist_in_subprocess(copy_project("src-layout", tmp_path)) == ""
