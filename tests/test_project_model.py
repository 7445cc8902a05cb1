"""`kiln.project`: one model of a project and its workspace, read from real files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from kiln.errors import KilnError
from kiln.project.buildsystem import FALLBACK_BACKEND, read_build_system
from kiln.project.indexes import find_configured_pyproject, index_config
from kiln.project.pyproject import load_pyproject, project_label, read_pyproject
from kiln.project.toml import load_toml
from kiln.project.workspace import (
    Membership,
    discover,
    enclosing_root,
    find_workspace,
    glob_match,
    membership,
    select_members,
)

KILN_BUILD_SYSTEM = (
    '[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n'
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def project(directory: Path, name: str, extra: str = "", *, package: bool = True) -> Path:
    """A project with a `src/` module; a `[build-system]` unless ``package`` is false."""
    module = name.replace("-", "_")
    write(directory / "src" / module / "__init__.py", "VALUE = 1\n")
    text = f'[project]\nname = "{name}"\nversion = "0.1.0"\n{extra}\n'
    write(directory / "pyproject.toml", text + (KILN_BUILD_SYSTEM if package else ""))
    return directory


def error_of(action: object) -> KilnError:
    assert callable(action)
    with pytest.raises(KilnError) as caught:
        action()
    return caught.value


# --- TOML files ----------------------------------------------------------------------------


def test_a_file_is_parsed_once_and_again_only_when_it_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "one"\n')
    first = load_toml(path)
    assert load_toml(path) is first
    assert load_pyproject(path) is load_pyproject(path)
    write(path, '[project]\nname = "two"\n')
    assert load_toml(path)["project"]["name"] == "two"
    assert load_pyproject(path).name == "two"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[project\n")
    assert str(error_of(lambda: load_toml(path))).startswith(f"`{path}` is not valid TOML")


# --- [project] and [build-system] ----------------------------------------------------------


def test_the_project_table_is_read_and_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [project]
        name = "Demo.App"
        version = "1.2"
        requires-python = ">=3.10"
        dependencies = ["httpx>=0.27", "tomli; python_version < '3.11'"]
        [project.optional-dependencies]
        CLI = ["rich"]
        """,
    )
    table = load_pyproject(path).project
    assert table is not None
    assert (table.name, table.normalized_name, str(table.version)) == ("Demo.App", "demo-app", "1.2")
    assert table.requires_python == SpecifierSet(">=3.10")
    assert [str(r) for r in table.dependencies] == [
        "httpx>=0.27",
        'tomli; python_version < "3.11"',
    ]
    assert [str(r) for r in table.optional_dependencies["cli"]] == ["rich"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('name = 3', "`project.name` must be a string"),
        ('name = "not valid!"', "`project.name`: `not valid!` is not a valid package name"),
        ('name = "a"\nversion = "1"\ndynamic = ["version"]',
         "`project.version`: the key is listed in `project.dynamic` and given a value"),
        ('name = "a"\ndependencies = ["ok", "bad ==="]',
         "`project.dependencies[1]`: invalid requirement `bad ===`"),
        ('name = "a"\nrequires-python = "3.10+"',
         "`project.requires-python`: invalid version specifier `3.10+`"),
        ('name = "a"\noptional-dependencies = { x = "rich" }',
         "`project.optional-dependencies.x` must be a list of strings"),
    ],
)
def test_a_bad_project_table_is_an_error_naming_file_and_key(
    tmp_path: Path, body: str, message: str
) -> None:
    path = write(tmp_path / "pyproject.toml", f"[project]\n{body}\n")
    assert str(error_of(lambda: load_pyproject(path).validate())).startswith(f"{path}: {message}")


def test_build_system_and_its_pep_517_fallback(tmp_path: Path) -> None:
    declared = project(tmp_path / "declared", "declared")
    build_system = read_build_system(declared)
    assert (build_system.backend, build_system.fallback) == ("kiln_build", False)
    plain = write(tmp_path / "plain" / "pyproject.toml", '[project]\nname = "plain"\n').parent
    assert read_build_system(plain).backend == FALLBACK_BACKEND
    assert read_build_system(plain).fallback
    legacy = write(tmp_path / "legacy" / "setup.py", "").parent
    assert read_build_system(legacy).fallback
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "does not appear to be a Python project" in str(error_of(lambda: read_build_system(empty)))


def test_build_system_errors_name_the_key(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[build-system]\nbuild-backend = "x"\n')
    error = error_of(lambda: read_build_system(tmp_path))
    assert str(error) == f"`{path}`: `build-system.requires` is missing"
    write(path, '[build-system]\nrequires = []\nbackend-path = ["../outside"]\n')
    error = error_of(lambda: read_build_system(tmp_path))
    assert "`build-system.backend-path` entry `../outside` must be a relative path inside" in str(error)


def test_project_label_falls_back_to_the_directory_name(tmp_path: Path) -> None:
    assert project_label(project(tmp_path / "dir", "named")) == "named"
    write(tmp_path / "broken" / "pyproject.toml", "[project\n")
    assert project_label(tmp_path / "broken") == "broken"


# --- virtual projects --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "is_package"),
    [
        ('[project]\nname = "a"\n', False),
        (f'[project]\nname = "a"\n{KILN_BUILD_SYSTEM}', True),
        (f'[project]\nname = "a"\n{KILN_BUILD_SYSTEM}[tool.kiln]\npackage = false\n', False),
        ('[project]\nname = "a"\n[tool.kiln]\npackage = true\n', True),
        ('[project]\nname = "a"\n[tool.uv]\npackage = true\n', True),
        ('[project]\nname = "a"\n[tool.uv]\npackage = true\n[tool.kiln]\npackage = false\n', False),
    ],
)
def test_a_project_is_virtual_without_build_system_unless_package_says_otherwise(
    tmp_path: Path, text: str, is_package: bool
) -> None:
    pyproject = load_pyproject(write(tmp_path / "pyproject.toml", text))
    assert (pyproject.is_package, pyproject.is_virtual) == (is_package, not is_package)


# --- dependency groups -------------------------------------------------------------------------


def test_include_group_nests_groups_in_place_each_requirement_once(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [project]
        name = "app"
        [dependency-groups]
        Dev = [{ include-group = "lint" }, "pytest>=8", { include-group = "typing" }]
        lint = ["ruff"]
        typing = ["mypy", { include-group = "lint" }]
        """,
    )
    groups = load_pyproject(path).dependency_groups
    assert [str(r) for r in groups["dev"].requirements] == ["ruff", "pytest>=8", "mypy"]
    assert groups["dev"].includes == ("lint", "typing")
    assert groups["dev"].spelled == "Dev"
    assert [str(r) for r in groups["typing"].requirements] == ["mypy", "ruff"]
    assert load_pyproject(path).default_groups == ("dev",)


def test_a_cycle_of_included_groups_is_an_error_naming_the_chain(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [dependency-groups]
        a = ["x", { include-group = "b" }]
        b = [{ include-group = "c" }]
        c = [{ include-group = "a" }]
        """,
    )
    error = error_of(lambda: load_pyproject(path).dependency_groups)
    assert str(error) == (
        f"{path}: `dependency-groups.a`: dependency group `a` includes itself: "
        "`a` -> `b` -> `c` -> `a`"
    )
    assert error.hint == "remove one of the `include-group` entries of the cycle"
    write(path, '[dependency-groups]\nself = [{ include-group = "self" }]\n')
    assert "group `self` includes itself: `self` -> `self`" in str(
        error_of(lambda: load_pyproject(path).dependency_groups)
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('dev = [{ include-group = "missing" }]',
         "`dependency-groups.dev[0]`: dependency group `dev` includes `missing`, which is not "
         "defined in `[dependency-groups]`"),
        ('dev = [{ include = "x" }]', "`dependency-groups.dev[0]`: unknown key `include`"),
        ('dev = "pytest"', "`dependency-groups.dev` must be a list of requirement strings"),
        ('dev = ["pytest"]\nDEV = ["ruff"]',
         "`dependency-groups.DEV`: the group is already defined as `dev`"),
        ('"my group" = []', "`dependency-groups.my group`: `my group` is not a valid group name"),
        ('dev = ["ok", "not a requirement ==="]',
         "`dependency-groups.dev[1]`: invalid requirement `not a requirement ===`"),
    ],
)
def test_bad_groups_are_errors_naming_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", f"[dependency-groups]\n{body}\n")
    assert str(error_of(lambda: load_pyproject(path).dependency_groups)).startswith(
        f"{path}: {message}"
    )


def test_legacy_dev_dependencies_join_group_dev(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [dependency-groups]
        dev = ["pytest"]
        [tool.uv]
        dev-dependencies = ["ruff", "pytest"]
        """,
    )
    assert [str(r) for r in load_pyproject(path).dependency_groups["dev"].requirements] == [
        "pytest",
        "ruff",
    ]
    only_legacy = write(tmp_path / "b" / "pyproject.toml", '[tool.kiln]\ndev-dependencies = ["mypy"]\n')
    groups = load_pyproject(only_legacy).dependency_groups
    assert [str(r) for r in groups["dev"].requirements] == ["mypy"]


def test_default_groups_list_all_or_dev(tmp_path: Path) -> None:
    groups = '[dependency-groups]\ndev = ["a"]\nlint = ["b"]\ndocs = ["c"]\n'
    path = write(tmp_path / "pyproject.toml", groups + '[tool.kiln]\ndefault-groups = ["lint"]\n')
    assert load_pyproject(path).default_groups == ("lint",)
    write(path, groups + '[tool.uv]\ndefault-groups = "all"\n')
    assert load_pyproject(path).default_groups == ("dev", "lint", "docs")
    write(path, groups + '[tool.kiln]\ndefault-groups = ["nope"]\n')
    assert str(error_of(lambda: load_pyproject(path).default_groups)) == (
        f"{path}: `tool.kiln.default-groups`: group `nope` is not defined in `[dependency-groups]`"
    )
    write(path, '[dependency-groups]\nlint = ["b"]\n')
    assert load_pyproject(path).default_groups == ()


def test_a_group_can_have_its_own_requires_python(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [project]
        name = "example"
        requires-python = ">=3.10"
        [dependency-groups]
        dev = ["pytest"]
        [tool.kiln.dependency-groups]
        dev = { requires-python = ">=3.12" }
        """,
    )
    assert load_pyproject(path).group("DEV").requires_python == SpecifierSet(">=3.12")
    unknown = error_of(lambda: load_pyproject(path).group("docs"))
    assert str(unknown) == f"group `docs` is not defined in `[dependency-groups]` of `{path}`"
    assert unknown.hint == "defined groups: `dev`"
    write(path, '[dependency-groups]\ndev = []\n[tool.uv.dependency-groups]\ntest = { requires-python = ">=3.12" }\n')
    assert str(error_of(lambda: load_pyproject(path).dependency_groups)) == (
        f"{path}: `tool.uv.dependency-groups.test`: group `test` is not defined in "
        "`[dependency-groups]`"
    )


# --- [tool.kiln] over [tool.uv] ------------------------------------------------------------------


def test_tool_kiln_wins_key_by_key_over_tool_uv(tmp_path: Path) -> None:
    (tmp_path / "vendored").mkdir()
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [project]
        name = "app"
        [tool.kiln]
        constraint-dependencies = ["urllib3<3"]
        [[tool.kiln.index]]
        name = "kiln-index"
        url = "https://kiln.example/simple"
        [tool.uv]
        constraint-dependencies = ["urllib3<2"]
        override-dependencies = ["idna==3.7"]
        [[tool.uv.index]]
        name = "uv-index"
        url = "https://uv.example/simple"
        [tool.uv.sources]
        vendored = { path = "vendored" }
        """,
    )
    tool = load_pyproject(path).tool
    assert [str(r) for r in tool.constraint_dependencies] == ["urllib3<3"]
    assert [str(r) for r in tool.override_dependencies] == ["idna==3.7"]
    assert [index.name for index in tool.indexes] == ["kiln-index"]
    assert list(tool.sources().entries) == ["vendored"]
    assert (tool.key("index"), tool.key("sources")) == ("tool.kiln.index", "tool.uv.sources")


def test_errors_name_the_table_that_was_read(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool.uv]\noverride-dependencies = "idna"\n')
    assert str(error_of(lambda: load_pyproject(path).validate())) == (
        f"{path}: `tool.uv.override-dependencies` must be a list of requirement strings"
    )
    write(path, '[tool.kiln]\noverride-dependencies = ["idna"]\n[tool.uv]\noverride-dependencies = "idna"\n')
    load_pyproject(path).validate()  # the uv value is not read at all


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('conflicts = [[{ extra = "cpu" }]]', "`tool.kiln.conflicts[0]` must be a list of at least two tables"),
        ('conflicts = [[{ extra = "a", group = "b" }, { extra = "c" }]]',
         "`tool.kiln.conflicts[0][0]`: an entry needs one of `extra` or `group`"),
        ('conflicts = [[{ extra = "cpu", name = "x" }, { extra = "gpu" }]]',
         "`tool.kiln.conflicts[0][0]`: unknown key `name`"),
        ('conflicts = [[{ group = "a" }, { group = "nope" }]]',
         "`tool.kiln.conflicts[0][1]`: group `nope` is not defined in `[dependency-groups]`"),
        ('environments = ["sys_platform = linux"]', "`tool.kiln.environments[0]`: invalid marker"),
        ('required-environments = 3', "`tool.kiln.required-environments` must be a marker string"),
        ('managed = "no"', "`tool.kiln.managed` must be `true` or `false`"),
        ('package = 1', "`tool.kiln.package` must be `true` or `false`"),
        ('default-groups = "dev"', '`tool.kiln.default-groups` must be a list of group names or `"all"`'),
        ('build-constraint-dependencies = ["setuptools[x]<70"]',
         "`tool.kiln.build-constraint-dependencies[0]`: a constraint is a name with version"),
        ('workspace = { members = "packages/*" }', "`tool.kiln.workspace.members` must be a list of glob strings"),
        ('workspace = { members = ["../elsewhere"] }',
         "`tool.kiln.workspace.members`: `../elsewhere` must be a relative path inside the workspace root"),
        ('workspace = { member = ["a"] }', "`tool.kiln.workspace`: unknown key `member`"),
    ],
)
def test_bad_settings_are_errors_naming_file_and_key(tmp_path: Path, body: str, message: str) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        f'[project]\nname = "app"\n[dependency-groups]\na = []\n[tool.kiln]\n{body}\n',
    )
    assert str(error_of(lambda: load_pyproject(path).validate())).startswith(f"{path}: {message}")


def test_resolution_settings_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [project]
        name = "app"
        [project.optional-dependencies]
        cpu = ["torch"]
        gpu = ["torch"]
        [tool.uv]
        conflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]
        environments = "sys_platform == 'linux'"
        required-environments = ["sys_platform == 'linux' and platform_machine == 'x86_64'"]
        managed = true
        """,
    )
    pyproject = load_pyproject(path)
    pyproject.validate()
    [conflict] = pyproject.conflicts
    assert [item.extra for item in conflict] == ["cpu", "gpu"]
    assert [str(m) for m in pyproject.tool.environments] == ['sys_platform == "linux"']
    assert len(pyproject.tool.required_environments) == 1


# --- workspaces: the albatross layout ------------------------------------------------------------


@pytest.fixture
def albatross(tmp_path: Path) -> Path:
    """uv's example: root `albatross`, members under `packages/`, `packages/seeds` excluded."""
    root = tmp_path / "albatross"
    project(
        root,
        "albatross",
        textwrap.dedent(
            """\
            requires-python = ">=3.10"
            dependencies = ["bird-feeder", "tqdm>=4,<5"]

            [tool.uv.sources]
            bird-feeder = { workspace = true }

            [tool.uv.workspace]
            members = ["packages/*"]
            exclude = ["packages/seeds"]
            """
        ),
    )
    project(root / "packages" / "bird-feeder", "bird-feeder", 'requires-python = ">=3.9,<3.14"')
    project(root / "packages" / "seeds", "seeds")
    return root


def test_albatross_members_are_the_root_and_bird_feeder(albatross: Path) -> None:
    found = discover(albatross)
    workspace = found.workspace
    assert workspace.explicit
    assert workspace.root == albatross.resolve()
    assert [m.name for m in workspace.members] == ["albatross", "bird-feeder"]
    assert found.member is not None and found.member.name == "albatross"
    assert workspace.member_paths["bird-feeder"] == (albatross / "packages" / "bird-feeder").resolve()
    assert workspace.lockfile == albatross.resolve() / "pylock.toml"


def test_discovery_from_a_nested_directory_finds_the_member_and_root(albatross: Path) -> None:
    nested = albatross / "packages" / "bird-feeder" / "src" / "bird_feeder"
    found = discover(nested)
    assert found.member is not None and found.member.name == "bird-feeder"
    assert found.root == albatross.resolve()
    workspace = find_workspace(nested)
    assert workspace is not None and workspace.root == albatross.resolve()


def test_an_excluded_directory_is_a_project_on_its_own(albatross: Path) -> None:
    seeds = albatross / "packages" / "seeds"
    assert find_workspace(seeds / "src") is None
    alone = discover(seeds / "src")
    assert not alone.workspace.explicit
    assert alone.root == seeds.resolve()
    assert [m.name for m in alone.workspace.members] == ["seeds"]
    root_table = load_pyproject(albatross / "pyproject.toml").tool.workspace
    assert root_table is not None
    assert membership(albatross, root_table, seeds) is Membership.EXCLUDED
    assert membership(albatross, root_table, albatross / "packages" / "x") is Membership.ALREADY_MEMBER
    assert membership(albatross, root_table, albatross / "tools") is Membership.TO_ADD


def test_workspace_requires_python_is_the_intersection_of_members(albatross: Path) -> None:
    workspace = discover(albatross).workspace
    assert workspace.requires_python == SpecifierSet(">=3.10,>=3.9,<3.14")
    assert workspace.requires_python.contains("3.13")
    assert not workspace.requires_python.contains("3.9")
    assert not workspace.requires_python.contains("3.14")


def test_build_selection_from_a_member_directory(albatross: Path) -> None:
    selection = select_members(albatross / "packages" / "bird-feeder", "Bird_Feeder")
    assert [m.name for m in selection.members] == ["bird-feeder"]
    everything = select_members(albatross / "packages" / "bird-feeder")
    assert [m.name for m in everything.members] == ["albatross", "bird-feeder"]
    error = error_of(lambda: select_members(albatross, "seeds"))
    assert str(error) == f"package `seeds` is not a member of the workspace at `{albatross.resolve()}`"
    assert error.hint == "members: `albatross`, `bird-feeder`"
    alone = error_of(lambda: select_members(albatross / "packages" / "seeds"))
    assert "is not in a workspace" in str(alone)


def test_kiln_build_all_packages_builds_the_albatross_members(albatross: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "VIRTUAL_ENV"))}
    env |= {"KILN_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "kiln", "build", "--all-packages", "--wheel"],
        capture_output=True, text=True, env=env, cwd=albatross / "packages" / "bird-feeder",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (albatross / "dist").glob("*.whl")) == [
        "albatross-0.1.0-py3-none-any.whl",
        "bird_feeder-0.1.0-py3-none-any.whl",
    ]


# --- workspaces: members and discovery rules -------------------------------------------------------


def test_virtual_members_are_skipped_by_all_packages_and_refused_by_package(tmp_path: Path) -> None:
    root = write(tmp_path / "pyproject.toml", '[tool.kiln.workspace]\nmembers = ["libs/*"]\n').parent
    project(root / "libs" / "real", "real")
    project(root / "libs" / "virtual", "virtual", package=False)
    project(root / "libs" / "off", "off", "[tool.kiln]\npackage = false\n")
    found = discover(root)
    assert found.member is None  # a virtual root: no [project]
    assert [m.name for m in found.workspace.members] == ["off", "real", "virtual"]
    assert [m.name for m in select_members(root).members] == ["real"]
    assert "has no `[build-system]`" in str(error_of(lambda: select_members(root, "virtual")))
    off = error_of(lambda: select_members(root, "off"))
    assert str(off).startswith("package `off` is not a package: `tool.kiln.package = false`")


def test_a_member_directory_without_pyproject_is_an_error_naming_it(tmp_path: Path) -> None:
    root = write(tmp_path / "pyproject.toml", '[tool.kiln.workspace]\nmembers = ["libs/*"]\n').parent
    project(root / "libs" / "real", "real")
    (root / "libs" / "empty").mkdir()
    (root / "libs" / ".hidden").mkdir()
    (root / "libs" / "notes.txt").write_text("a file, not a member\n")
    error = error_of(lambda: discover(root))
    assert str(error) == "workspace member `libs/empty` has no `pyproject.toml`"
    assert error.hint == f"fix `members` in `{root / 'pyproject.toml'}` or add an `exclude`"
    write(root / "pyproject.toml", '[tool.kiln.workspace]\nmembers = ["libs/*"]\nexclude = ["libs/empty"]\n')
    assert [m.name for m in discover(root).workspace.members] == ["real"]


def test_a_member_without_project_table_or_with_a_taken_name_is_an_error(tmp_path: Path) -> None:
    root = write(tmp_path / "pyproject.toml", '[tool.kiln.workspace]\nmembers = ["libs/*"]\n').parent
    write(root / "libs" / "odd" / "pyproject.toml", "[tool.ruff]\n")
    error = error_of(lambda: discover(root))
    assert str(error) == (
        f"workspace member `libs/odd` has no `[project]` table in `{root / 'libs/odd/pyproject.toml'}`"
    )
    project(root / "libs" / "odd", "same")
    project(root / "libs" / "twin", "Same")
    assert "two members of the workspace at" in str(error_of(lambda: discover(root)))


def test_a_project_not_listed_by_the_first_workspace_above_stands_alone(tmp_path: Path) -> None:
    outer = write(tmp_path / "pyproject.toml", '[tool.kiln.workspace]\nmembers = ["**"]\n').parent
    inner = write(outer / "inner" / "pyproject.toml", '[tool.kiln.workspace]\nmembers = ["listed"]\n').parent
    project(inner / "listed", "listed")
    stray = project(inner / "stray", "stray")
    assert find_workspace(stray) is None
    assert discover(stray).root == stray.resolve()
    workspace = find_workspace(inner / "listed")
    assert workspace is not None and workspace.root == inner.resolve()


def test_managed_false_leaves_the_workspace(tmp_path: Path) -> None:
    root = write(tmp_path / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["libs/*"]\n').parent
    project(root / "libs" / "kept", "kept")
    free = project(root / "libs" / "free", "free", "[tool.uv]\nmanaged = false\n")
    assert [m.name for m in discover(root).workspace.members] == ["kept"]
    assert find_workspace(free) is None
    assert "is not managed by kiln: `tool.uv.managed = false`" in str(error_of(lambda: discover(free)))
    assert enclosing_root(free / "new") is None
    root_pyproject = enclosing_root(root / "libs" / "new")
    assert root_pyproject is not None and root_pyproject.directory == root


def test_discovery_needs_a_project_or_a_workspace(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    assert find_workspace(lonely) is None
    assert str(error_of(lambda: discover(lonely))) == (
        f"no `pyproject.toml` found in `{lonely}` or any parent directory"
    )
    path = write(tmp_path / "tools" / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    assert find_workspace(path.parent) is None
    assert str(error_of(lambda: discover(path.parent))) == f"`{path}` has no `[project]` table"


def test_members_glob_matching() -> None:
    assert glob_match("packages/*", "packages/a")
    assert not glob_match("packages/*", "packages/a/b")
    assert glob_match("packages/**", "packages/a/b")
    assert glob_match("./libs/core", "libs/core")
    assert not glob_match("libs/core", "libs/core2")


# --- what other parts of kiln take from a project ---------------------------------------------------


def test_index_config_has_the_indexes_and_the_index_pins(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [[tool.kiln.index]]
        name = "pytorch"
        url = "https://download.pytorch.org/whl/cpu"
        explicit = true
        [tool.kiln.sources]
        torch = { index = "pytorch", marker = "sys_platform == 'linux'" }
        """,
    )
    config = index_config(path)
    assert [index.name for index in config.indexes] == ["pytorch"]
    assert [pin.index for pin in config.pins["torch"]] == ["pytorch"]
    assert index_config(tmp_path / "missing.toml").indexes == ()


def test_settings_come_from_the_nearest_pyproject_that_configures_kiln(tmp_path: Path) -> None:
    configured = write(tmp_path / "pyproject.toml", "[tool.uv]\n")
    plain = project(tmp_path / "member", "member")
    assert find_configured_pyproject(plain / "src") == configured
    write(plain / "pyproject.toml", '[project]\nname = "member"\n[tool.kiln]\n')
    assert find_configured_pyproject(plain / "src") == plain / "pyproject.toml"


def test_requirements_are_requirement_objects(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "a"\ndependencies = ["b>1"]\n')
    table = read_pyproject(tmp_path)
    assert table is not None and table.path == path
    assert table.project is not None and table.project.dependencies == (Requirement("b>1"),)


# --- hostile input -------------------------------------------------------------------------------


def test_a_long_chain_of_included_groups_is_resolved_without_recursion(tmp_path: Path) -> None:
    count = 5000
    lines = [f'g{i} = [{{ include-group = "g{i + 1}" }}]' for i in range(count)]
    path = write(tmp_path / "pyproject.toml", "[dependency-groups]\n" + "\n".join(lines) + f'\ng{count} = ["x"]\n')
    assert [str(r) for r in load_pyproject(path).group("g0").requirements] == ["x"]
    write(path, "[dependency-groups]\n" + "\n".join(lines) + f'\ng{count} = [{{ include-group = "g0" }}]\n')
    assert "dependency group `g0` includes itself: `g0` -> `g1`" in str(
        error_of(lambda: load_pyproject(path).dependency_groups)
    )


def test_deeply_nested_toml_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert str(error_of(lambda: load_toml(path))).startswith(f"`{path}` is not valid TOML")


def test_a_member_symlinked_outside_the_root_is_refused(tmp_path: Path) -> None:
    outside = project(tmp_path / "outside", "outside")
    root = write(tmp_path / "ws" / "pyproject.toml", '[tool.kiln.workspace]\nmembers = ["libs/*"]\n').parent
    (root / "libs").mkdir()
    (root / "libs" / "link").symlink_to(outside, target_is_directory=True)
    error = error_of(lambda: discover(root))
    assert str(error).startswith("workspace member `libs/link` (matched by `libs/*`) is outside")
