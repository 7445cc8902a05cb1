"""`kiln completion SHELL`: scripts generated from the real parser, exercised in real shells."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiln.cli.completion_scripts import SHELLS, describe, render
from kiln.cli.main import build_parser

SUBCOMMANDS = [command.path[-1] for command in describe(build_parser()).subcommands]


def _needs(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"`{shell}` is not installed (install it with `apt-get install {shell}`)")


@pytest.fixture(scope="session")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The script `kiln completion SHELL` prints, for each shell, written to a file."""
    root = tmp_path_factory.mktemp("completion")
    paths = {}
    for shell in SHELLS:
        result = subprocess.run(
            [sys.executable, "-m", "kiln", "completion", shell], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        paths[shell] = root / f"kiln.{shell}"
        paths[shell].write_text(result.stdout)
    return paths


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory holding one directory and one file."""
    work = tmp_path / "work"
    (work / "dist-dir").mkdir(parents=True)
    (work / "data.txt").write_text("")
    return work


def _nested_parser() -> argparse.ArgumentParser:
    """A parser with a `pip install` level below the top, as `kiln pip` will have."""
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--directory", metavar="DIR")
    commands = parser.add_subparsers(dest="command")
    pip = commands.add_parser("pip", help="pip-compatible commands")
    pip_commands = pip.add_subparsers(dest="pip_command")
    install = pip_commands.add_parser("install", help="install packages")
    install.add_argument("-r", "--requirement", metavar="FILE", action="append")
    install.add_argument("--upgrade", action="store_true")
    install.add_argument("packages", nargs="*", metavar="PACKAGE")
    pip_commands.add_parser("list", help="list installed packages")
    commands.add_parser("other", help="something else")
    return parser


# --------------------------------------------------------------------------- bash


def bash_complete(script: Path, cwd: Path, *words: str, function: str = "_kiln") -> list[str]:
    """What the completion function proposes for the command line ``words`` (last word = cursor)."""
    # `set -u`: the script must also work for users who have `nounset` on.
    program = f'set -u; source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); {function}; printf "%s\\n" "${{COMPREPLY[@]}}"'
    result = subprocess.run(
        ["bash", "-c", program, "bash", str(script), *words], cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]


def test_bash_script_is_valid_syntax(scripts: dict[str, Path]) -> None:
    result = subprocess.run(["bash", "-n", str(scripts["bash"])], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_bash_completes_a_subcommand_prefix(scripts: dict[str, Path], workdir: Path) -> None:
    assert bash_complete(scripts["bash"], workdir, "kiln", "bu") == ["build"]


def test_bash_completes_an_option_prefix_of_the_subcommand(scripts: dict[str, Path], workdir: Path) -> None:
    assert bash_complete(scripts["bash"], workdir, "kiln", "build", "--ou") == ["--out-dir"]


def test_bash_proposes_every_subcommand_on_an_empty_word(scripts: dict[str, Path], workdir: Path) -> None:
    assert bash_complete(scripts["bash"], workdir, "kiln", "") == SUBCOMMANDS


def test_bash_completes_directories_for_a_directory_option(scripts: dict[str, Path], workdir: Path) -> None:
    assert bash_complete(scripts["bash"], workdir, "kiln", "build", "--out-dir", "") == ["dist-dir"]
    assert bash_complete(scripts["bash"], workdir, "kiln", "build", "-o", "d") == ["dist-dir"]


def test_bash_completes_the_value_after_an_equals_sign(scripts: dict[str, Path], workdir: Path) -> None:
    # bash splits `--out-dir=d` at `=` into three words.
    assert bash_complete(scripts["bash"], workdir, "kiln", "build", "--out-dir", "=", "d") == ["dist-dir"]
    assert bash_complete(scripts["bash"], workdir, "kiln", "build", "--out-dir", "=") == ["dist-dir"]


def test_bash_completes_files_for_a_path_argument(scripts: dict[str, Path], workdir: Path) -> None:
    assert sorted(bash_complete(scripts["bash"], workdir, "kiln", "build", "")) == ["data.txt", "dist-dir"]


def test_bash_completes_choices(scripts: dict[str, Path], workdir: Path) -> None:
    assert bash_complete(scripts["bash"], workdir, "kiln", "completion", "") == list(SHELLS)


def test_bash_skips_option_values_when_finding_the_subcommand(scripts: dict[str, Path], workdir: Path) -> None:
    # `build` is the value of `--directory` here, not the subcommand.
    assert bash_complete(scripts["bash"], workdir, "kiln", "--directory", "build", "b") == ["build"]
    proposed = bash_complete(scripts["bash"], workdir, "kiln", "--directory", "dist-dir", "build", "--no-cr")
    assert proposed == ["--no-create-gitignore"]


def test_bash_completes_nested_subcommands_and_their_options(tmp_path: Path, workdir: Path) -> None:
    script = tmp_path / "tool.bash"
    script.write_text(render("bash", _nested_parser()))
    assert bash_complete(script, workdir, "tool", "pip", "", function="_tool") == ["install", "list"]
    assert bash_complete(script, workdir, "tool", "pip", "install", "--r", function="_tool") == ["--requirement"]
    assert bash_complete(script, workdir, "tool", "pip", "install", "-r", "da", function="_tool") == ["data.txt"]
    assert bash_complete(script, workdir, "tool", "o", function="_tool") == ["other"]


# --------------------------------------------------------------------------- zsh


def test_zsh_script_is_valid_syntax_and_names_every_subcommand(scripts: dict[str, Path]) -> None:
    _needs("zsh")
    text = scripts["zsh"].read_text()
    assert text.startswith("#compdef kiln\n")
    result = subprocess.run(["zsh", "-n", str(scripts["zsh"])], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in SUBCOMMANDS:
        assert f"'{name}:" in text
        assert f"_kiln_{name}() {{" in text


def test_zsh_script_registers_the_completion_function(scripts: dict[str, Path], tmp_path: Path) -> None:
    _needs("zsh")
    program = 'autoload -U compinit && compinit -u -d "$2" && source "$1" && print -r -- "$_comps[kiln]"'
    result = subprocess.run(
        ["zsh", "-f", "-c", program, "zsh", str(scripts["zsh"]), str(tmp_path / "zcompdump")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "_kiln\n"


# Types a command line and <Tab> into an interactive zsh on a pseudo-terminal, then prints
# the completed line: the prefix sent with Ctrl-A turns the line into a `print` of itself.
ZSH_DRIVER = r"""
zmodload zsh/zpty
zpty shell zsh -f -i
zpty -w -n shell "bindkey -e; PS1='> '; autoload -U compinit; compinit -u -d ${(q)2}; source ${(q)1}"$'\n'
zpty -w -n shell "$3"$'\t'
zpty -w -n shell $'\C-aprint -r -- RES""ULT:\C-e:END\n'
zpty -r shell out '*RESULT:*:END*'
print -r -- "${${out##*RESULT:}%%:END*}"
zpty -d shell
"""


def zsh_complete(script: Path, cwd: Path, line: str) -> str:
    """The command line after typing ``line`` and <Tab> in an interactive zsh."""
    result = subprocess.run(
        ["zsh", "-f", "-c", ZSH_DRIVER, "zsh", str(script), str(cwd.parent / "zcompdump"), line],
        cwd=cwd, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.rstrip("\n")


def test_zsh_completes_subcommands_options_and_directories(scripts: dict[str, Path], workdir: Path) -> None:
    _needs("zsh")
    assert zsh_complete(scripts["zsh"], workdir, "kiln bu") == "kiln build"
    assert zsh_complete(scripts["zsh"], workdir, "kiln build --o") == "kiln build --out-dir"
    assert zsh_complete(scripts["zsh"], workdir, "kiln build --out-dir di") == "kiln build --out-dir dist-dir"
    assert zsh_complete(scripts["zsh"], workdir, "kiln --directory dist-dir b") == "kiln --directory dist-dir build"
    assert zsh_complete(scripts["zsh"], workdir, "kiln completion f") == "kiln completion fish"


def test_zsh_completes_nested_subcommands(tmp_path: Path, workdir: Path) -> None:
    _needs("zsh")
    script = tmp_path / "_tool"
    script.write_text(render("zsh", _nested_parser()))
    result = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert zsh_complete(script, workdir, "tool pip in") == "tool pip install"
    assert zsh_complete(script, workdir, "tool pip install --req") == "tool pip install --requirement"


# --------------------------------------------------------------------------- fish


def fish_complete(script: Path, cwd: Path, line: str) -> list[str]:
    """The candidates (without descriptions) fish offers for the command line ``line``."""
    result = subprocess.run(
        ["fish", "--no-config", "-c", 'source $argv[1]; complete -C $argv[2]', str(script), line],
        cwd=cwd, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    return [entry.split("\t")[0] for entry in result.stdout.splitlines()]


def test_fish_script_is_valid_syntax_and_names_every_subcommand(scripts: dict[str, Path]) -> None:
    _needs("fish")
    result = subprocess.run(["fish", "--no-execute", str(scripts["fish"])], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = scripts["fish"].read_text()
    for name in SUBCOMMANDS:
        assert f"-a '{name}'" in text


def test_fish_completes_subcommands_options_and_directories(scripts: dict[str, Path], workdir: Path) -> None:
    _needs("fish")
    assert fish_complete(scripts["fish"], workdir, "kiln bu") == ["build"]
    assert fish_complete(scripts["fish"], workdir, "kiln build --o") == ["--out-dir"]
    assert fish_complete(scripts["fish"], workdir, "kiln build --out-dir ") == ["dist-dir/"]
    assert sorted(fish_complete(scripts["fish"], workdir, "kiln completion ")) == sorted(SHELLS)


def test_fish_completes_nested_subcommands(tmp_path: Path, workdir: Path) -> None:
    _needs("fish")
    script = tmp_path / "tool.fish"
    script.write_text(render("fish", _nested_parser()))
    assert fish_complete(script, workdir, "tool pip ") == ["install", "list"]
    assert fish_complete(script, workdir, "tool --directory pip pip inst") == ["install"]
    assert fish_complete(script, workdir, "tool pip install --req") == ["--requirement"]


# --------------------------------------------------------------------------- the command


def test_the_command_offers_exactly_the_shells_there_are_scripts_for() -> None:
    completion = next(c for c in describe(build_parser()).subcommands if c.path[-1] == "completion")
    assert completion.positionals[0].choices == SHELLS


def test_help_text_is_expanded_and_flattened() -> None:
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--jobs", default=4, help="run `N` jobs\n(default: %(default)s, 100%% busy)")
    (_, jobs) = describe(parser).options
    assert jobs.help == "run N jobs (default: 4, 100% busy)"


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiln", "completion", "tcsh"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "error: invalid value `tcsh` for `SHELL`" in result.stderr
    assert "hint: choose one of: `bash`, `zsh`, `fish`" in result.stderr


def test_every_shell_script_mentions_every_option_of_every_command() -> None:
    root = describe(build_parser())
    flags = {flag for command in root.walk() for option in command.options for flag in option.flags}
    assert "--out-dir" in flags
    for shell in SHELLS:
        text = render(shell, build_parser())
        for flag in flags:
            # fish names flags without their dashes: `-l out-dir`, `-s o`.
            expected = f"'{flag.lstrip('-')}'" if shell == "fish" else flag
            assert expected in text, (shell, flag)
