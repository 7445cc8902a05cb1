"""Global options (issue #19): one definition, accepted before and after the command name.

`--offline`, `--no-cache`, `--project`, `--allow-insecure-host` and `--system-certs` are run
for real: the `kiln` CLI in a subprocess against loopback indexes (plain HTTP, and HTTPS with
a self-signed certificate made by `openssl`).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, self_signed_tls
from pip_helpers import base_env, kiln, make_venv, ok, run_python
from wheelbuilder import make_wheel

from kiln.cli.globalopts import merge_global_options
from kiln.cli.main import build_parser
from kiln.core.index.tls import _make, is_insecure_host


def parse(*words: str) -> dict[str, object]:
    args = build_parser().parse(list(words))
    merge_global_options(args)
    return vars(args)


# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        ("--offline", "pip", "install", "x"),
        ("pip", "--offline", "install", "x"),
        ("pip", "install", "--offline", "x"),
    ],
)
def test_a_global_option_means_the_same_wherever_it_is(words: tuple[str, ...]) -> None:
    args = parse(*words)
    assert args["offline"] is True
    assert not [key for key in args if "@" in key]


def test_counts_add_up_lists_collect_and_the_last_value_wins() -> None:
    args = parse(
        "-v", "--color", "always", "--allow-insecure-host", "a",
        "pip", "-v", "install", "-v", "-q", "--color", "never",
        "--allow-insecure-host", "b:8443", "--config-file", "kiln.toml", "x",
    )
    assert (args["verbose"], args["quiet"]) == (3, 1)
    assert args["color"] == "never"
    assert args["allow_insecure_host"] == ["a", "b:8443"]
    assert args["config_file"] == Path("kiln.toml")


def test_defaults_hold_when_no_global_option_is_given() -> None:
    args = parse("lock")
    assert args["offline"] is False and args["no_cache"] is False
    assert args["allow_insecure_host"] == [] and args["project"] is None
    assert (args["verbose"], args["quiet"], args["color"]) == (0, 0, "auto")


def test_every_command_accepts_every_global_option() -> None:
    for words in (["cache", "dir"], ["init"], ["publish"], ["pip", "freeze"], ["venv"]):
        args = parse(*words, "--offline", "--no-config", "--project", "p", "-n")
        assert (args["offline"], args["no_config"], args["project"], args["no_cache"]) == (
            True, True, "p", True,
        )


def test_a_value_option_before_the_command_does_not_hide_it(tmp_path: Path) -> None:
    result = kiln("--cache-dir", tmp_path / "c", "--config-file", "x.toml", "cache", "dir",
                  env=base_env(tmp_path / "cache"))
    assert ok(result).stdout.strip() == str(tmp_path / "c")


# -- behaviour -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    root = tmp_path_factory.mktemp("wheels")
    server = IndexServer()
    server.add(make_wheel(root, "tiny", "1.0", {"tiny/__init__.py": "VALUE = 1\n"}))
    with server:
        yield server


@pytest.mark.parametrize("where", ["before", "after"])
def test_offline_before_or_after_the_command_uses_the_cache_only(
    tmp_path: Path, index: IndexServer, where: str
) -> None:
    env = base_env(tmp_path / "cache")
    venv = make_venv(tmp_path / "venv", env)
    command = ["pip", "install", "--python", venv, "--index-url", index.url, "tiny"]
    offline = ["--offline", *command] if where == "before" else [*command, "--offline"]
    seen = len(index.requests())
    failed = kiln(*offline, env=env)
    assert failed.returncode == 1
    assert "offline mode is on" in failed.stderr and "Traceback" not in failed.stderr
    assert len(index.requests()) == seen  # nothing was asked
    ok(kiln(*command, env=env))  # fills the cache
    other = make_venv(tmp_path / "other", env)
    seen = len(index.requests())
    offline = [str(other) if word == venv else word for word in offline]
    ok(kiln(*offline, env=env))
    assert len(index.requests()) == seen
    assert run_python(other, "import tiny; print(tiny.VALUE)") == "1"


def test_no_cache_uses_a_temporary_cache_removed_at_exit(
    tmp_path: Path, index: IndexServer
) -> None:
    env = base_env(tmp_path / "cache")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env["TMPDIR"] = str(temp)
    venv = make_venv(tmp_path / "venv", env)
    before = set((tmp_path / "cache").rglob("*"))
    ok(kiln("-n", "pip", "install", "--python", venv, "--index-url", index.url, "tiny", env=env))
    assert run_python(venv, "import tiny; print(tiny.VALUE)") == "1"
    assert set((tmp_path / "cache").rglob("*")) == before  # the usual cache is not written
    assert list(temp.iterdir()) == []  # the temporary one is gone


def test_project_locks_another_directory_without_changing_the_working_directory(
    tmp_path: Path, index: IndexServer
) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["tiny"]\n'
        'requires-python = ">=3.8"\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "requirements.txt").write_text("")
    env = base_env(tmp_path / "cache")
    ok(kiln("lock", "--project", "../app", "--index-url", index.url,
            env=env, cwd=elsewhere))
    assert "tiny" in (project / "pylock.toml").read_text()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["requirements.txt"]
    check = kiln("--project", project, "lock", "--check", "--index-url", index.url, env=env)
    assert ok(check).stderr.strip().endswith("is up to date")


# -- certificates ----------------------------------------------------------------------------


def test_insecure_hosts_match_by_name_port_and_scheme() -> None:
    env = {"KILN_INSECURE_HOST": "a.test b.test:8443 https://c.test"}
    assert is_insecure_host("https://a.test:99/simple", env)
    assert is_insecure_host("https://b.test:8443/x", env)
    assert not is_insecure_host("https://b.test/x", env)
    assert is_insecure_host("https://c.test/x", env)
    assert not is_insecure_host("http://c.test/x", env)
    assert not is_insecure_host("https://d.test/x", env)
    assert not is_insecure_host("https://a.test/x", {})


def test_system_certs_load_the_operating_systems_certificates() -> None:
    import certifi

    system = _make("", "", "1").get_ca_certs()
    assert system == ssl.create_default_context().get_ca_certs()
    bundled = ssl.create_default_context(cafile=certifi.where()).get_ca_certs()
    assert _make("", "", "").get_ca_certs() == bundled


@pytest.fixture(scope="module")
def https_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """The index above, over HTTPS with a self-signed certificate for 127.0.0.1."""
    root = tmp_path_factory.mktemp("tls")
    context, _cert = self_signed_tls(root)
    server = IndexServer(tls=context)
    server.add(make_wheel(root, "tiny", "1.0", {"tiny/__init__.py": "VALUE = 1\n"}))
    with server:
        yield server


def test_an_unverified_certificate_is_refused_unless_its_host_is_allowed(
    tmp_path: Path, https_index: IndexServer
) -> None:
    env = base_env(tmp_path / "cache")
    venv = make_venv(tmp_path / "venv", env)
    command = ["pip", "install", "--python", venv, "--index-url", https_index.url, "tiny"]
    refused = kiln(*command, env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "certificate" in refused.stderr.lower()
    other = kiln(*command, "--allow-insecure-host", "localhost", env=env)
    assert other.returncode == 1  # another host's entry changes nothing
    ok(kiln(*command, "--allow-insecure-host", f"127.0.0.1:{https_index.port}", env=env))
    assert run_python(venv, "import tiny; print(tiny.VALUE)") == "1"
