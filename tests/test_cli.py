"""The `kiln` command line itself: help, version, dispatch, exit codes, colour and error style."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiln import __version__
from kiln.cli.main import COMMANDS, main

AVAILABLE = [name for name in COMMANDS if importlib.util.find_spec(f"kiln.cli.commands.{name}") is not None]


@pytest.fixture(autouse=True)
def plain_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No colour settings from outside, a scratch working directory, no git config."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version_runs_as_a_module_and_prints_the_version() -> None:
    result = subprocess.run([sys.executable, "-m", "kiln", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout == f"kiln {__version__}\n"
    assert result.stderr == ""


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert out.startswith("usage: kiln")
    for name in AVAILABLE:
        assert name in out
    assert "--directory DIR" in out


@pytest.mark.parametrize("command", AVAILABLE)
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: kiln {command}")


def test_a_command_sets_up_only_its_own_options(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        "code = main(['-q', '--directory', '.', 'cache', 'dir'])\n"
        "others = [m for m in ('kiln.cli.commands.pip', 'kiln.cli.commands.build', "
        "'kiln.cli.commands.init') if m in sys.modules]\n"
        "print('LOADED', others, code, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, "KILN_CACHE_DIR": str(tmp_path)})
    assert "LOADED [] 0" in result.stderr, result.stderr
    assert result.stdout == f"{tmp_path}\n"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "frobnicate")
    assert code == 2
    assert out == ""
    assert err.startswith("error: unknown command `frobnicate`\n")
    assert "usage: kiln [OPTIONS] COMMAND ...\n" in err


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "init", "--frobnicate")
    assert code == 2
    assert err.startswith("error: unexpected option `--frobnicate`\n")


@pytest.mark.parametrize(
    ("words", "message", "hint", "usage"),
    [
        (["biuld"], "unknown command `biuld`", "a similar command exists: `build`", "usage: kiln [OPTIONS] COMMAND ..."),
        (["pip", "instal", "x"], "unknown command `instal`", "a similar command exists: `install`", "usage: kiln pip [OPTIONS] COMMAND ..."),
        (["pip", "install", "--upgade", "x"], "unexpected option `--upgade`", "a similar option exists: `--upgrade`", "usage: kiln pip install [OPTIONS] [PACKAGE ...]"),
        (["pip", "list", "--format", "jsn"], "invalid value `jsn` for `--format`", "a similar value exists: `json`", "usage: kiln pip list [OPTIONS]"),
        (["cache", "clena"], "unknown command `clena`", "a similar command exists: `clean`", "usage: kiln cache [OPTIONS] COMMAND ..."),
    ],
    ids=["command", "pip-command", "option", "value", "cache-command"],
)
def test_a_typo_gets_a_hint_and_the_usage_of_the_command_being_typed(
    capsys: pytest.CaptureFixture[str], words: list[str], message: str, hint: str, usage: str
) -> None:
    code, out, err = run(capsys, *words)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[:2] == [f"error: {message}", f"hint: {hint}"]
    assert usage in lines
    assert lines[-1] == f"For more information, try `{usage.split(' [OPTIONS]', maxsplit=1)[0][len('usage: '):]} --help`."


@pytest.mark.parametrize(
    "words",
    [
        ["pip", "compile", "requirements.in", "--extra-index", "x"],  # --extra-index-url
        ["pip", "install", "--no-dep", "x"],  # --no-deps
        ["build", "--out", "d"],  # --out-dir
        ["--verb", "cache", "dir"],  # --verbose
    ],
    ids=["extra", "no-dep", "out", "global-verb"],
)
def test_abbreviated_options_are_refused(capsys: pytest.CaptureFixture[str], words: list[str]) -> None:
    code, _, err = run(capsys, *words)
    assert code == 2
    assert err.startswith("error: unexpected option `" + next(w for w in words if w.startswith("--")) + "`")


@pytest.mark.parametrize(
    "command",
    [["pip", "freeze"], ["completion", "bash"], ["pip", "list"], ["cache", "dir"]],
    ids=["freeze", "completion", "list", "cache-dir"],
)
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(tmp_path: Path, command: list[str]) -> None:
    """`kiln pip freeze | head -1`: no traceback, no message, a failure status."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    info = next((venv / "lib").glob("python3*/site-packages")) / "listed-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: listed\nVersion: 1.0\n")
    (info / "RECORD").write_text("")
    args = [*command, "--python", str(venv)] if command[0] == "pip" else command
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before kiln writes its first line
    try:
        result = subprocess.run([sys.executable, "-m", "kiln", *args], stdout=writer, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(writer)
    assert result.stderr == ""
    assert result.returncode == 1


def test_no_command_prints_help_to_stderr_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("usage: kiln")


def test_directory_changes_the_working_directory_first(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    code, _, err = run(capsys, "--directory", "elsewhere", "init", "--vcs", "none", "proj")
    assert code == 0
    assert (tmp_path / "elsewhere" / "proj" / "pyproject.toml").is_file()
    assert err == f"Initialized project `proj` at `{tmp_path / 'elsewhere' / 'proj'}`\n"


def test_directory_option_also_works_after_the_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    assert run(capsys, "init", "--directory", "elsewhere", "--vcs", "none", "proj")[0] == 0
    assert (tmp_path / "elsewhere" / "proj" / "pyproject.toml").is_file()


def test_missing_directory_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--directory", "nowhere", "init")
    assert code == 2
    assert out == ""
    assert err.startswith("error: cannot change to directory `nowhere`: ")


def test_user_error_is_error_and_hint_lines_with_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    code, out, err = run(capsys, "init")
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"error: `{tmp_path}` already has a `pyproject.toml`"
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2


def _failing_init(env: dict[str, str], cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    (cwd / "pyproject.toml").write_text("")
    return subprocess.run(
        [sys.executable, "-m", "kiln", *extra, "init"], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_errors_from_a_real_process_have_no_traceback(tmp_path: Path) -> None:
    result = _failing_init(dict(os.environ), tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_force_color_styles_the_error_prefix(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"FORCE_COLOR": "1"}
    result = _failing_init(env, tmp_path)
    assert result.stderr.startswith("\x1b[1;31merror\x1b[0m: ")


def test_no_color_env_wins_over_force_color(tmp_path: Path) -> None:
    env = dict(os.environ) | {"FORCE_COLOR": "1", "NO_COLOR": "1"}
    result = _failing_init(env, tmp_path)
    assert result.stderr.startswith("error: ")
    assert "\x1b[" not in result.stderr


def test_no_color_flag_turns_colour_off(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"FORCE_COLOR": "1"}
    result = _failing_init(env, tmp_path, "--no-color")
    assert result.stderr.startswith("error: ")
    assert "\x1b[" not in result.stderr


@pytest.mark.parametrize(
    ("flags", "environ", "coloured"),
    [
        (("--color", "always"), {"NO_COLOR": "1"}, True),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
        (("--color", "auto"), {"FORCE_COLOR": "1"}, True),
        (("--color", "auto"), {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
    ],
    ids=["always-beats-no-color", "never-beats-force-color", "auto-force", "auto-no-color"],
)
def test_the_color_option_decides_over_the_environment(
    tmp_path: Path, flags: tuple[str, ...], environ: dict[str, str], coloured: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | environ
    result = _failing_init(env, tmp_path, *flags)
    assert result.stderr.startswith("\x1b[1;31merror\x1b[0m: " if coloured else "error: ")


def test_cache_dir_option_puts_the_cache_where_it_says(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "ignored"))  # restored after the test
    code, out, _ = run(capsys, "--cache-dir", "here", "cache", "dir")
    assert code == 0
    assert out == f"{tmp_path / 'here'}\n"
    code, out, _ = run(capsys, "cache", "dir", "--cache-dir", str(tmp_path / "there"))
    assert out == f"{tmp_path / 'there'}\n"


def test_no_progress_turns_progress_off_even_on_a_terminal() -> None:
    from kiln.cli.ui import UI

    class Terminal:
        def isatty(self) -> bool:
            return True

    assert UI(err=Terminal()).progress  # type: ignore[arg-type]
    assert not UI(err=Terminal(), progress=False).progress  # type: ignore[arg-type]
    assert not UI(-1, err=Terminal()).progress  # type: ignore[arg-type]


def test_quiet_silences_progress_but_not_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "-q", "init", "--vcs", "none", "a") == (0, "", "")
    code, _, err = run(capsys, "-q", "init", "a")
    assert code == 1
    assert err.startswith("error: ")


@pytest.mark.parametrize("other_thread", [False, True], ids=["alone", "another-thread-runs"])
def test_the_command_ends_without_interpreter_teardown_unless_a_thread_still_runs(
    tmp_path: Path, other_thread: bool
) -> None:
    marker = tmp_path / "teardown-ran"
    script = (
        "import atexit, sys, threading, time\n"
        "from kiln.cli.main import finish\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').close())\n"
        f"if {other_thread}:\n"
        "    threading.Thread(target=time.sleep, args=(0.2,)).start()\n"
        "print('x' * 100_000)\n"
        "finish(3)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 3
    assert result.stdout == "x" * 100_000 + "\n"  # flushed before the process ended
    assert marker.exists() == other_thread  # exit handlers run only on the normal way out


def test_every_positional_argument_of_every_command_has_help() -> None:
    import argparse

    from kiln.cli.main import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    walk(child)
            elif not action.option_strings and not action.help:
                missing.append(f"{parser.prog} {action.metavar or action.dest}")

    walk(build_parser())
    assert missing == []
