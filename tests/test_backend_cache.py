"""kiln_build's metadata cache: reused while its inputs are unchanged, rebuilt otherwise.

Each test points ``KILN_BUILD_CACHE_DIR`` at its own directory and counts the calls of
``kiln_build.metadata._build_metadata`` (the uncached path), so "reused" means the
metadata was not generated again.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backend_helpers import (
    BACKEND_SRC,
    copy_project,
    dist_info_file,
    kiln_build,
    kiln_hook,
    parse_metadata,
    wheel_members,
)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("KILN_BUILD_CACHE_DIR", str(directory))
    monkeypatch.delenv("KILN_BUILD_NO_CACHE", raising=False)
    return directory


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the project root each time metadata is generated instead of read from cache."""
    import kiln_build.metadata

    calls: list[str] = []
    real: Callable[..., Any] = kiln_build.metadata._build_metadata

    def counting(project: Any, layout: Any) -> Any:
        calls.append(str(project.root))
        return real(project, layout)

    monkeypatch.setattr(kiln_build.metadata, "_build_metadata", counting)
    return calls


def _metadata(project: Path, out: Path) -> bytes:
    """METADATA as written by ``prepare_metadata_for_build_wheel`` into a fresh directory."""
    out.mkdir(parents=True)
    dist_info = kiln_hook(project, "prepare_metadata_for_build_wheel", str(out))
    assert isinstance(dist_info, str)
    return (out / dist_info / "METADATA").read_bytes()


def _entries(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in cache_dir.glob("*.json")) if cache_dir.exists() else []


def test_second_build_reuses_the_entry_and_writes_identical_metadata(
    cache_dir: Path, generations: list[str], tmp_path: Path
) -> None:
    project = copy_project("full-metadata", tmp_path)
    first = kiln_build(project, "wheel", tmp_path / "dist1")
    assert len(generations) == 1
    assert len(_entries(cache_dir)) == 1
    second = kiln_build(project, "wheel", tmp_path / "dist2")
    assert len(generations) == 1, "the second build generated the metadata again"
    first_metadata = dist_info_file(wheel_members(first), "METADATA")
    assert dist_info_file(wheel_members(second), "METADATA") == first_metadata
    assert second.read_bytes() == first.read_bytes()
    assert parse_metadata(first_metadata.decode()).get("Name") == "Full.Metadata_Project"


def test_sdist_and_metadata_hooks_share_the_entry(
    cache_dir: Path, generations: list[str], tmp_path: Path
) -> None:
    project = copy_project("full-metadata", tmp_path)
    kiln_build(project, "sdist", tmp_path / "dist")
    metadata = _metadata(project, tmp_path / "meta")
    kiln_build(project, "editable", tmp_path / "dist")
    assert len(generations) == 1
    assert parse_metadata(metadata.decode()).get("Version") == "2.0.0.post1"


def test_editing_a_file_that_is_not_an_input_keeps_the_entry(
    cache_dir: Path, generations: list[str], tmp_path: Path
) -> None:
    project = copy_project("full-metadata", tmp_path)
    first = _metadata(project, tmp_path / "m1")
    module = project / "src" / "full_metadata_project" / "__init__.py"
    module.write_text(module.read_text() + "\nEXTRA = 1\n")
    (project / "CHANGELOG.md").write_text("new file, not a licence\n")
    assert _metadata(project, tmp_path / "m2") == first
    assert len(generations) == 1


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


# (project, edit, what the regenerated METADATA must show; None when METADATA is unchanged)
INVALIDATING_EDITS: dict[str, tuple[str, Callable[[Path], object], str | None]] = {
    "readme": (
        "full-metadata",
        lambda p: _append(p / "README.md", "\nA new paragraph.\n"),
        "A new paragraph.",
    ),
    "license-file": (
        "full-metadata",
        lambda p: _append(p / "LICENSE", "\nOne more clause.\n"),
        None,
    ),
    "license-x-at-root": (
        "full-metadata",
        lambda p: (p / "LICENSE-X").write_text("another licence\n"),
        None,
    ),
    "pyproject": (
        "full-metadata",
        lambda p: (p / "pyproject.toml").write_text(
            (p / "pyproject.toml").read_text().replace('version = "2.0.0-post1"', 'version = "3"')
        ),
        "Version: 3\n",
    ),
    "dynamic-version-module": (
        "dynamic-version",
        lambda p: (p / "src" / "dynamic_version" / "__init__.py").write_text(
            '__version__ = "2.3.5"\n'
        ),
        "Version: 2.3.5\n",
    ),
}


@pytest.mark.parametrize("edit", sorted(INVALIDATING_EDITS))
def test_editing_an_input_invalidates_the_entry(
    edit: str, cache_dir: Path, generations: list[str], tmp_path: Path
) -> None:
    name, change, shows = INVALIDATING_EDITS[edit]
    project = copy_project(name, tmp_path)
    first = _metadata(project, tmp_path / "m1")
    change(project)
    second = _metadata(project, tmp_path / "m2")
    assert len(generations) == 2, f"{edit}: the cached metadata was used after the edit"
    if shows is None:
        assert second == first
    else:
        assert shows not in first.decode()
        assert shows in second.decode()
    # The regenerated entry is used from now on.
    assert _metadata(project, tmp_path / "m3") == second
    assert len(generations) == 2


def test_new_default_glob_license_file_is_picked_up(
    cache_dir: Path, generations: list[str], tmp_path: Path
) -> None:
    project = copy_project("license-default-globs", tmp_path)
    first = parse_metadata(_metadata(project, tmp_path / "m1").decode())
    assert first.get_all("License-File") == ["AUTHORS", "COPYING.LESSER", "LICENSE", "NOTICE.md"]
    (project / "LICENSE-X").write_text("another licence\n")
    second = parse_metadata(_metadata(project, tmp_path / "m2").decode())
    assert second.get_all("License-File") == [
        "AUTHORS",
        "COPYING.LESSER",
        "LICENSE",
        "LICENSE-X",
        "NOTICE.md",
    ]
    assert len(generations) == 2


def test_no_cache_variable_bypasses_the_cache(
    cache_dir: Path, generations: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILN_BUILD_NO_CACHE", "1")
    project = copy_project("full-metadata", tmp_path)
    first = _metadata(project, tmp_path / "m1")
    assert _metadata(project, tmp_path / "m2") == first
    assert len(generations) == 2
    assert _entries(cache_dir) == []


@pytest.mark.parametrize("name", ["license-pep639", "built-by-kiln"])
def test_wildcard_license_files_are_never_cached(
    name: str, cache_dir: Path, generations: list[str], tmp_path: Path
) -> None:
    project = copy_project(name, tmp_path)
    first = _metadata(project, tmp_path / "m1")
    assert _metadata(project, tmp_path / "m2") == first
    assert len(generations) == 2
    assert _entries(cache_dir) == []


# The second run makes a regeneration fail loudly, so its success proves a cache hit.
_BUILD_SDIST = """
import sys
import kiln_build, kiln_build.metadata
if sys.argv[2] == "cached":
    def refuse(*args, **kwargs):
        raise SystemExit("metadata was generated again instead of read from the cache")
    kiln_build.metadata._build_metadata = refuse
print(kiln_build.build_sdist(sys.argv[1]))
"""


def test_warnings_of_the_first_build_are_printed_again_on_a_cached_build(
    cache_dir: Path, tmp_path: Path
) -> None:
    project = copy_project("src-layout", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'description = "Default src layout"\n',
            'description = "Default src layout"\n'
            'classifiers = ["License :: OSI Approved :: MIT License"]\n',
        )
    )
    stderrs = []
    for run in ("fresh", "cached"):
        proc = subprocess.run(
            [sys.executable, "-c", _BUILD_SDIST, str(tmp_path / run), run],
            cwd=project,
            env={**_subprocess_env(), "KILN_BUILD_CACHE_DIR": str(cache_dir)},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "src_layout-1.0.0.tar.gz"
        stderrs.append(proc.stderr)
    assert len(_entries(cache_dir)) == 1
    warnings = [line for line in stderrs[0].splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "License :: OSI Approved :: MIT License" in warnings[0]
    assert stderrs[1] == stderrs[0]


def _subprocess_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "KILN_BUILD_NO_CACHE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BACKEND_SRC), env.get("PYTHONPATH")]))
    return env
