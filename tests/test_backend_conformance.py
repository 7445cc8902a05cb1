"""kiln_build against uv_build (the reference) on the same testprojects.

Both backends build a copy of each project uv_build supports; the archives must hold the
same members in the same order with the same modes and contents. METADATA is compared
field by field, requirements by meaning. Where kiln deliberately goes beyond uv_build the
difference is asserted precisely.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import tomllib
from backend_helpers import (
    BEYOND_UV,
    Built,
    CoreMetadata,
    Member,
    assert_same_metadata,
    assert_same_requirement,
    built,
    copy_project,
    dist_info_file,
    kiln_build,
    lowest_metadata_version,
    names,
    parse_metadata,
    project_names,
    rewrite_for_uv_build,
    sdist_members,
    uv_build,
    wheel_members,
)

UV_BUILDABLE = [n for n in project_names() if n not in BEYOND_UV]


@functools.cache
def uv_built(name: str, tmp_root: str) -> Built:
    base = Path(tmp_root) / name
    project = copy_project(name, base / "tree")
    rewrite_for_uv_build(project)
    return Built(
        project,
        uv_build(project, "sdist", base / "dist"),
        uv_build(project, "wheel", base / "dist"),
    )


@pytest.fixture(scope="session")
def uv_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("uv-builds"))


# ------------------------------------------------------------------ semantic metadata

#: uv_build always writes Metadata-Version 2.3 or, with PEP 639 fields, 2.4; kiln_build
#: writes the lowest version that fits (2.1 floor), as pyproject-metadata chooses it.
KILN_METADATA_VERSION_FOR_UV = {"2.3": "2.1", "2.4": "2.4"}


def assert_conforming_metadata(kiln: CoreMetadata, uv: CoreMetadata) -> None:
    """Same metadata by meaning; Metadata-Version follows kiln's lowest-that-fits rule."""
    kiln_version, uv_version = kiln.get("Metadata-Version"), uv.get("Metadata-Version")
    assert uv_version is not None and kiln_version == KILN_METADATA_VERSION_FOR_UV[uv_version]
    assert kiln_version == lowest_metadata_version(kiln)

    def without_version(m: CoreMetadata) -> CoreMetadata:
        return CoreMetadata([(k, v) for k, v in m.headers if k != "Metadata-Version"], m.body)

    assert_same_metadata(without_version(kiln), without_version(uv))


def test_semantic_requirement_comparison_sees_uv_marker_rewrites_as_equal() -> None:
    assert_same_requirement(
        "tomli>=1.1; python_version<'3.11' and platform_system != 'Windows'",
        "tomli>=1.1 ; python_full_version < '3.11' and sys_platform != 'win32'",
    )
    with pytest.raises(AssertionError):
        assert_same_requirement("a; python_version < '3.11'", "a ; python_full_version < '3.12'")
    assert_same_requirement("Typing_Extensions>=4.0", "typing-extensions>=4.0")
    with pytest.raises(AssertionError):
        assert_same_requirement("a[x]>=1", "a>=1")


def test_semantic_metadata_comparison_allows_only_the_documented_differences() -> None:
    uv = parse_metadata(
        "Metadata-Version: 2.3\nName: p\nVersion: 1\nAuthor: Ann, Bob\n"
        "Author-email: Ann <ann@example.com>\nLicense: line one\n         line two\n"
        "Requires-Dist: a>=1,<2\n"
    )
    kiln = parse_metadata(
        "Metadata-Version: 2.1\nName: p\nVersion: 1\nRequires-Dist: a<2,>=1\n"
        "License: line one\n         line two\n         \nAuthor: Bob\n"
        "Author-Email: Ann <ann@example.com>\n\n"
    )
    assert_conforming_metadata(kiln, uv)
    for changed in ("Name: q", "Author: Bob, Carl", "License: line one"):
        key = changed.split(":")[0]
        other = CoreMetadata(
            [(k, v) for k, v in kiln.headers if k != key] + [(key, changed.split(": ")[1])],
            kiln.body,
        )
        with pytest.raises(AssertionError):
            assert_conforming_metadata(other, uv)


# ------------------------------------------------------------------ archive comparison


def _compare_members(kiln: list[Member], uv: list[Member], skip: set[str]) -> None:
    assert [(m.name, m.mode) for m in kiln] == [(m.name, m.mode) for m in uv]
    for a, b in zip(kiln, uv):
        if a.name.rsplit("/", 1)[-1] not in skip:
            assert a.data == b.data, a.name


@pytest.mark.parametrize("name", UV_BUILDABLE)
def test_sdist_matches_uv_build_without_the_pyproject_rewrite(name: str, uv_root: str) -> None:
    k, u = built(name), uv_built(name, uv_root)
    assert k.sdist.name == u.sdist.name
    km, um = k.sdist_members(), u.sdist_members()
    top = km[0].name.split("/")[0]
    # uv_build rewrites pyproject.toml and keeps the original as pyproject.toml.orig;
    # kiln_build copies pyproject.toml byte for byte and has no .orig: otherwise equal.
    orig = f"{top}/pyproject.toml.orig"
    assert orig not in [m.name for m in km]
    _compare_members(km, [m for m in um if m.name != orig], skip={"PKG-INFO", "pyproject.toml"})
    kiln_files = {m.name: m.data for m in km}
    uv_files = {m.name: m.data for m in um}
    assert_conforming_metadata(
        parse_metadata(kiln_files[f"{top}/PKG-INFO"].decode()),
        parse_metadata(uv_files[f"{top}/PKG-INFO"].decode()),
    )
    assert kiln_files[f"{top}/pyproject.toml"] == (k.project / "pyproject.toml").read_bytes()
    uv_original = (u.project / "pyproject.toml").read_bytes()
    assert uv_files[orig] == uv_original
    assert tomllib.loads(uv_files[f"{top}/pyproject.toml"].decode()) == tomllib.loads(
        uv_original.decode()
    )


@pytest.mark.parametrize("name", UV_BUILDABLE)
def test_wheel_matches_uv_build(name: str, uv_root: str) -> None:
    k, u = built(name), uv_built(name, uv_root)
    assert k.wheel.name == u.wheel.name
    km, um = k.wheel_members(), u.wheel_members()
    _compare_members(km, um, skip={"METADATA", "WHEEL", "RECORD"})
    assert_conforming_metadata(k.metadata(), u.metadata())
    krows = dist_info_file(km, "RECORD").decode().splitlines()
    urows = dist_info_file(um, "RECORD").decode().splitlines()
    generated = ("/METADATA,", "/WHEEL,", "/RECORD,")
    assert [r for r in krows if not any(g in r for g in generated)] == [
        r for r in urows if not any(g in r for g in generated)
    ]


@pytest.mark.parametrize("name", ["src-layout", "data-dirs", "entry-points", "flat-layout"])
def test_editable_matches_uv_build(name: str, tmp_path: Path) -> None:
    kproject = copy_project(name, tmp_path / "kiln")
    uproject = copy_project(name, tmp_path / "uv")
    rewrite_for_uv_build(uproject)
    km = wheel_members(kiln_build(kproject, "editable", tmp_path / "kdist"))
    um = wheel_members(uv_build(uproject, "editable", tmp_path / "udist"))
    assert [(m.name, m.mode) for m in km] == [(m.name, m.mode) for m in um]
    k_pth = km[0].data.decode().replace(str(kproject), "<project>")
    u_pth = um[0].data.decode().replace(str(uproject), "<project>")
    assert k_pth == u_pth
    for a, b in zip(km[1:], um[1:]):
        if a.name.rsplit("/", 1)[-1] not in {"METADATA", "WHEEL", "RECORD"}:
            assert a.data == b.data, a.name


# ------------------------------------------------------------------ deliberate differences


@pytest.mark.parametrize(
    "name", ["single-file", "single-file-flat", "dynamic-version", "dynamic-version-single-file"]
)
def test_projects_beyond_uv_build_fail_there_but_build_with_kiln(name: str, tmp_path: Path) -> None:
    project = copy_project(name, tmp_path)
    rewrite_for_uv_build(project)
    with pytest.raises(AssertionError, match="uv_build failed"):
        uv_build(project, "wheel", tmp_path / "dist")
    assert built(name).wheel.exists()


def test_default_license_globs_add_license_files_to_uv_output(uv_root: str) -> None:
    name = "license-default-globs"
    k = built(name)
    u = uv_built(name, uv_root)
    extra = ["AUTHORS", "COPYING.LESSER", "LICENSE", "NOTICE.md"]
    uv_metadata = u.metadata()
    assert uv_metadata.get_all("License-File") == []
    expected = CoreMetadata(
        uv_metadata.headers + [("License-File", f) for f in extra], uv_metadata.body
    )
    assert_conforming_metadata(k.metadata(), expected)
    assert k.metadata().get_all("License-File") == extra
    d = "license_default_globs-1.0.0.dist-info/licenses/"
    uv_wheel = names(u.wheel_members())
    insert_at = uv_wheel.index("license_default_globs/__init__.py") + 1
    assert names(k.wheel_members()) == [
        *uv_wheel[:insert_at],
        d,
        *(d + f for f in extra),
        *uv_wheel[insert_at:],
    ]
    top = "license_default_globs-1.0.0/"
    assert set(names(k.sdist_members(), files_only=True, strip=top)) - set(
        names(u.sdist_members(), files_only=True, strip=top)
    ) == set(extra)


def test_gitignored_files_are_the_only_sdist_difference(uv_root: str) -> None:
    name = "gitignore"
    top = "gitignore_demo-1.0.0/"
    kiln_files = names(built(name).sdist_members(), files_only=True, strip=top)
    uv_files = names(uv_built(name, uv_root).sdist_members(), files_only=True, strip=top)
    assert sorted(set(uv_files) - set(kiln_files)) == [
        "notes/private.md",
        "pyproject.toml.orig",
        "src/gitignore_demo/build/artifact.py",
        "src/gitignore_demo/debug.log",
        "src/gitignore_demo/generated/generated_api.py",
    ]
    assert set(kiln_files) <= set(uv_files)


def test_bare_directory_source_include_differs_from_uv_build(tmp_path: Path) -> None:
    kproject = copy_project("include-exclude", tmp_path / "kiln")
    uproject = copy_project("include-exclude", tmp_path / "uv")
    for project in (kproject, uproject):
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"tests/**"', '"tests"'))
    rewrite_for_uv_build(uproject)
    top = "include_exclude-1.0.0/"
    kfiles = names(sdist_members(kiln_build(kproject, "sdist", tmp_path / "kd")), strip=top)
    ufiles = names(sdist_members(uv_build(uproject, "sdist", tmp_path / "ud")), strip=top)
    assert sorted(set(kfiles) - set(ufiles)) == [
        "tests/",
        "tests/fixtures/",
        "tests/fixtures/input.csv",
        "tests/test_a.py",
    ]
