"""`--keyring-provider` (issue #19): which keyring a missing index password is asked from.

Run for real: the `kiln` CLI in a subprocess against a loopback index that wants Basic
credentials, with a fake `keyring` executable (`keyring_helpers`) first on `PATH`, which
records what it was asked. The password must reach the index and nothing else: not the
output, not the messages, not the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from keyring_helpers import calls, fake_keyring, path_with
from pip_helpers import base_env, kiln, kiln_project

from kiln.core.index.keyring import services

USER = "alice"
PASSWORD = "k3yring-s3cret"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    server = IndexServer(auth=(USER, PASSWORD))
    server.add(build_wheel(tmp_path_factory.mktemp("wheels"), "demo", "1.0"))
    with server:
        yield server


def env_for(tmp_path: Path, keyring: Path, **extra: str) -> dict[str, str]:
    env = base_env(tmp_path / "cache")
    env["PATH"] = path_with(keyring, env)
    env["NETRC"] = str(tmp_path / "no-netrc")
    # `auto` (the default) would ask the `keyring` package of the test environment.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    for name in ("UV_KEYRING_PROVIDER", "KILN_KEYRING_PROVIDER"):
        env.pop(name, None)
    env.update(extra)
    return env


def with_user(url: str) -> str:
    return url.replace("http://", f"http://{USER}@")


def compile_demo(
    tmp_path: Path, index_url: str, env: dict[str, str], *args: str
) -> tuple[int, str]:
    """`kiln pip compile` of `demo` into `pylock.toml`: the status and all the text written."""
    (tmp_path / "requirements.in").write_text("demo\n", encoding="utf-8")
    result = kiln("pip", "compile", "requirements.in", "-o", "pylock.toml",
                  "--index-url", index_url, *args, env=env, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    lock = tmp_path / "pylock.toml"
    text = result.stdout + result.stderr + (lock.read_text() if lock.is_file() else "")
    return result.returncode, text


def test_services_are_the_url_then_the_host_then_scheme_and_host() -> None:
    assert services("http://u:p@Example.org:8080/simple/") == [
        "http://Example.org:8080/simple/", "example.org:8080", "http://example.org:8080"]
    assert services("https://example.org:443/simple") == ["https://example.org:443/simple", "example.org"]


def test_subprocess_asks_the_keyring_command_for_the_index_url_and_user(
    tmp_path: Path, index: IndexServer
) -> None:
    keyring = fake_keyring(tmp_path / "bin", {(index.url, USER): PASSWORD})
    env = env_for(tmp_path, keyring)
    status, text = compile_demo(tmp_path, with_user(index.url), env, "--keyring-provider", "subprocess")
    assert status == 0, text
    assert 'name = "demo"' in (tmp_path / "pylock.toml").read_text()
    assert calls(keyring) == [["get", index.url, USER]]  # asked once for the whole run
    assert PASSWORD not in text


def test_the_host_is_asked_when_the_url_has_no_entry(tmp_path: Path, index: IndexServer) -> None:
    host = f"127.0.0.1:{index.port}"
    keyring = fake_keyring(tmp_path / "bin", {(host, USER): PASSWORD})
    env = env_for(tmp_path, keyring, UV_KEYRING_PROVIDER="subprocess")
    status, text = compile_demo(tmp_path, with_user(index.url), env)
    assert status == 0, text
    assert calls(keyring) == [["get", index.url, USER], ["get", host, USER]]
    assert PASSWORD not in text


@pytest.mark.parametrize(
    ("args", "variables"),
    [
        ((), {}),  # the default asks no `keyring` command
        (("--keyring-provider", "disabled"), {"UV_KEYRING_PROVIDER": "subprocess"}),
        ((), {"KILN_KEYRING_PROVIDER": "disabled", "UV_KEYRING_PROVIDER": "subprocess"}),
    ],
)
def test_the_keyring_command_is_run_only_with_subprocess(
    tmp_path: Path, index: IndexServer, args: tuple[str, ...], variables: dict[str, str]
) -> None:
    keyring = fake_keyring(tmp_path / "bin", {(index.url, USER): PASSWORD})
    env = env_for(tmp_path, keyring, **variables)
    status, text = compile_demo(tmp_path, with_user(index.url), env, *args)
    assert status == 1
    assert calls(keyring) == []
    assert "answered 401" in text and "`--keyring-provider subprocess`" in text  # the hint


def test_without_a_user_name_only_an_always_authenticating_index_asks_for_one(
    tmp_path: Path, index: IndexServer
) -> None:
    keyring = fake_keyring(tmp_path / "bin", {(index.url, USER): PASSWORD})
    env = env_for(tmp_path, keyring)
    status, _text = compile_demo(tmp_path, index.url, env, "--keyring-provider", "subprocess")
    assert status == 1
    assert calls(keyring) == []  # as uv: no user name, no `keyring` call

    # The provider from a configuration file; the index from one too, always authenticated.
    (tmp_path / "kiln.toml").write_text(
        f'keyring-provider = "subprocess"\n\n[[index]]\nurl = "{index.url}"\n'
        'default = true\nauthenticate = "always"\n',
        encoding="utf-8",
    )
    (tmp_path / "requirements.in").write_text("demo\n", encoding="utf-8")
    result = kiln("pip", "compile", "requirements.in", "-o", "pylock.toml", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls(keyring)[0] == ["get", index.url, "--mode", "creds"]
    assert PASSWORD not in result.stderr + (tmp_path / "pylock.toml").read_text()


def test_a_wrong_password_from_the_keyring_fails_without_showing_it(
    tmp_path: Path, index: IndexServer
) -> None:
    wrong = "not-the-Pa55word"
    keyring = fake_keyring(tmp_path / "bin", {(index.url, USER): wrong})
    env = env_for(tmp_path, keyring)
    status, text = compile_demo(tmp_path, with_user(index.url), env, "-v", "--keyring-provider", "subprocess")
    assert status == 1
    assert calls(keyring)
    assert wrong not in text


def test_kiln_lock_asks_the_keyring_for_the_projects_index(tmp_path: Path, index: IndexServer) -> None:
    keyring = fake_keyring(tmp_path / "bin", {(index.url, USER): PASSWORD})
    env = env_for(tmp_path, keyring)
    root = kiln_project(tmp_path / "project", "app", dependencies=("demo",))
    result = kiln("lock", "--default-index", with_user(index.url), "--keyring-provider",
                  "subprocess", env=env, cwd=root)
    assert result.returncode == 0, result.stderr
    lock = (root / "pylock.toml").read_text()
    assert 'name = "demo"' in lock
    assert PASSWORD not in lock + result.stdout + result.stderr
    assert calls(keyring) == [["get", index.url, USER]]


def test_bad_provider_values_are_named(tmp_path: Path, index: IndexServer) -> None:
    keyring = fake_keyring(tmp_path / "bin", {})
    env = env_for(tmp_path, keyring)
    result = kiln("pip", "compile", "-", "--keyring-provider", "always", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "--keyring-provider" in result.stderr
    status, text = compile_demo(
        tmp_path, with_user(index.url), {**env, "KILN_KEYRING_PROVIDER": "keychain"})
    assert status == 1
    assert "`KILN_KEYRING_PROVIDER`: unknown keyring provider `keychain`" in text
    assert "hint:" in text
    (tmp_path / "kiln.toml").write_text('keyring-provider = 1\n', encoding="utf-8")
    status, text = compile_demo(tmp_path, with_user(index.url), env)
    assert status == 1 and "`keyring-provider` must be a string" in text


def test_the_projects_tool_uv_table_sets_the_provider_and_the_option_wins(
    tmp_path: Path, index: IndexServer
) -> None:
    keyring = fake_keyring(tmp_path / "bin", {(index.url, USER): PASSWORD})
    env = env_for(tmp_path, keyring)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\n\n[tool.uv]\nkeyring-provider = "subprocess"\n',
        encoding="utf-8",
    )
    status, text = compile_demo(tmp_path, with_user(index.url), env, "--keyring-provider", "disabled")
    assert status == 1 and calls(keyring) == []
    status, text = compile_demo(tmp_path, with_user(index.url), env)
    assert status == 0, text
    assert calls(keyring) == [["get", index.url, USER]]
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\n\n[tool.uv]\nkeyring-provider = "native"\n',
        encoding="utf-8",
    )
    status, text = compile_demo(tmp_path, with_user(index.url), env)
    assert status == 1
    assert "`tool.uv.keyring-provider`: unknown keyring provider `native`" in text
