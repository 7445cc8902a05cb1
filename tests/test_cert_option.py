"""`kiln pip --cert FILE` (issue #19): the PEM bundle of certificate authorities to trust.

Run for real: the `kiln` CLI in a subprocess against a loopback HTTPS index whose certificate
is self-signed (made by `openssl`), so that only a bundle holding it lets kiln in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
from indexserver import IndexServer, build_wheel, self_signed_tls
from pip_helpers import base_env, kiln, make_venv, ok


@pytest.fixture(scope="module")
def https_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IndexServer, Path]]:
    """The HTTPS index, and the PEM file of its certificate."""
    root = tmp_path_factory.mktemp("tls")
    context, cert = self_signed_tls(root)
    server = IndexServer(tls=context)
    server.add(build_wheel(root, "demo", "1.0"))
    server.add(build_wheel(root, "demo", "2.0"))
    with server:
        yield server, cert


def compile_demo(tmp_path: Path, url: str, env: dict[str, str], *args: str) -> tuple[int, str]:
    (tmp_path / "requirements.in").write_text("demo\n", encoding="utf-8")
    result = kiln("pip", *args, "requirements.in", "--index-url", url, env=env, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout + result.stderr


def test_cert_trusts_the_bundle_given(
    tmp_path: Path, https_index: tuple[IndexServer, Path]
) -> None:
    server, cert = https_index
    env = base_env(tmp_path / "cache")
    env.pop("SSL_CERT_FILE", None)
    env.pop("SSL_CERT_DIR", None)
    status, text = compile_demo(tmp_path, server.url, env, "compile")
    assert status == 1 and "certificate" in text.lower()
    status, text = compile_demo(tmp_path, server.url, env, "compile", "--cert", str(cert))
    assert status == 0, text
    assert "demo==2.0" in text
    # Before the command's name too, as uv takes it; a relative path.
    (tmp_path / "ca.pem").write_bytes(cert.read_bytes())
    status, text = compile_demo(tmp_path, server.url, env, "--cert", "ca.pem", "compile")
    assert status == 0, text


def test_cert_wins_over_ssl_cert_file(tmp_path: Path, https_index: tuple[IndexServer, Path]) -> None:
    server, cert = https_index
    env = base_env(tmp_path / "cache")
    trusted = {**env, "SSL_CERT_FILE": str(cert)}
    status, text = compile_demo(tmp_path, server.url, trusted, "compile")
    assert status == 0, text
    # `--cert` replaces the variable's bundle: certifi's does not hold the test's authority.
    status, text = compile_demo(tmp_path, server.url, trusted, "compile", "--cert", certifi.where())
    assert status == 1 and "certificate" in text.lower()
    untrusted = {**env, "SSL_CERT_FILE": certifi.where()}
    status, text = compile_demo(tmp_path, server.url, untrusted, "compile", "--cert", str(cert))
    assert status == 0, text


def test_install_and_list_outdated_use_the_cert(
    tmp_path: Path, https_index: tuple[IndexServer, Path]
) -> None:
    server, cert = https_index
    env = base_env(tmp_path / "cache")
    env.pop("SSL_CERT_FILE", None)
    venv = make_venv(tmp_path / "venv", env)
    ok(kiln("pip", "install", "--python", venv, "--cert", cert, "--index-url", server.url,
            "demo==1.0", env=env))
    listing = ["pip", "list", "--python", venv, "--outdated", "--index-url", server.url]
    refused = kiln(*listing, env=env)
    assert refused.returncode == 1 and "certificate" in refused.stderr.lower()
    outdated = ok(kiln(*listing, "--cert", cert, env=env))
    assert "demo" in outdated.stdout and "2.0" in outdated.stdout


def test_a_cert_that_is_not_a_bundle_is_an_error_naming_it(
    tmp_path: Path, https_index: tuple[IndexServer, Path]
) -> None:
    server, _cert = https_index
    env = base_env(tmp_path / "cache")
    status, text = compile_demo(tmp_path, server.url, env, "compile", "--cert", "missing.pem")
    assert status == 2
    assert "`--cert`: `missing.pem` is not a file" in text
    (tmp_path / "empty.pem").write_text("no certificates here\n", encoding="utf-8")
    status, text = compile_demo(tmp_path, server.url, env, "compile", "--cert", "empty.pem")
    assert status == 1
    assert "cannot load the trusted certificates from `--cert`" in text
    assert "empty.pem" in text and "hint:" in text
