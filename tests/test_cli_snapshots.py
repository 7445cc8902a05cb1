"""Snapshots of the real `kiln` command line: exit code, stdout and stderr of `python -m kiln`.

Each case runs kiln in a subprocess, in a scratch directory, with `NO_COLOR=1` and a fixed
terminal width, and compares what it printed with `tests/snapshots/<case>.txt` after a small
normaliser has replaced temporary paths, versions, interpreter paths and times by
placeholders. Set `KILN_UPDATE_SNAPSHOTS=1` to rewrite the snapshot files from the current
output (then review the diff before committing it).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiln import __version__

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("KILN_UPDATE_SNAPSHOTS", "") not in ("", "0")

KILN_BUILD_SYSTEM = '[build-system]\nrequires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"\n'


# --------------------------------------------------------------------------- normaliser

# (pattern, replacement) applied in order to stdout and stderr, after the path filters.
FILTERS: tuple[tuple[str, str], ...] = (
    (re.escape(f"kiln {__version__}"), "kiln [VERSION]"),
    (r"(interpreter at: ).+", r"\1[PYTHON]"),
    (r"\b(CPython|PyPy) \d+\.\d+\.\d+\S*", r"\1 [PYTHON-VERSION]"),
    (r"\b\d+(?:\.\d+)?(?:ms|s)\b", "[TIME]"),
    (r"\b\d+(?:\.\d+)?(?:B|KiB|MiB|GiB|kB|MB|GB)\b", "[SIZE]"),
)


def normalise(text: str, root: Path) -> str:
    """``text`` with the scratch directory ``root`` and the other unstable parts filtered."""
    for path in sorted({str(root.resolve()), str(root)}, key=len, reverse=True):
        text = text.replace(path, "[TMP]")
    for pattern, replacement in FILTERS:
        text = re.sub(pattern, replacement, text)
    return text


def render_snapshot(args: tuple[str, ...], code: int, stdout: str, stderr: str) -> str:
    return (
        f"$ {shlex.join(['kiln', *args])}\n"
        f"exit code: {code}\n"
        f"----- stdout -----\n{stdout}"
        f"----- stderr -----\n{stderr}"
    )


# --------------------------------------------------------------------------- cases


def _nothing(root: Path) -> None:
    pass


def _existing_project(root: Path) -> None:
    (root / "pyproject.toml").write_text('[project]\nname = "taken"\nversion = "1.0"\n')


def _kiln_build_project(root: Path) -> None:
    (root / "src" / "demo").mkdir(parents=True)
    (root / "src" / "demo" / "__init__.py").write_text("VALUE = 42\n")
    (root / "pyproject.toml").write_text(f'[project]\nname = "demo"\nversion = "1.0.0"\n\n{KILN_BUILD_SYSTEM}')


def _missing_module_project(root: Path) -> None:
    (root / "src" / "other").mkdir(parents=True)
    (root / "src" / "other" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(f'[project]\nname = "demo"\nversion = "1.0.0"\n\n{KILN_BUILD_SYSTEM}')


def _dist_files(root: Path) -> None:
    _kiln_build_project(root)
    result = subprocess.run(
        [sys.executable, "-m", "kiln", "build", "-q"], cwd=root, env=_env(root), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def _env_and_wheels(root: Path) -> None:
    """A virtual environment at `.venv` and a find-links directory `wheels/`."""
    from indexserver import build_wheel

    result = subprocess.run(
        [sys.executable, "-m", "kiln", "venv", "-q", "--python", sys.executable],
        cwd=root, env=_env(root), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    wheels = root / "wheels"
    build_wheel(wheels, "greeting", "1.0", requires_dist=["colours>=2"])
    build_wheel(wheels, "greeting", "2.0", requires_dist=["colours>=3"])
    build_wheel(wheels, "colours", "2.5")


PIP_LOCAL = ("--no-index", "--find-links", "wheels")


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    setup: Callable[[Path], None] = _nothing
    # The command module the case exercises; the case is skipped until it exists.
    command: str | None = None
    # Files (relative to the scratch directory) the command must have created.
    creates: tuple[str, ...] = field(default=())


CASES: tuple[Case, ...] = (
    Case("help", ("--help",)),
    Case("version", ("--version",)),
    Case("no-command", ()),
    Case("unknown-command", ("frobnicate",)),
    Case("unknown-option", ("build", "--frobnicate"), command="build"),
    Case("init", ("init", "hello"), command="init", creates=("hello/pyproject.toml", "hello/.git")),
    Case("init-lib", ("init", "--lib", "--vcs", "none", "--author-from", "none", "tools"), command="init",
         creates=("tools/src/tools/py.typed",)),
    Case("init-already-exists", ("init",), _existing_project, command="init"),
    Case("init-invalid-name", ("init", "--name", "bad name!", "proj"), command="init"),
    Case("init-invalid-directory-name", ("init", "bad name!"), command="init"),
    Case("build", ("build",), _kiln_build_project, command="build",
         creates=("dist/demo-1.0.0.tar.gz", "dist/demo-1.0.0-py3-none-any.whl")),
    Case("build-list", ("build", "--list"), _kiln_build_project, command="build"),
    Case("build-missing-module", ("build",), _missing_module_project, command="build"),
    Case("build-missing-source", ("build", "nowhere"), command="build"),
    Case("publish-dry-run", ("publish", "--dry-run"), _dist_files, command="publish"),
    Case("venv", ("venv", "--python", sys.executable), command="venv", creates=(".venv/pyvenv.cfg",)),
    Case("venv-exists", ("venv", "--python", sys.executable, "src"), _kiln_build_project, command="venv"),
    Case("pip-install", ("pip", "install", *PIP_LOCAL, "greeting"), _env_and_wheels, command="pip",
         creates=(f".venv/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages/greeting/__init__.py",)),
    Case("pip-install-unsatisfiable", ("pip", "install", *PIP_LOCAL, "greeting>=2"),
         _env_and_wheels, command="pip"),
    Case("pip-install-no-environment", ("pip", "install", "greeting"), command="pip"),
    Case("completion-help", ("completion", "--help"), command="completion"),
    Case("completion-unknown-shell", ("completion", "tcsh"), command="completion"),
)


def _available(command: str | None) -> bool:
    return command is None or importlib.util.find_spec(f"kiln.cli.commands.{command}") is not None


def _env(root: Path) -> dict[str, str]:
    """A predictable environment: no colour, fixed width, no user configuration or caches."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("KILN_", "VIRTUAL_ENV", "FORCE_COLOR", "GIT_", "PIP_", "UV_"))
    }
    gitconfig = root.parent / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Snap Shot\n\temail = snap@example.com\n")
    home = root.parent / "home"
    home.mkdir(exist_ok=True)
    env.update(
        NO_COLOR="1",
        COLUMNS="100",
        SHELL="/bin/bash",
        HOME=str(home),  # no ~/.netrc, ~/.pypirc or user configuration
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        KILN_CACHE_DIR=str(root.parent / "cache" / "kiln"),
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_case(case: Case, tmp_path: Path) -> tuple[str, Path]:
    """Run ``case`` in a fresh scratch directory; return its normalised snapshot text."""
    root = tmp_path / "work"
    root.mkdir()
    case.setup(root)
    result = subprocess.run(
        [sys.executable, "-m", "kiln", *case.args],
        cwd=root, env=_env(root), capture_output=True, text=True, timeout=120,
    )
    args = tuple(normalise(arg.replace(sys.executable, "[PYTHON]"), tmp_path) for arg in case.args)
    text = render_snapshot(
        args, result.returncode, normalise(result.stdout, tmp_path), normalise(result.stderr, tmp_path)
    )
    return text, root


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_cli_output_matches_snapshot(case: Case, tmp_path: Path) -> None:
    if not _available(case.command):
        pytest.skip(f"`kiln {case.command}` is not implemented yet")
    actual, root = run_case(case, tmp_path)
    for relative in case.creates:
        assert (root / relative).exists(), f"`kiln {' '.join(case.args)}` did not create `{relative}`"
    assert "Traceback" not in actual
    path = SNAPSHOTS / f"{case.name}.txt"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        if not path.exists() or path.read_text() != actual:
            path.write_text(actual)
        return
    if not path.exists():
        pytest.fail(f"no snapshot `{path.name}`; run with KILN_UPDATE_SNAPSHOTS=1 to create it, then review it")
    assert actual == path.read_text(), f"output differs from `{path.name}` (KILN_UPDATE_SNAPSHOTS=1 rewrites it)"


# --------------------------------------------------------------------------- the normaliser itself


def test_normaliser_replaces_scratch_paths_versions_and_times(tmp_path: Path) -> None:
    text = (
        f"kiln {__version__}\n"
        f"wrote {tmp_path}/dist/demo-1.0.0.tar.gz (1.5KiB, 379B) in 0.25s (12ms in the backend)\n"
        "Using CPython 3.12.4 interpreter at: /usr/bin/python3.12\n"
    )
    assert normalise(text, tmp_path) == (
        "kiln [VERSION]\n"
        "wrote [TMP]/dist/demo-1.0.0.tar.gz ([SIZE], [SIZE]) in [TIME] ([TIME] in the backend)\n"
        "Using CPython [PYTHON-VERSION] interpreter at: [PYTHON]\n"
    )


def test_every_snapshot_file_belongs_to_a_case() -> None:
    names = {case.name for case in CASES}
    stale = sorted(path.stem for path in SNAPSHOTS.glob("*.txt") if path.stem not in names)
    assert stale == [], "snapshot files without a case; delete them"
