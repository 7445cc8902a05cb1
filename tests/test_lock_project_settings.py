"""The resolver settings a project writes in `[tool.kiln]` (else `[tool.uv]`): `resolution`,
`prerelease`, `exclude-newer`, `exclude-newer-package`, `fork-strategy` and `index-strategy`
shape `kiln lock` as the command-line options do, and the command line wins over them. Real
`kiln` processes against real loopback indexes."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import tomllib
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, ok


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    for version, uploaded in (("1.0", "2024-01-10"), ("2.0", "2024-06-10"),
                              ("3.0b1", "2024-07-10")):
        server.add(build_wheel(files, "alpha", version), upload_time=f"{uploaded}T00:00:00Z")
    for version, uploaded in (("1.0", "2024-01-10"), ("2.0", "2024-06-10")):
        server.add(build_wheel(files, "beta", version), upload_time=f"{uploaded}T00:00:00Z")
    with server:
        yield server


@pytest.fixture(scope="module")
def second_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """An index with only the oldest `alpha`."""
    files = tmp_path_factory.mktemp("second-wheels")
    server = IndexServer()
    server.add(build_wheel(files, "alpha", "1.0"))
    with server:
        yield server


def project(root: Path, settings: str, dependencies: str = '"alpha>=1", "beta"') -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [project]
        name = "demo"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = [{dependencies}]

        """) + textwrap.dedent(settings))
    return root


def lock(root: Path, index: IndexServer, *args: str) -> subprocess.CompletedProcess[str]:
    result = kiln("lock", "--default-index", index.url, *args,
                  env=base_env(root.parent / "cache"), cwd=root)
    assert "Traceback" not in result.stderr
    return result


def locked(root: Path) -> dict[str, str]:
    data = tomllib.loads((root / "pylock.toml").read_text())
    return {p["name"]: p["version"] for p in data["packages"] if "version" in p}


def recorded(root: Path) -> dict[str, object]:
    options: dict[str, object] = tomllib.loads(
        (root / "pylock.toml").read_text())["tool"]["kiln"]["options"]
    return options


def test_resolution_of_tool_uv_is_read_and_the_command_line_wins(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", """\
        [tool.uv]
        resolution = "lowest-direct"
        """)
    ok(lock(root, index))
    assert locked(root) == {"alpha": "1.0", "beta": "1.0"}
    assert recorded(root)["resolution"] == "lowest-direct"
    ok(lock(root, index, "--resolution", "highest"))
    assert locked(root) == {"alpha": "2.0", "beta": "2.0"}
    assert recorded(root)["resolution"] == "highest"


def test_tool_kiln_wins_over_tool_uv(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo", """\
        [tool.kiln]
        resolution = "highest"

        [tool.uv]
        resolution = "lowest-direct"
        """)
    ok(lock(root, index))
    assert locked(root) == {"alpha": "2.0", "beta": "2.0"}


def test_changing_a_resolver_setting_makes_the_lock_stale(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", "")
    ok(lock(root, index))
    assert locked(root) == {"alpha": "2.0", "beta": "2.0"}
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '[tool.uv]\nexclude-newer = "2024-03-01"\n')
    stale = lock(root, index, "--check")
    assert stale.returncode == 1
    assert "is not up to date" in stale.stderr
    ok(lock(root, index))
    assert locked(root) == {"alpha": "1.0", "beta": "1.0"}
    assert recorded(root)["exclude-newer"] == "2024-03-01T00:00:00Z"
    # The command line's cutoff replaces the project's.
    ok(lock(root, index, "--exclude-newer", "2024-12-01"))
    assert locked(root) == {"alpha": "2.0", "beta": "2.0"}


def test_prerelease_and_exclude_newer_package(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo", """\
        [tool.kiln]
        prerelease = "allow"
        exclude-newer-package = { beta = "2024-03-01" }
        """)
    ok(lock(root, index))
    assert locked(root) == {"alpha": "3.0b1", "beta": "1.0"}
    assert recorded(root)["prerelease"] == "allow"
    assert recorded(root)["exclude-newer-package"] == {"beta": "2024-03-01T00:00:00Z"}
    # A package's cutoff on the command line wins over the project's for that package.
    ok(lock(root, index, "--exclude-newer-package", "beta=2024-12-01", "--prerelease",
            "disallow"))
    assert locked(root) == {"alpha": "2.0", "beta": "2.0"}


def test_index_strategy_of_the_project(
    tmp_path: Path, index: IndexServer, second_index: IndexServer
) -> None:
    # The project's index comes before the default index; only the default has alpha 2.0.
    table = f"""\
        [[tool.uv.index]]
        name = "second"
        url = "{second_index.url}"
        """
    root = project(tmp_path / "demo", table, dependencies='"alpha"')
    ok(lock(root, index))
    assert locked(root) == {"alpha": "1.0"}
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace(
            "[[tool.uv.index]]", '[tool.uv]\nindex-strategy = "unsafe-best-match"\n\n'
            "[[tool.uv.index]]"))
    # The locked 1.0 is still on offer, so only an upgrade looks past it.
    ok(lock(root, index, "--upgrade"))
    assert locked(root) == {"alpha": "2.0"}
    assert recorded(root)["index-strategy"] == "unsafe-best-match"
    ok(lock(root, index, "--index-strategy", "first-index"))
    assert locked(root) == {"alpha": "1.0"}


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ('resolution = "newest"', "tool.uv.resolution"),
        ('prerelease = "sometimes"', "tool.uv.prerelease"),
        ('fork-strategy = 3', "tool.uv.fork-strategy"),
        ('index-strategy = "best"', "tool.uv.index-strategy"),
        ('exclude-newer = "last week"', "tool.uv.exclude-newer"),
        ('exclude-newer-package = { alpha = "soon" }', "tool.uv.exclude-newer-package.alpha"),
        ('exclude-newer-package = { alpha = "7 days" }', "tool.uv.exclude-newer-package.alpha"),
        ('no-build = "yes"', "tool.uv.no-build"),
        ('no-binary-package = "beta"', "tool.uv.no-binary-package"),
        ('no-build-isolation-package = ["../x"]', "tool.uv.no-build-isolation-package"),
        ("config-settings = { mode = 1 }", "tool.uv.config-settings.mode"),
    ],
    ids=["resolution", "prerelease", "fork-strategy", "index-strategy", "exclude-newer",
         "exclude-newer-package", "exclude-newer-package-span", "no-build",
         "no-binary-package", "isolation-package", "config-settings"],
)
def test_a_bad_resolver_or_build_setting_is_an_error_naming_the_key(
    tmp_path: Path, index: IndexServer, settings: str, key: str
) -> None:
    root = project(tmp_path / "demo", f"[tool.uv]\n{settings}\n")
    result = lock(root, index)
    assert result.returncode == 1
    assert f"`{key}`" in result.stderr and "pyproject.toml" in result.stderr
    # A value out of a set of choices says which it may be.
    assert ("hint: " in result.stderr) == (not key.startswith(("tool.uv.no-", "tool.uv.config")))
    assert not (root / "pylock.toml").exists()


def test_fork_strategy_of_the_project_is_recorded(tmp_path: Path, index: IndexServer) -> None:
    root = project(tmp_path / "demo", '[tool.kiln]\nfork-strategy = "fewest"\n')
    ok(lock(root, index))
    assert recorded(root)["fork-strategy"] == "fewest"
    ok(lock(root, index, "--fork-strategy", "requires-python"))
    assert "fork-strategy" not in recorded(root)


def test_exclude_newer_package_false_exempts_a_package(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", """\
        [tool.uv]
        exclude-newer = "2024-03-01"
        exclude-newer-package = { alpha = false }
        """)
    ok(lock(root, index))
    assert locked(root) == {"alpha": "2.0", "beta": "1.0"}
    assert recorded(root)["exclude-newer-package"] == {"alpha": False}


def days_since(day: str) -> int:
    """Whole days from ``day`` to now: a span that reaches back past ``day``."""
    since = datetime.now(timezone.utc) - datetime.fromisoformat(day + "T00:00:00+00:00")
    return since.days


def test_a_span_before_now_is_a_cutoff_that_keeps_the_lock_current(
    tmp_path: Path, index: IndexServer
) -> None:
    """`exclude-newer = "N days"`, as uv takes it: the cutoff is N days before the run, and a
    lock made with the same span stays current (and byte for byte the same) as days pass."""
    days = days_since("2024-03-01")
    root = project(tmp_path / "demo", f'[tool.uv]\nexclude-newer = "{days} days"\n')
    ok(lock(root, index))
    assert locked(root) == {"alpha": "1.0", "beta": "1.0"}
    assert recorded(root)["exclude-newer-span"] == f"P{days}D"
    first = recorded(root)
    ok(lock(root, index, "--check"))
    # An edit of the file leads past the stamps: the options are compared, and the span's
    # moment of the lock is kept.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "# edited\n")
    result = ok(lock(root, index))
    assert "Updated" not in result.stderr
    assert recorded(root) == first
    # The command line's span replaces the project's; a shorter one lets newer files in.
    ok(lock(root, index, "--exclude-newer", f"P{days_since('2024-12-01')}D"))
    assert locked(root) == {"alpha": "2.0", "beta": "2.0"}


@pytest.mark.parametrize("value", ["1 month", "P1Y", "2 fortnights"])
def test_an_exclude_newer_span_of_months_or_unknown_units_is_a_usage_error(
    tmp_path: Path, index: IndexServer, value: str
) -> None:
    root = project(tmp_path / "demo", "")
    result = lock(root, index, "--exclude-newer", value)
    assert result.returncode == 2
    assert "`--exclude-newer`" in result.stderr or "--exclude-newer" in result.stderr
    assert ("use days instead" in result.stderr) == (value != "2 fortnights")
    assert not (root / "pylock.toml").exists()


def test_no_binary_package_of_the_project_is_recorded_and_applied(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path / "demo", '[tool.uv]\nno-build = true\n')
    ok(lock(root, index))
    assert recorded(root)["no-build"] == [":all:"]
    # The index has wheels only: taking none of `beta`'s leaves nothing to lock.
    root = project(tmp_path / "other", '[tool.uv]\nno-binary-package = ["beta"]\n')
    failed = lock(root, index)
    assert failed.returncode == 1 and "beta" in failed.stderr


def user_config(tmp_path: Path, name: str, text: str) -> None:
    """A user-level `kiln.toml` or `uv.toml`, where `base_env` points kiln's search."""
    folder = tmp_path / "xdg-config" / ("uv" if name == "uv.toml" else "kiln")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def compiled(tmp_path: Path, index: IndexServer, *args: str) -> str:
    source = tmp_path / "requirements.in"
    source.write_text("alpha\n")
    result = ok(kiln("pip", "compile", source, "--no-header", "--no-annotate",
                     "--default-index", index.url, *args,
                     env=base_env(tmp_path / "cache"), cwd=tmp_path))
    return result.stdout.strip()


def test_resolver_settings_of_a_uv_toml_are_read_below_the_project(
    tmp_path: Path, index: IndexServer
) -> None:
    """uv.toml's `exclude-newer` holds for `kiln pip` and `kiln lock` alike; the command line
    and then the project's `[tool.uv]` win over it; `[pip]` holds for `kiln pip` only."""
    user_config(tmp_path, "uv.toml", 'exclude-newer = "2024-03-01"\n\n'
                '[pip]\nresolution = "lowest"\n')
    assert compiled(tmp_path, index) == "alpha==1.0"
    assert compiled(tmp_path, index, "--exclude-newer", "2024-12-01") == "alpha==1.0"  # lowest
    assert compiled(tmp_path, index, "--resolution", "highest",
                    "--exclude-newer", "2024-12-01") == "alpha==2.0"
    root = project(tmp_path / "demo", "")
    ok(lock(root, index))
    assert locked(root) == {"alpha": "1.0", "beta": "1.0"}  # the file's cutoff, not `lowest`
    assert recorded(root)["resolution"] == "highest"
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text() + '[tool.uv]\nexclude-newer = "2024-12-01"\n')
    ok(lock(root, index))
    assert locked(root) == {"alpha": "2.0", "beta": "2.0"}


def test_a_bad_resolver_setting_in_kiln_toml_names_the_file_and_key(
    tmp_path: Path, index: IndexServer
) -> None:
    user_config(tmp_path, "kiln.toml", 'resolution = "newest"\n')
    source = tmp_path / "requirements.in"
    source.write_text("alpha\n")
    result = kiln("pip", "compile", source, "--default-index", index.url,
                  env=base_env(tmp_path / "cache"), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "kiln.toml: `resolution` must be one of" in result.stderr
