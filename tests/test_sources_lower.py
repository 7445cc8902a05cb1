"""Lowering requirements with `[tool.kiln.sources]`: index pins, direct references, workspaces."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from kiln.core.sources.lower import lower, lower_all, lower_universal
from kiln.core.sources.model import GitSource, ProjectSources, merge_workspace_sources
from kiln.core.sources.parse import load_sources
from kiln.errors import KilnError

LINUX = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
WINDOWS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}


def sources_of(directory: Path, body: str) -> ProjectSources:
    directory.mkdir(parents=True, exist_ok=True)
    pyproject = directory / "pyproject.toml"
    pyproject.write_text('[project]\nname = "demo"\nversion = "1"\n' + textwrap.dedent(body))
    return load_sources(pyproject)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "libs" / "local").mkdir(parents=True)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "wheely-1.0-py3-none-any.whl").write_bytes(b"")
    return tmp_path


@pytest.fixture
def sources(project: Path) -> ProjectSources:
    return sources_of(
        project,
        """
        [tool.kiln.sources]
        local = { path = "libs/local", editable = true }
        wheely = { path = "dist/wheely-1.0-py3-none-any.whl" }
        repo = { git = "https://example.com/org/repo.git", tag = "v1.2", subdirectory = "sub" }
        archive = { url = "https://example.com/archive-1.0.tar.gz" }
        torch = [
            { index = "cu", marker = "sys_platform == 'linux'" },
            { index = "cpu", marker = "sys_platform != 'linux'" },
        ]
        jax = [
            { index = "jax-cpu", extra = "cpu" },
            { index = "jax-gpu", extra = "gpu" },
        ]
        pytest = { index = "dev-index", group = "dev" }
        member = { workspace = true }
        """,
    )


def test_an_index_source_pins_the_requirement_and_keeps_extras_and_marker(
    project: Path, sources: ProjectSources
):
    requirement = Requirement("Torch[cuda]>=2; python_version >= '3.10'")
    lowered = lower(requirement, sources, project_root=project, environment=LINUX)
    assert lowered.index == "cu"
    assert lowered.source is None
    assert lowered.extras == frozenset({"cuda"})
    assert lowered.specifier == SpecifierSet(">=2")
    assert lowered.marker == Marker("(python_version >= '3.10') and (sys_platform == 'linux')")
    assert str(lowered.to_requirement()) == (
        'torch[cuda]>=2; python_version >= "3.10" and sys_platform == "linux"'
    )


def test_the_marker_list_picks_the_entry_for_the_target_environment(
    project: Path, sources: ProjectSources
):
    requirement = Requirement("torch")
    assert lower(requirement, sources, project_root=project, environment=WINDOWS).index == "cpu"
    assert lower(requirement, sources, project_root=project, environment=LINUX).index == "cu"


def test_universal_lowering_gives_one_requirement_per_entry_and_the_rest_plain(
    project: Path, tmp_path: Path
):
    sources = sources_of(
        tmp_path / "other",
        """
        [tool.kiln.sources]
        torch = [
            { index = "cu", marker = "sys_platform == 'linux'" },
            { index = "mac", marker = "sys_platform == 'darwin'" },
        ]
        """,
    )
    lowered = lower_universal(Requirement("torch>=2"), sources, project_root=project)
    assert [(item.index, str(item.marker)) for item in lowered] == [
        ("cu", 'sys_platform == "linux"'),
        ("mac", 'sys_platform == "darwin"'),
        (None, 'sys_platform != "darwin" and sys_platform != "linux"'),
    ]
    fallback = lowered[2].marker
    assert fallback is not None
    assert fallback.evaluate({**LINUX}) is False
    assert fallback.evaluate({**WINDOWS}) is True


@pytest.mark.parametrize(
    ("markers", "extra", "rest"),
    [
        # the entries cover every environment: nothing is left for the plain requirement
        (["sys_platform == 'linux'", "sys_platform != 'linux'"], None, None),
        (["python_version < '3.10'", "python_version >= '3.10'"], None, None),
        # the opposite of `===` has no PEP 508 text: the plain requirement is left out
        (["platform_release === '6.1'"], None, None),
        # `extra` in a source marker is the extra the requirement is declared in
        (["extra == 'cpu' and sys_platform == 'linux'"], "cpu", 'sys_platform != "linux"'),
        (["extra == 'cpu' and sys_platform == 'linux'"], None, ""),
        (["python_version >= '3.12' and platform_machine == 'x86_64'"], None,
         'platform_machine != "x86_64" or python_full_version < "3.12"'),
    ],
)
def test_universal_lowering_keeps_the_plain_requirement_for_what_no_entry_covers(
    project: Path, tmp_path: Path, markers: list[str], extra: str | None, rest: str | None
):
    entries = ", ".join(
        f'{{ index = "i{number}", marker = "{marker}" }}' for number, marker in enumerate(markers)
    )
    sources = sources_of(tmp_path / "other", f"[tool.kiln.sources]\ntorch = [{entries}]\n")
    lowered = lower_universal(
        Requirement("torch; os_name == 'posix'"), sources, project_root=project, extra=extra
    )
    assert [item.index for item in lowered[: len(markers)]] == [
        f"i{number}" for number in range(len(markers))
    ]
    plain = lowered[len(markers):]
    if rest is None:
        assert plain == ()
    else:
        expected = Marker("os_name == 'posix'" + (f" and ({rest})" if rest else ""))
        assert [(item.index, str(item.marker)) for item in plain] == [(None, str(expected))]


def test_no_matching_marker_leaves_the_requirement_plain(project: Path, tmp_path: Path):
    sources = sources_of(
        tmp_path / "other",
        '[tool.kiln.sources]\ntorch = [{ index = "cu", marker = "sys_platform == \'linux\'" }]\n',
    )
    lowered = lower(Requirement("torch"), sources, project_root=project, environment=WINDOWS)
    assert (lowered.index, lowered.source, lowered.entry) == (None, None, None)


def test_extra_scoped_sources_apply_only_to_requirements_of_that_extra(
    project: Path, sources: ProjectSources
):
    requirement = Requirement("jax")
    assert lower(requirement, sources, project_root=project, extra="cpu").index == "jax-cpu"
    assert lower(requirement, sources, project_root=project, extra="GPU").index == "jax-gpu"
    assert lower(requirement, sources, project_root=project).index is None


def test_group_scoped_sources_apply_only_to_requirements_of_that_group(
    project: Path, sources: ProjectSources
):
    requirement = Requirement("pytest")
    assert lower(requirement, sources, project_root=project, group="dev").index == "dev-index"
    assert lower(requirement, sources, project_root=project, group="lint").index is None


def test_a_path_source_becomes_a_file_url_direct_reference(project: Path, sources: ProjectSources):
    lowered = lower(Requirement("local[cli]; os_name == 'posix'"), sources, project_root=project)
    assert lowered.editable is True
    expected = (project / "libs" / "local").resolve().as_uri()
    assert str(lowered.to_requirement()) == f'local[cli] @ {expected} ; os_name == "posix"'


def test_a_path_source_to_a_wheel_is_not_editable(project: Path, sources: ProjectSources):
    lowered = lower(Requirement("wheely"), sources, project_root=project)
    assert lowered.editable is False
    assert lowered.to_requirement().url == (
        (project / "dist" / "wheely-1.0-py3-none-any.whl").resolve().as_uri()
    )


def test_a_git_source_becomes_a_git_url_with_ref_and_subdirectory(
    project: Path, sources: ProjectSources
):
    lowered = lower(Requirement("repo>=1"), sources, project_root=project)
    assert lowered.source == GitSource(
        url="https://example.com/org/repo.git", tag="v1.2", subdirectory="sub"
    )
    assert lowered.specifier == SpecifierSet(">=1")
    assert lowered.to_requirement().url == (
        "git+https://example.com/org/repo.git@v1.2#subdirectory=sub"
    )


def test_a_url_source_becomes_a_direct_url_reference(project: Path, sources: ProjectSources):
    lowered = lower(Requirement("archive"), sources, project_root=project)
    assert lowered.to_requirement().url == "https://example.com/archive-1.0.tar.gz"


def test_a_workspace_source_lowers_to_the_member_path_editable(
    project: Path, sources: ProjectSources
):
    members = {"Member": project / "packages" / "member"}
    lowered = lower(
        Requirement("member"), sources, project_root=project, workspace_members=members
    )
    assert lowered.workspace is True
    assert lowered.editable is True
    assert lowered.to_requirement().url == (project / "packages" / "member").as_uri()


def test_a_workspace_source_for_a_non_member_is_an_error(project: Path, sources: ProjectSources):
    with pytest.raises(KilnError) as caught:
        lower(Requirement("member"), sources, project_root=project, workspace_members={})
    assert caught.value.message == (
        f"{project / 'pyproject.toml'}: `tool.kiln.sources.member`: `member` is not a "
        "workspace member"
    )


def test_a_member_required_without_a_workspace_source_is_an_error(
    project: Path, sources: ProjectSources
):
    members = {"local": project / "libs" / "local"}
    with pytest.raises(KilnError) as caught:
        lower(Requirement("local"), sources, project_root=project, workspace_members=members)
    assert caught.value.message == (
        f"`local` is a workspace member, but `{project / 'pyproject.toml'}` has no workspace "
        "source for it"
    )
    assert caught.value.hint == "add `local = { workspace = true }` to `[tool.kiln.sources]`"


def test_no_sources_takes_every_requirement_verbatim(project: Path, sources: ProjectSources):
    requirement = Requirement("local>=1; os_name == 'posix'")
    lowered = lower(requirement, sources, project_root=project, no_sources=True)
    assert (lowered.source, lowered.index) == (None, None)
    assert lowered.to_requirement() == requirement


def test_no_sources_package_takes_only_that_package_verbatim(
    project: Path, sources: ProjectSources
):
    lowered = lower_all(
        [Requirement("local"), Requirement("archive")],
        sources,
        project_root=project,
        no_sources_packages={"Local"},
    )
    assert [item.is_direct for item in lowered] == [False, True]


def test_a_requirement_with_its_own_url_is_not_lowered(project: Path, sources: ProjectSources):
    requirement = Requirement("archive @ https://example.com/other-2.0.tar.gz")
    lowered = lower(requirement, sources, project_root=project)
    assert lowered.source is None
    assert lowered.original == requirement


def test_root_sources_apply_to_members_unless_overridden(tmp_path: Path):
    (tmp_path / "vendored").mkdir()
    root = sources_of(
        tmp_path,
        """
        [tool.kiln.sources]
        vendored = { path = "vendored" }
        torch = { index = "root-torch" }
        """,
    )
    member_dir = tmp_path / "packages" / "app"
    member = sources_of(member_dir, '[tool.kiln.sources]\ntorch = { index = "app-torch" }\n')
    merged = merge_workspace_sources(member, root)
    vendored = lower(Requirement("vendored"), merged, project_root=member_dir)
    assert vendored.to_requirement().url == (tmp_path / "vendored").resolve().as_uri()
    assert lower(Requirement("torch"), merged, project_root=member_dir).index == "app-torch"


def test_a_member_project_gets_root_sources_indexes_and_members(tmp_path: Path):
    from kiln.project.sources import load_project_sources

    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "root"
            version = "1"
            [tool.kiln.workspace]
            members = ["packages/*"]
            [tool.kiln.sources]
            lib = { workspace = true }
            torch = { index = "pytorch" }
            [[tool.kiln.index]]
            name = "pytorch"
            url = "https://download.pytorch.org/whl/cpu"
            """
        )
    )
    for name in ("app", "lib"):
        member = tmp_path / "packages" / name
        member.mkdir(parents=True)
        (member / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "1"\n')
    context = load_project_sources(tmp_path / "packages" / "app")
    lowered = lower(
        Requirement("lib"),
        context.sources,
        project_root=context.project_root,
        workspace_members=context.workspace_members,
    )
    assert lowered.workspace is True
    assert lowered.to_requirement().url == (tmp_path / "packages" / "lib").resolve().as_uri()
    torch = lower(Requirement("torch"), context.sources, project_root=context.project_root)
    assert torch.index == "pytorch"
