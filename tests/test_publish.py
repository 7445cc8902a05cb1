"""`kiln publish`: validation, credentials, check URL, retries, against a real pypiserver."""

from __future__ import annotations

import email.parser
import hashlib
import http.server
import io
import os
import subprocess
import sys
import tarfile
import textwrap
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from keyring_helpers import calls, fake_keyring, path_with
from pypiserver_helpers import free_port, running_pypiserver

from kiln.errors import KilnError
from kiln.publish.credentials import (
    CredentialOptions,
    check_url_credentials,
    env_name,
    resolve_credentials,
)
from kiln.publish.files import discover
from kiln.publish.form import form_fields
from kiln.publish.session import validate
from kiln.publish.target import PYPI_UPLOAD_URL, resolve_target

USER = "alice"
PASSWORD = "s3cret-Pa55word"


# --- helpers --------------------------------------------------------------------------------


def kiln(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "NO_COLOR": "1",
        "KILN_PUBLISH_RETRY_DELAY": "0.01",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "NETRC": str(cwd / "no-netrc"),
        **env,
    }
    for key in ("KILN_PUBLISH_TOKEN", "KILN_PUBLISH_USERNAME", "KILN_PUBLISH_PASSWORD"):
        if key not in env:
            environment.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "kiln", "publish", *args],
        cwd=cwd, capture_output=True, text=True, env=environment, stdin=subprocess.DEVNULL,
        timeout=120,
    )


def make_project(
    root: Path, name: str, version: str = "1.0", *, value: int = 42, readme: str | None = None
) -> Path:
    """A small flit_core project built into ``root/dist`` (wheel and sdist)."""
    module = name.replace("-", "_")
    root.mkdir(parents=True, exist_ok=True)
    (root / module).mkdir(exist_ok=True)
    (root / module / "__init__.py").write_text(f'"""Demo."""\nVALUE = {value}\n')
    (root / "README.md").write_text(readme or f"# {name}\n\nA *demo* project.\n")
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["flit_core>=3.9"]
        build-backend = "flit_core.buildapi"

        [project]
        name = "{name}"
        version = "{version}"
        description = "A demo for kiln publish"
        readme = "README.md"
        requires-python = ">=3.9"
        keywords = ["demo", "kiln"]
        dependencies = []

        [project.urls]
        Homepage = "https://example.org/{name}"
    """))
    (root / "dist").mkdir(exist_ok=True)
    subprocess.run(
        [sys.executable, "-c",
         "import flit_core.buildapi as b; b.build_wheel('dist'); b.build_sdist('dist')"],
        cwd=root, check=True, capture_output=True,
    )
    return root


@dataclass
class PyPIServer:
    port: int
    packages: Path

    @property
    def upload_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def simple_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"


@pytest.fixture(scope="session")
def pypiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PyPIServer]:
    root = tmp_path_factory.mktemp("pypiserver")
    with running_pypiserver(
        root, {USER: PASSWORD}, authenticate="update,download,list"
    ) as (port, packages):
        yield PyPIServer(port, packages)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        """The multipart form fields (the file part under its field name, as its filename)."""
        raw = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode() + self.body
        message = email.parser.BytesParser().parsebytes(raw)
        fields: dict[str, list[str]] = {}
        for part in message.get_payload():  # type: ignore[union-attr]
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            value = filename if filename else payload.decode("utf-8")
            fields.setdefault(str(name), []).append(value)
            if filename:
                fields.setdefault("_content", []).append(payload.hex())
        return fields


@dataclass
class Loopback:
    """A tiny upload endpoint that answers with scripted statuses and logs every request."""

    url: str
    statuses: list[int] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    state = Loopback("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append(
                Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = state.statuses.pop(0) if state.statuses else 200
            payload = b"busy, try later" if status >= 500 else b"OK"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            state.requests.append(Recorded("GET", self.path, {}, b""))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/legacy/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built project that tests publish only to loopback servers (never changed)."""
    return make_project(tmp_path_factory.mktemp("demo"), "kiln-loop-demo", "2.0")


def auth_args() -> list[str]:
    return ["-u", USER, "-p", PASSWORD]


# --- against a real pypiserver ---------------------------------------------------------------


def test_published_project_installs_with_pip_and_imports(pypiserver: PyPIServer, tmp_path: Path):
    project = make_project(tmp_path / "proj", "kiln-pub-install", "1.0", value=7)
    result = kiln(project, "--publish-url", pypiserver.upload_url, *auth_args())
    assert result.returncode == 0, result.stderr
    assert "Publishing 2 files to " in result.stderr
    assert "Uploaded kiln_pub_install-1.0-py3-none-any.whl" in result.stderr
    assert "Uploaded kiln_pub_install-1.0.tar.gz" in result.stderr
    assert sorted(p.name for p in pypiserver.packages.glob("kiln_pub_install*")) == [
        "kiln_pub_install-1.0-py3-none-any.whl", "kiln_pub_install-1.0.tar.gz",
    ]
    # Byte-identical to the local files.
    for local in (project / "dist").iterdir():
        assert (pypiserver.packages / local.name).read_bytes() == local.read_bytes()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    index = f"http://{USER}:{PASSWORD}@127.0.0.1:{pypiserver.port}/simple/"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--no-cache-dir", "--index-url", index, "kiln-pub-install==1.0"],
        check=True, capture_output=True,
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import kiln_pub_install; print(kiln_pub_install.VALUE)"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "7"


def test_published_project_installs_with_kiln_pip_from_the_server(pypiserver: PyPIServer, tmp_path: Path):
    project = make_project(tmp_path / "proj", "kiln-pub-kilnpip", "1.0", value=11)
    assert kiln(project, "--publish-url", pypiserver.upload_url, *auth_args()).returncode == 0

    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "KILN_INDEX"))}
    made = subprocess.run([sys.executable, "-m", "kiln", "venv", "-q", str(venv)], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    # Credentials come from kiln's per-index variables, not the URL, and are never printed.
    env.update(KILN_INDEX_LOCAL_USERNAME=USER, KILN_INDEX_LOCAL_PASSWORD=PASSWORD)
    index = f"local=http://127.0.0.1:{pypiserver.port}/simple/"
    installed = subprocess.run(
        [sys.executable, "-m", "kiln", "pip", "install", "--python", str(venv / "bin" / "python"),
         "--default-index", index, "kiln-pub-kilnpip==1.0"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stderr
    assert "+ kiln-pub-kilnpip==1.0" in installed.stderr
    assert PASSWORD not in installed.stdout + installed.stderr
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import kiln_pub_kilnpip; print(kiln_pub_kilnpip.VALUE)"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "11"


def test_wrong_password_fails_without_showing_it(pypiserver: PyPIServer, tmp_path: Path):
    project = make_project(tmp_path / "proj", "kiln-pub-badauth")
    wrong = "Wr0ng-secret-value"
    result = kiln(project, "-v", "--publish-url", pypiserver.upload_url, "-u", USER, "-p", wrong)
    assert result.returncode == 1
    assert wrong not in result.stdout + result.stderr
    assert "403" in result.stderr
    assert "hint: the credentials are wrong" in result.stderr
    # The first refusal stops the run: the sdist is not tried with the same bad credentials.
    assert "not uploading `kiln_pub_badauth-1.0.tar.gz`" in result.stderr
    assert not list(pypiserver.packages.glob("kiln_pub_badauth*"))


def test_password_in_the_url_never_appears_in_output(pypiserver: PyPIServer, tmp_path: Path):
    project = make_project(tmp_path / "proj", "kiln-pub-urlauth")
    wrong = "Url-embedded-secret"
    url = f"http://{USER}:{wrong}@127.0.0.1:{pypiserver.port}/"
    result = kiln(project, "-v", "--publish-url", url)
    assert result.returncode == 1
    assert wrong not in result.stdout + result.stderr
    assert f"http://{USER}:****@127.0.0.1:{pypiserver.port}/" in result.stderr
    good = kiln(project, "--publish-url", f"http://{USER}:{PASSWORD}@127.0.0.1:{pypiserver.port}/")
    assert good.returncode == 0, good.stderr
    assert PASSWORD not in good.stderr


def test_republish_with_check_url_skips_identical_files(pypiserver: PyPIServer, tmp_path: Path):
    project = make_project(tmp_path / "proj", "kiln-pub-again")
    args = ["--publish-url", pypiserver.upload_url, "--check-url", pypiserver.simple_url, *auth_args()]
    first = kiln(project, *args)
    assert first.returncode == 0, first.stderr
    assert "2 uploaded" in first.stderr
    second = kiln(project, *args)
    assert second.returncode == 0, second.stderr
    assert "Skipped kiln_pub_again-1.0-py3-none-any.whl: the index already has this exact file" in second.stderr
    assert "2 skipped" in second.stderr
    assert "Uploading" not in second.stderr


def test_different_file_under_a_published_name_is_refused(pypiserver: PyPIServer, tmp_path: Path):
    original = make_project(tmp_path / "one", "kiln-pub-clash", value=1)
    assert kiln(original, "--publish-url", pypiserver.upload_url, *auth_args()).returncode == 0
    changed = make_project(tmp_path / "two", "kiln-pub-clash", value=2)

    checked = kiln(changed, "--publish-url", pypiserver.upload_url, "--check-url",
                   pypiserver.simple_url, *auth_args())
    assert checked.returncode == 1
    assert "already has different files under these names; nothing was uploaded" in checked.stderr
    assert "`kiln_pub_clash-1.0-py3-none-any.whl`: the index has a different file" in checked.stderr
    assert "Uploading" not in checked.stderr

    unchecked = kiln(changed, "--publish-url", pypiserver.upload_url, *auth_args())
    assert unchecked.returncode == 1
    assert "409 Conflict" in unchecked.stderr
    assert "already exists" in unchecked.stderr
    assert "2 failed" in unchecked.stderr
    wheel = pypiserver.packages / "kiln_pub_clash-1.0-py3-none-any.whl"
    assert wheel.read_bytes() == (original / "dist" / wheel.name).read_bytes()


def test_index_option_takes_publish_url_and_credentials_from_config(
    pypiserver: PyPIServer, tmp_path: Path
):
    project = make_project(tmp_path / "proj", "kiln-pub-index")
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(textwrap.dedent(f"""
            [[tool.kiln.index]]
            name = "team-local"
            url = "{pypiserver.simple_url}"
            publish-url = "{pypiserver.upload_url}"
        """))
    env = {"KILN_INDEX_TEAM_LOCAL_USERNAME": USER, "KILN_INDEX_TEAM_LOCAL_PASSWORD": PASSWORD}
    result = kiln(project, "--index", "team-local", **env)
    assert result.returncode == 0, result.stderr
    assert f"Publishing 2 files to {pypiserver.upload_url}" in result.stderr
    assert (pypiserver.packages / "kiln_pub_index-1.0.tar.gz").is_file()
    # The index's `url` is the default check URL: publishing again skips both files.
    again = kiln(project, "--index", "team-local", **env)
    assert again.returncode == 0, again.stderr
    assert "2 skipped" in again.stderr


# --- against a loopback server ---------------------------------------------------------------


def test_upload_sends_the_legacy_form_with_metadata_and_digests(demo: Path, loopback: Loopback):
    result = kiln(demo, "-v", "--publish-url", loopback.url, "--token", "pypi-AgEtoken")
    assert result.returncode == 0, result.stderr
    assert "credentials from --token (user `__token__`)" in result.stderr
    assert "pypi-AgEtoken" not in result.stdout + result.stderr
    assert [r.method for r in loopback.requests] == ["POST", "POST"]
    wheel_request = loopback.requests[0]
    assert wheel_request.headers["authorization"].startswith("Basic ")
    form = wheel_request.form()
    wheel = demo / "dist" / "kiln_loop_demo-2.0-py3-none-any.whl"
    data = wheel.read_bytes()
    assert form[":action"] == ["file_upload"]
    assert form["protocol_version"] == ["1"]
    assert form["filetype"] == ["bdist_wheel"]
    assert form["pyversion"] == ["py3"]
    assert form["name"] == ["kiln-loop-demo"]
    assert form["version"] == ["2.0"]
    assert form["summary"] == ["A demo for kiln publish"]
    assert form["requires_python"] == [">=3.9"]
    assert form["description_content_type"] == ["text/markdown"]
    assert form["keywords"] == ["demo,kiln"]
    assert form["project_urls"] == ["Homepage, https://example.org/kiln-loop-demo"]
    assert form["sha256_digest"] == [hashlib.sha256(data).hexdigest()]
    assert form["blake2_256_digest"] == [hashlib.blake2b(data, digest_size=32).hexdigest()]
    assert form["content"] == [wheel.name]
    assert form["_content"] == [data.hex()]
    sdist_form = loopback.requests[1].form()
    assert sdist_form["filetype"] == ["sdist"]
    assert sdist_form["pyversion"] == ["source"]


def test_keyring_provider_subprocess_asks_the_keyring_command_for_the_password(
    demo: Path, loopback: Loopback, tmp_path: Path
):
    import base64

    keyring = fake_keyring(tmp_path / "bin", {(loopback.url, USER): PASSWORD})
    path = path_with(keyring, os.environ)
    result = kiln(demo, "-v", "--publish-url", loopback.url, "-u", USER, "--non-interactive",
                  "--keyring-provider", "subprocess", PATH=path)
    assert result.returncode == 0, result.stderr
    assert calls(keyring) == [["get", loopback.url, USER]]
    assert "credentials from keyring (user `alice`)" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert [r.headers["authorization"] for r in loopback.requests] == [expected, expected]
    # `disabled` never runs it: without a password there is nothing to upload with.
    refused = kiln(demo, "--publish-url", loopback.url, "-u", USER, "--non-interactive",
                   PATH=path, UV_KEYRING_PROVIDER="subprocess", KILN_KEYRING_PROVIDER="disabled")
    assert refused.returncode == 1
    assert len(calls(keyring)) == 1


def test_server_errors_are_retried_until_the_upload_succeeds(demo: Path, loopback: Loopback):
    loopback.statuses = [503, 503, 200]
    wheel = str(demo / "dist" / "kiln_loop_demo-2.0-py3-none-any.whl")
    result = kiln(demo, wheel, "--publish-url", loopback.url, *auth_args())
    assert result.returncode == 0, result.stderr
    assert len(loopback.requests) == 3
    assert result.stderr.count("503 Service Unavailable); retrying") == 2
    assert "1 uploaded" in result.stderr
    # Every attempt carries the whole file.
    sizes = {len(r.body) for r in loopback.requests}
    assert len(sizes) == 1


def test_persistent_server_errors_fail_after_the_retries(demo: Path, loopback: Loopback):
    loopback.statuses = [502] * 10
    wheel = str(demo / "dist" / "kiln_loop_demo-2.0-py3-none-any.whl")
    result = kiln(demo, wheel, "--publish-url", loopback.url, *auth_args(), KILN_PUBLISH_RETRIES="2")
    assert result.returncode == 1
    assert len(loopback.requests) == 3
    assert "error: failed to upload `kiln_loop_demo-2.0-py3-none-any.whl`: the server answered 502 Bad Gateway: busy, try later" in result.stderr


def test_connection_refused_is_reported_after_retries(demo: Path):
    url = f"http://127.0.0.1:{free_port()}/legacy/"
    result = kiln(demo, "--publish-url", url, *auth_args(), KILN_PUBLISH_RETRIES="1")
    assert result.returncode == 1
    assert f"could not reach {url} (Failed to establish a new connection" in result.stderr
    assert "gave up after 2 attempts" in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_sends_nothing(demo: Path, loopback: Loopback):
    result = kiln(demo, "--dry-run", "--publish-url", loopback.url)
    assert result.returncode == 0, result.stderr
    assert loopback.requests == []
    assert f"Checking 2 files against {loopback.url}" in result.stderr
    assert "Dry run, nothing uploaded: 2 checked" in result.stderr


def test_invalid_file_is_refused_before_any_request(demo: Path, loopback: Loopback, tmp_path: Path):
    dist = tmp_path / "dist"
    dist.mkdir()
    good = demo / "dist" / "kiln_loop_demo-2.0-py3-none-any.whl"
    (dist / good.name).write_bytes(good.read_bytes())
    # A wheel whose metadata names another project.
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(dist / "other-2.0-py3-none-any.whl", "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("METADATA"):
                data = data.replace(b"Name: kiln-loop-demo", b"Name: something-else")
            out.writestr(item.filename.replace("kiln_loop_demo", "other"), data)
    # A truncated sdist.
    sdist = (demo / "dist" / "kiln_loop_demo-2.0.tar.gz").read_bytes()
    (dist / "kiln_loop_demo-2.0.tar.gz").write_bytes(sdist[: len(sdist) // 2])
    result = kiln(tmp_path, "--publish-url", loopback.url, "--check-url", loopback.url, *auth_args())
    assert result.returncode == 1
    assert loopback.requests == []
    assert "error: `dist/other-2.0-py3-none-any.whl` cannot be published:" in result.stderr
    assert "the file name says the project is `other` but METADATA says `Name: something-else`" in result.stderr
    assert "error: `dist/kiln_loop_demo-2.0.tar.gz` cannot be published:" in result.stderr
    assert "not a readable `.tar.gz` archive" in result.stderr
    assert "error: 2 of 3 files failed validation; nothing was uploaded" in result.stderr
    assert "Traceback" not in result.stderr


def test_description_that_does_not_render_is_refused(tmp_path: Path, loopback: Loopback):
    pytest.importorskip("readme_renderer")
    project = make_project(tmp_path / "proj", "kiln-bad-rst", readme="x")
    (project / "README.rst").write_text("Title\n===\n\n`unclosed\n")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('readme = "README.md"', 'readme = "README.rst"'))
    for old in (project / "dist").iterdir():
        old.unlink()
    subprocess.run([sys.executable, "-c", "import flit_core.buildapi as b; b.build_wheel('dist')"],
                   cwd=project, check=True, capture_output=True)
    result = kiln(project, "--publish-url", loopback.url, *auth_args())
    assert result.returncode == 1
    assert "not valid reStructuredText" in result.stderr
    assert loopback.requests == []


def test_no_files_and_unmatched_patterns_are_clear_errors(tmp_path: Path):
    empty = kiln(tmp_path, "--dry-run")
    assert empty.returncode == 1
    assert "error: no wheels or sdists found in `dist/`" in empty.stderr
    assert "hint: run `kiln build` first" in empty.stderr
    missing = kiln(tmp_path, "--dry-run", "nothing/*.whl")
    assert missing.returncode == 1
    assert "error: no file matches `nothing/*.whl`" in missing.stderr


def test_missing_credentials_are_an_error_without_a_terminal(demo: Path, loopback: Loopback):
    result = kiln(demo, "--publish-url", loopback.url, "--non-interactive")
    assert result.returncode == 1
    assert f"error: no credentials for {loopback.url}" in result.stderr
    assert loopback.requests == []


# --- library: files, targets, credentials --------------------------------------------------


def test_sdist_is_grouped_with_its_wheels_and_uploaded_last(demo: Path, tmp_path: Path):
    dist = tmp_path / "dist"
    dist.mkdir()
    for item in (demo / "dist").iterdir():
        (dist / item.name).write_bytes(item.read_bytes())
    (dist / ".gitignore").write_text("*\n")
    (dist / "kiln_loop_demo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl").write_bytes(b"")
    found = discover([], base=tmp_path)
    assert found.ignored == ()
    (release,) = found.releases
    assert release.sdist is not None and release.sdist.filename == "kiln_loop_demo-2.0.tar.gz"
    assert [f.filename for f in release.files] == [
        "kiln_loop_demo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "kiln_loop_demo-2.0-py3-none-any.whl",
        "kiln_loop_demo-2.0.tar.gz",
    ]
    assert [f.pyversion for f in release.files] == ["cp312", "py3", "source"]


def test_form_fields_cover_every_metadata_field(demo: Path):
    (checked,) = validate(discover([str(demo / "dist" / "*.whl")]).files)
    assert checked.ok, checked.errors
    assert checked.metadata is not None
    metadata = dict(checked.metadata)
    metadata["classifiers"] = ["Programming Language :: Python :: 3", "Typing :: Typed"]
    metadata["requires_dist"] = ["httpx>=0.27", "rich; extra == 'cli'"]
    metadata["license_files"] = ["LICENSE"]
    metadata["platforms"] = ["any"]
    fields = form_fields(checked.dist, metadata, {"sha256": "ab"})  # type: ignore[arg-type]
    names = [name for name, _ in fields]
    assert names.count("classifiers") == 2
    assert names.count("requires_dist") == 2
    assert ("license_file", "LICENSE") in fields
    assert ("platform", "any") in fields
    assert ("sha256_digest", "ab") in fields
    assert "description" in names


def test_target_from_kiln_index_then_uv_index(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [[tool.kiln.index]]
        name = "internal"
        url = "https://pkgs.example/simple/"
        publish-url = "https://pkgs.example/upload/"

        [[tool.uv.index]]
        name = "uv-only"
        url = "https://uv.example/simple/"
        publish-url = "https://uv.example/legacy/"

        [[tool.uv.index]]
        name = "read-only"
        url = "https://ro.example/simple/"
    """))
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    internal = resolve_target(publish_url=None, index="internal", check_url=None, start=sub)
    assert internal.publish_url == "https://pkgs.example/upload/"
    assert internal.check_url == "https://pkgs.example/simple/"
    assert internal.index_name == "internal"
    uv = resolve_target(publish_url=None, index="uv-only", check_url="https://c/simple/", start=tmp_path)
    assert (uv.publish_url, uv.check_url) == ("https://uv.example/legacy/", "https://c/simple/")
    default = resolve_target(publish_url=None, index=None, check_url=None, start=tmp_path)
    assert default.publish_url == PYPI_UPLOAD_URL
    with pytest.raises(KilnError, match="has no `publish-url`"):
        resolve_target(publish_url=None, index="read-only", check_url=None, start=tmp_path)
    with pytest.raises(KilnError, match="no index named `nope`") as info:
        resolve_target(publish_url=None, index="nope", check_url=None, start=tmp_path)
    assert info.value.hint == "indexes found: `internal`, `read-only`, `uv-only`"
    with pytest.raises(KilnError, match="cannot be used together"):
        resolve_target(publish_url="https://x/", index="internal", check_url=None, start=tmp_path)


def test_credential_sources_in_order(tmp_path: Path):
    url = "https://upload.example/legacy/"
    netrc = tmp_path / "netrc"
    netrc.write_text("machine upload.example login netrc-user password netrc-pass\n")
    base = {"NETRC": str(netrc)}
    none = CredentialOptions(keyring_provider="disabled")

    def resolve(options: CredentialOptions, env: dict[str, str], where: str = url) -> tuple[str, str]:
        found = resolve_credentials(where, options, {**base, **env})
        assert found is not None
        return found.username, found.password

    token = CredentialOptions(token="tok", keyring_provider="disabled")
    assert resolve(token, {"KILN_PUBLISH_USERNAME": "env"}) == ("__token__", "tok")
    cli = CredentialOptions(username="cli", password="clipw", keyring_provider="disabled")
    assert resolve(cli, {"KILN_PUBLISH_TOKEN": "envtok"}) == ("cli", "clipw")
    assert resolve(none, {}, "https://u:p@upload.example/legacy/") == ("u", "p")
    assert resolve(none, {"KILN_PUBLISH_TOKEN": "envtok"}) == ("__token__", "envtok")
    env_pair = {"KILN_PUBLISH_USERNAME": "eu", "KILN_PUBLISH_PASSWORD": "ep"}
    assert resolve(none, env_pair) == ("eu", "ep")
    indexed = CredentialOptions(index_name="my.index", keyring_provider="disabled")
    assert env_name("my.index") == "KILN_INDEX_MY_INDEX"
    assert resolve(indexed, {"KILN_INDEX_MY_INDEX_USERNAME": "iu", "KILN_INDEX_MY_INDEX_PASSWORD": "ip"}) == ("iu", "ip")
    # A user name from one source, the password from .netrc only when the login matches.
    assert resolve(none, {}) == ("netrc-user", "netrc-pass")
    assert resolve(CredentialOptions(username="netrc-user", keyring_provider="disabled"), {}) == ("netrc-user", "netrc-pass")
    with pytest.raises(KilnError, match="no password found for the user name `someone`"):
        resolve_credentials(url, CredentialOptions(username="someone", keyring_provider="disabled"), base)
    asked: list[tuple[str, bool]] = []

    def prompt(question: str, secret: bool) -> str:
        asked.append((question, secret))
        return "typed" if secret else "prompted-user"

    prompted = CredentialOptions(keyring_provider="disabled", prompt=prompt)
    assert resolve(prompted, {"NETRC": str(tmp_path / "none")}) == ("prompted-user", "typed")
    assert [secret for _, secret in asked] == [False, True]
    assert resolve_credentials(url, none, {"NETRC": str(tmp_path / "none")}) is None
    with pytest.raises(KilnError, match="cannot be combined"):
        resolve_credentials(url, CredentialOptions(token="t", username="u"), base)
    with pytest.raises(KilnError, match="no user name"):
        resolve_credentials(url, CredentialOptions(password="p", keyring_provider="disabled"), {"NETRC": str(tmp_path / "none")})


def test_credentials_repr_hides_the_password():
    found = resolve_credentials(
        "https://x.example/", CredentialOptions(username="u", password="hunter2-secret"), {}
    )
    assert "hunter2-secret" not in repr(found)


def test_check_url_credentials_reuse_upload_credentials_on_the_same_host(tmp_path: Path):
    upload = resolve_credentials(
        "https://h.example/legacy/", CredentialOptions(username="u", password="p"), {}
    )
    env = {"NETRC": str(tmp_path / "none")}
    same = check_url_credentials("https://h.example/simple/", "https://h.example/legacy/", upload, None, env)
    assert same == upload
    other = check_url_credentials("https://other.example/simple/", "https://h.example/legacy/", upload, None, env)
    assert other is None
    inline = check_url_credentials("https://a:b@other.example/simple/", "https://h.example/", upload, None, env)
    assert inline is not None and (inline.username, inline.password) == ("a", "b")


def test_corrupt_sdist_member_list_is_reported(tmp_path: Path):
    sdist = tmp_path / "two_infos-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for top in ("two_infos-1.0", "other-1.0"):
            info = tarfile.TarInfo(f"{top}/PKG-INFO")
            data = b"Metadata-Version: 2.1\nName: two-infos\nVersion: 1.0\n"
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    (checked,) = validate(discover([str(sdist)]).files)
    assert checked.errors == [
        "the sdist has more than one PKG-INFO file: `other-1.0/PKG-INFO`, `two_infos-1.0/PKG-INFO`"
    ]


def test_publish_url_and_index_together_are_a_usage_error(tmp_path: Path):
    result = kiln(tmp_path, "--publish-url", "https://x.example/", "--index", "team")
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def test_trusted_publishing_always_is_refused_before_any_request(demo: Path, loopback: Loopback):
    result = kiln(demo, "--trusted-publishing", "always", "--publish-url", loopback.url,
                  "--token", "pypi-x")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot publish with trusted publishing" in result.stderr
    assert loopback.requests == []
    never = kiln(demo, "--trusted-publishing", "never", "--no-attestations", "--dry-run",
                 "--publish-url", loopback.url)
    assert never.returncode == 0, never.stderr


def test_offline_publishing_is_refused_before_any_request(demo: Path, loopback: Loopback):
    result = kiln(demo, "--offline", "--publish-url", loopback.url, "--token", "pypi-x")
    assert result.returncode == 1 and "offline mode is on" in result.stderr
    assert loopback.requests == []
