"""Every example in the documentation works: TOML snippets build, shell sessions run.

Examples are found by ``tests/docs_examples.py``; the directives that mark an example as
skipped, as an error example or as needing hidden set-up are described there.

- A TOML block with ``[project]`` is a whole ``pyproject.toml``: it is written into a project
  with the files it implies and built (sdist and wheel) in-process with its build backend.
- A TOML block without ``[project]`` is a fragment: it is added to a minimal project and read
  by the part of kiln that owns its keys (the backend, the index or sources loaders, the
  workspace reader).
- The shell blocks of a page run in order, each command in ``bash``, in a fresh working
  directory with ``kiln`` meaning this checkout's kiln and ``pip``/``python`` a fresh virtual
  environment. Pages reach servers only on 127.0.0.1: a pypiserver for uploads.
"""

from __future__ import annotations

import ensurepip
import importlib
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomllib
from docs_examples import (
    Block,
    Command,
    DirectiveError,
    all_blocks,
    commands,
    is_complete_pyproject,
    page_blocks,
    pages_with_commands,
    toml_blocks,
)
from indexserver import IndexServer, build_wheel
from pypiserver_helpers import running_pypiserver

MINIMAL_PROJECT = '[project]\nname = "example"\nversion = "1.0.0"\n'
#: Keys read by the project model (``kiln.project``): a block with one of them is validated.
_PROJECT_KEYS = {
    "dependency-groups", "package", "managed", "default-groups", "dev-dependencies",
    "conflicts", "environments", "required-environments", "constraint-dependencies",
    "override-dependencies", "build-constraint-dependencies",
}
COMMAND_TIMEOUT = 120

# --- TOML snippets -----------------------------------------------------------------------------


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _backend_settings(data: Mapping[str, Any]) -> Mapping[str, Any]:
    tool = data.get("tool", {})
    for owner in ("kiln", "uv"):
        table = tool.get(owner, {}).get("build-backend")
        if isinstance(table, dict):
            return table
    return {}


def _touch(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(text, encoding="utf-8")


def _glob_to_path(pattern: str) -> str:
    """A file name that the glob ``pattern`` matches."""
    path = pattern.lstrip("/").replace("**/", "").replace("/**", "/file")
    path = re.sub(r"\[[^]]*\]", "x", path)
    return path.replace("*", "LICENSE").replace("?", "x")


def _module_names(project: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    names = settings.get("module-name")
    if isinstance(names, str):
        return [names]
    if isinstance(names, list):
        return [str(name) for name in names]
    name = str(project.get("name", "example"))
    if name.endswith("-stubs"):
        return [_normalised(name[: -len("-stubs")]) + "-stubs"]
    return [_normalised(name)]


def create_implied_files(root: Path, data: Mapping[str, Any]) -> None:
    """Create the modules, readme, licence files and directories a pyproject refers to."""
    project = data.get("project", {})
    settings = _backend_settings(data)
    module_root = root / str(settings.get("module-root", "src"))
    version = project.get("version", "1.0.0")
    for number, module in enumerate(_module_names(project, settings)):
        directory = module_root.joinpath(*module.split("."))
        init = "__init__.pyi" if module.endswith("-stubs") else "__init__.py"
        text = f'__version__ = "{version}"\n' if number == 0 else ""
        _touch(directory / ("module.py" if settings.get("namespace") else init), text)
    readme = project.get("readme")
    if isinstance(readme, dict):
        readme = readme.get("file")
    if isinstance(readme, str):
        _touch(root / readme, "# Example\n\nAn example project.\n")
    licence = project.get("license")
    if isinstance(licence, dict) and isinstance(licence.get("file"), str):
        _touch(root / licence["file"], "Licence text.\n")
    for pattern in project.get("license-files", []):
        _touch(root / _glob_to_path(pattern), "Licence text.\n")
    for directory in settings.get("data", {}).values():
        _touch(root / directory / "example-data", "#!python\nprint('data')\n")
    for source in _source_entries(data):
        if isinstance(source.get("path"), str):
            target = root / source["path"]
            if target.suffix in {".whl", ".gz", ".zip"}:
                _touch(target)
            else:
                _touch(target / "pyproject.toml", MINIMAL_PROJECT)
    _create_workspace_members(root, data)


def _source_entries(data: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    sources = data.get("tool", {}).get("kiln", {}).get("sources", {})
    for value in sources.values():
        yield from (value if isinstance(value, list) else [value])


def _create_workspace_members(root: Path, data: Mapping[str, Any]) -> None:
    workspace = data.get("tool", {}).get("kiln", {}).get("workspace")
    if not isinstance(workspace, dict):
        return
    sources = data.get("tool", {}).get("kiln", {}).get("sources", {})
    for pattern in workspace.get("members", []):
        for name, value in sources.items():
            if isinstance(value, dict) and value.get("workspace") is True:
                member = root / pattern.replace("*", name)
                _touch(member / "pyproject.toml", f'[project]\nname = "{name}"\nversion = "1.0"\n')


def _index_definitions(page: str) -> dict[str, str]:
    """The ``[[tool.kiln.index]]`` entries (name -> TOML) written anywhere on ``page``."""
    found: dict[str, str] = {}
    for block in toml_blocks():
        if block.page != page:
            continue
        for entry in tomllib.loads(block.text).get("tool", {}).get("kiln", {}).get("index", []):
            if "name" in entry and "url" in entry:
                found.setdefault(
                    entry["name"],
                    f'[[tool.kiln.index]]\nname = "{entry["name"]}"\nurl = "{entry["url"]}"\n',
                )
    return found


def pyproject_text(block: Block) -> str:
    """The whole ``pyproject.toml`` a block stands for."""
    if is_complete_pyproject(block):
        return block.text
    text = MINIMAL_PROJECT + "\n" + block.text
    data = tomllib.loads(text)
    defined = {entry.get("name") for entry in data.get("tool", {}).get("kiln", {}).get("index", [])}
    pinned = {source["index"] for source in _source_entries(data) if "index" in source}
    # A pin refers to an index that the page defines in another snippet.
    for name, definition in _index_definitions(block.page).items():
        if name in pinned - defined:
            text += "\n" + definition
    return text


def _backend_name(data: Mapping[str, Any]) -> str:
    return str(data.get("build-system", {}).get("build-backend", "kiln_build"))


def _build(project: Path, backend_name: str, out: Path) -> list[str]:
    backend = importlib.import_module(backend_name.partition(":")[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sdist = backend.build_sdist(str(out))
        wheel = backend.build_wheel(str(out))
    return [sdist, wheel]


def _workspace_root_block(block: Block) -> Block | None:
    """For a snippet of a member's file, the page's earlier snippet of the root file."""
    if block.file_path in (None, "pyproject.toml"):
        return None
    earlier = [b for b in toml_blocks() if b.page == block.page and b.index < block.index]
    for candidate in reversed(earlier):
        if candidate.file_path == "pyproject.toml":
            return candidate
    raise AssertionError(f"{block.id}: no earlier `# pyproject.toml` snippet for the root")


def _write_project(block: Block, directory: Path) -> dict[str, Any]:
    text = pyproject_text(block)
    data = tomllib.loads(text)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(text, encoding="utf-8")
    create_implied_files(directory, data)
    return data


def check_snippet(block: Block, root: Path, out: Path, chdir: Any) -> list[str]:
    """Build and read what the block configures; the names of the archives built.

    ``chdir`` changes the working directory (the hooks build the working directory).
    """
    project = root
    root_block = _workspace_root_block(block)
    if root_block is not None:
        _write_project(root_block, root)
        project = root / Path(str(block.file_path)).parent
    data = _write_project(block, project)
    chdir(project)
    tool = data.get("tool", {})
    kiln = tool.get("kiln", {})
    built: list[str] = []
    fragment = tomllib.loads(block.text)
    backend_keys = "build-system" in fragment or any(
        "build-backend" in fragment.get("tool", {}).get(owner, {}) for owner in ("kiln", "uv")
    )
    if (is_complete_pyproject(block) or backend_keys) and not block.directive("skip-build"):
        built = _build(project, _backend_name(data), out)
    if {"index", "sources"} & (set(kiln) | set(tool.get("uv", {}))):
        from kiln.project.indexes import index_config
        from kiln.project.sources import load_project_sources

        index_config(project / "pyproject.toml")
        load_project_sources(project)
    if "workspace" in kiln:
        from kiln.project.workspace import find_workspace

        assert find_workspace(project) is not None
    if _PROJECT_KEYS & (set(fragment) | set(kiln) | set(tool.get("uv", {}))):
        from kiln.project.pyproject import read_pyproject

        pyproject = read_pyproject(project)
        assert pyproject is not None
        pyproject.validate()
    return built


def _toml_params() -> list[Any]:
    return [pytest.param(block, id=block.id) for block in toml_blocks()]


@pytest.mark.parametrize("block", _toml_params())
def test_toml_example_builds_or_parses(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    if block.skip_reason:
        pytest.skip(block.skip_reason)
    project = tmp_path / "project"
    out = tmp_path / "out"
    out.mkdir()
    expected = block.expected_error
    if expected is not None:
        from kiln.errors import KilnError
        from kiln_build.errors import BuildBackendError

        with pytest.raises((BuildBackendError, KilnError)) as raised:
            check_snippet(block, project, out, monkeypatch.chdir)
        assert expected in str(raised.value), f"{block.id}: wrong error: {raised.value}"
        return
    built = check_snippet(block, project, out, monkeypatch.chdir)
    assert sorted(p.name for p in out.iterdir()) == sorted(built)
    stderr = capfd.readouterr().err
    assert "warning:" not in stderr, f"{block.id}: the example gives a warning:\n{stderr}"


def test_toml_examples_were_found() -> None:
    blocks = toml_blocks()
    assert sum(is_complete_pyproject(block) for block in blocks) >= 30
    assert len(blocks) >= 45


# --- shell sessions --------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadServer:
    port: int
    packages: Path
    username: str
    password: str

    @property
    def upload_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def simple_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"


#: Accounts on the loopback pypiserver: the pages' made-up credentials work against it.
DOCS_ACCOUNTS = {"docs": "docs-password", "__token__": "pypi-docs-test-token", "ci": "..."}


@pytest.fixture(scope="session")
def upload_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UploadServer]:
    """A real pypiserver on 127.0.0.1 that accepts uploads (and overwrites)."""
    root = tmp_path_factory.mktemp("docs-pypiserver")
    with running_pypiserver(
        root, DOCS_ACCOUNTS, authenticate="update", overwrite=True
    ) as (port, packages):
        yield UploadServer(port, packages, "docs", DOCS_ACCOUNTS["docs"])


#: The packages the pages install, with their requirements, served by a loopback index.
DOCS_INDEX_PACKAGES: dict[tuple[str, str], tuple[str, ...]] = {
    ("httpx", "0.27.0"): ("anyio", "certifi", "httpcore==1.*", "idna", "sniffio"),
    ("anyio", "4.4.0"): ("idna>=2.8", "sniffio>=1.1"),
    ("httpcore", "1.0.5"): ("certifi", "h11<0.15,>=0.13"),
    ("certifi", "2024.7.4"): (),
    ("h11", "0.14.0"): (),
    ("idna", "3.7"): (),
    ("sniffio", "1.3.1"): (),
    ("alpha", "1.0"): (),
    ("beta", "1.0"): (),
    ("beta", "2.0"): (),
}


@pytest.fixture(scope="session")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A real simple index on 127.0.0.1 with small stand-ins for the packages the pages use."""
    wheels = tmp_path_factory.mktemp("docs-index")
    server = IndexServer()
    for (name, version), requires in DOCS_INDEX_PACKAGES.items():
        server.add(build_wheel(wheels, name, version, requires_dist=requires))
    with server:
        yield server


@pytest.fixture(scope="session")
def kiln_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a ``kiln`` executable that runs this checkout's kiln."""
    directory = tmp_path_factory.mktemp("kiln-bin")
    script = directory / "kiln"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kiln "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return directory


_DROPPED_ENV = ("VIRTUAL_ENV", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV", "PYTHONSTARTUP",
                "FORCE_COLOR", "CONDA_PREFIX")
_SHELL_OWNED = ("_", "PWD", "OLDPWD", "SHLVL")


class Session:
    """A shell session: commands run one at a time, keeping the directory and exports."""

    def __init__(self, root: Path, kiln_bin: Path, extra_env: Mapping[str, str]) -> None:
        self.root = root
        self.home = root / "home"
        self.cwd = root / "work"
        self.venv = root / "venv"
        self.state = root / "state"
        for directory in (self.home, self.cwd, self.state):
            directory.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        env.update(
            HOME=str(self.home),
            PATH=os.pathsep.join([str(kiln_bin), str(self.venv / "bin"), env.get("PATH", "")]),
            KILN_CACHE_DIR=str(root / "cache"),
            NO_COLOR="1",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INPUT="1",
            GIT_CONFIG_NOSYSTEM="1",
        )
        env.update(extra_env)
        self.env = env

    def ensure_venv(self) -> None:
        """An environment with pip: the interpreter's bundled wheel, so no index is asked."""
        if not self.venv.exists():
            bundled = Path(ensurepip.__file__).parent / "_bundled"
            for command in (
                ["venv", str(self.venv)],
                ["pip", "install", "pip", "--python", str(self.venv), "--offline", "--no-index",
                 "--find-links", str(bundled)],
            ):
                subprocess.run(
                    [sys.executable, "-m", "kiln", *command],
                    check=True, capture_output=True, env=self.env, timeout=COMMAND_TIMEOUT,
                )

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        if re.search(r"(^|[\s;&|(])(pip|python)\b", command):
            self.ensure_venv()
        script = (
            f"{command}\n__docs_status=$?\n"
            f'pwd > "{self.state}/cwd"\nenv -0 > "{self.state}/env"\nexit $__docs_status\n'
        )
        result = subprocess.run(
            ["bash", "-c", script], cwd=self.cwd, env=self.env, capture_output=True,
            text=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL,
        )
        cwd = self.state / "cwd"
        if cwd.exists():
            self.cwd = Path(cwd.read_text(encoding="utf-8").strip())
            entries = (self.state / "env").read_bytes().split(b"\0")
            self.env = {
                key: value
                for key, _, value in (e.decode().partition("=") for e in entries if e)
                if key not in _SHELL_OWNED
            }
            cwd.unlink()
        return result


def _page_params() -> list[Any]:
    return [pytest.param(page, id=page) for page in pages_with_commands()]


@pytest.mark.parametrize("page", _page_params())
def test_shell_examples_of_page_run(
    page: str, tmp_path: Path, kiln_bin: Path, upload_server: UploadServer,
    package_index: IndexServer,
) -> None:
    session = Session(tmp_path, kiln_bin, {
        # Hidden `setup` directives point the documented variables at these servers.
        "DOCS_TEST_PUBLISH_URL": upload_server.upload_url,
        "DOCS_TEST_SIMPLE_URL": upload_server.simple_url,
        "DOCS_TEST_INDEX_URL": package_index.url,
        "DOCS_TEST_USERNAME": upload_server.username,
        "DOCS_TEST_PASSWORD": upload_server.password,
        "PYPI_TOKEN": DOCS_ACCOUNTS["__token__"],
    })
    skipped: list[str] = []
    ran = 0
    for block in pages_with_commands()[page]:
        if block.skip_reason:
            skipped.append(f"{block.id}: {block.skip_reason}")
            continue
        for setup in block.setups():
            result = session.run(setup)
            if result.returncode != 0:
                pytest.fail(_report(block, f"(setup) {setup}", result, 0))
        for command in commands(block):
            result = session.run(command.text)
            if result.returncode != block.expected_exit:
                pytest.fail(_report(block, command.text, result, block.expected_exit))
            for shown in command.shown_output:
                if block.expected_exit and shown.startswith(("error:", "hint:")) \
                        and shown not in result.stderr:
                    pytest.fail(f"{block.id}: `{shown}` is not in the output\n"
                                + _report(block, command.text, result, block.expected_exit))
            ran += 1
    print(f"{page}: {ran} commands run, {len(skipped)} blocks skipped")
    for line in skipped:
        print(f"  skipped {line}")
    assert ran or skipped


def _report(block: Block, command: str, result: subprocess.CompletedProcess[str],
            expected: int) -> str:
    return (
        f"{block.id} (line {block.line}): `{command}` exited with {result.returncode}, "
        f"expected {expected}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


# --- the directives themselves ------------------------------------------------------------------


def test_every_skipped_example_gives_a_reason() -> None:
    skipped = [block for block in all_blocks() if block.directive("skip")]
    for block in skipped:
        assert (block.skip_reason or "").strip(), f"{block.id}: skip without a reason"
    print(f"{len(skipped)} documentation examples are skipped:")
    for block in skipped:
        print(f"  {block.id}: {block.skip_reason}")


def test_console_blocks_hold_commands() -> None:
    """A ```console block shows a session; output alone belongs in a ```text block."""
    for block in all_blocks():
        if block.language == "console":
            assert commands(block), f"{block.id} (line {block.line}): no `$ ` command"


def test_directives_are_on_blocks_they_apply_to() -> None:
    for block in all_blocks():
        kinds = {directive.kind for directive in block.directives}
        if {"exit", "setup"} & kinds:
            assert block.language in {"console", "bash", "sh", "shell"}, block.id
        if {"expect-error", "skip-build"} & kinds:
            assert block.language == "toml", block.id


def test_shell_pages_were_found() -> None:
    assert {"getting-started.md", "commands/init.md", "commands/build.md"} <= set(
        pages_with_commands()
    )
    assert shutil.which("bash"), "the shell examples need bash"


# --- the extractor ------------------------------------------------------------------------------


def _page(tmp_path: Path, text: str) -> list[Block]:
    page = tmp_path / "guide" / "page.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text, encoding="utf-8")
    return page_blocks(page, tmp_path)


def test_extractor_reads_directives_commands_and_output(tmp_path: Path) -> None:
    blocks = _page(tmp_path, (
        "Intro.\n\n"
        '<!-- docs-test: setup "mkdir demo && cd demo" -->\n'
        "<!-- docs-test: exit 1 -->\n"
        "```console\n$ kiln init .hidden\nerror: bad name\n$ kiln build \\\n  --sdist\n```\n\n"
        "=== \"bash\"\n\n    ```bash\n    # a comment\n    eval \"$(kiln completion bash)\"\n    ```\n"
    ))
    assert [(b.id, b.line, b.language) for b in blocks] == [
        ("guide/page.md#0:$ kiln init .hidden", 5, "console"),
        ("guide/page.md#1:# a comment", 14, "bash"),
    ]
    first, second = blocks
    assert first.setups() == ["mkdir demo && cd demo"]
    assert first.expected_exit == 1
    assert commands(first) == [
        Command("kiln init .hidden", ("error: bad name",)), Command("kiln build \\\n  --sdist"),
    ]
    assert second.directives == ()
    assert commands(second) == [Command('eval "$(kiln completion bash)"')]


def test_extractor_refuses_a_skip_without_reason(tmp_path: Path) -> None:
    with pytest.raises(DirectiveError, match="needs one quoted text"):
        _page(tmp_path, "<!-- docs-test: skip -->\n```console\n$ kiln publish\n```\n")
    with pytest.raises(DirectiveError, match="unknown docs-test directive `skipp`"):
        _page(tmp_path, '<!-- docs-test: skipp "x" -->\n```console\n$ kiln publish\n```\n')


def test_directive_applies_only_to_the_next_block(tmp_path: Path) -> None:
    blocks = _page(tmp_path, (
        '<!-- docs-test: skip "network" -->\n\nSome prose.\n\n```console\n$ kiln publish\n```\n'
    ))
    assert blocks[0].skip_reason is None


def test_toml_snippet_kinds_are_told_apart(tmp_path: Path) -> None:
    complete, fragment, member = _page(tmp_path, (
        '```toml\n[project]\nname = "a"\n```\n\n'
        '```toml\n[tool.kiln.build-backend]\nmodule-root = ""\n```\n\n'
        '```toml\n# packages/app/pyproject.toml\n[project]\nname = "app"\n```\n'
    ))
    assert is_complete_pyproject(complete) and not is_complete_pyproject(fragment)
    assert pyproject_text(fragment).startswith(MINIMAL_PROJECT)
    assert member.file_path == "packages/app/pyproject.toml"
    assert complete.file_path is None
