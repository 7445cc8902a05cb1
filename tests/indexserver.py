"""A real PEP 503/691 package index on 127.0.0.1 for tests, and tiny wheel/sdist builders.

Usage::

    server = IndexServer()
    server.add(build_wheel(tmp_path, "demo", "1.0", requires_dist=["other>=1"]))
    with server:
        url = server.url           # http://127.0.0.1:<port>/simple
        ...
    server.log                      # every request: method, path, headers, status

A file added with ``root="/whl/cpu"`` is listed under ``/whl/cpu/<project>/`` instead of
``/simple/<project>/``: one server can stand in for several indexes (the PyTorch ones).

Switches (attributes, may be changed while running): ``metadata_files``, ``range_requests``,
``json_api``, ``auth`` ((username, password) or None), ``cache_control``, ``status_override``
(path -> status code).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import ssl
import tarfile
import threading
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def _metadata_text(
    name: str, version: str, requires_dist: Iterable[str], requires_python: str | None
) -> str:
    lines = ["Metadata-Version: 2.2", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(f"Requires-Dist: {r}" for r in requires_dist)
    return "\n".join(lines) + "\n\n"


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    tag: str = "py3-none-any",
    padding: int = 0,
    files: Mapping[str, bytes] | None = None,
) -> Path:
    """Write a minimal valid wheel; ``padding`` adds an incompressible member of that size,
    ``files`` more members (``entry_points.txt`` is put into the ``.dist-info``)."""
    dist = canonicalize_name(name).replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    members: dict[str, bytes] = {
        f"{dist}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{info}/METADATA": _metadata_text(name, version, requires_dist, requires_python).encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: indexserver\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    for path, data in (files or {}).items():
        members[f"{info}/{path}" if path == "entry_points.txt" else path] = data
    if padding:
        members[f"{dist}/padding.bin"] = hashlib.shake_256(name.encode()).digest(padding)
    record = "".join(
        f"{path},sha256={_b64(hashlib.sha256(data).digest())},{len(data)}\n"
        for path, data in members.items()
    ) + f"{info}/RECORD,,\n"
    members[f"{info}/RECORD"] = record.encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def build_sdist(
    directory: Path,
    name: str,
    version: str,
    *,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
) -> Path:
    """Write a minimal sdist with a Metadata-Version 2.2 PKG-INFO."""
    dist = canonicalize_name(name).replace("-", "_")
    top = f"{dist}-{version}"
    pkg_info = _metadata_text(name, version, requires_dist, requires_python).encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, data in ((f"{top}/PKG-INFO", pkg_info),
                             (f"{top}/pyproject.toml", b"[project]\n")):
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return path


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class ServedFile:
    path: Path
    project: str
    yanked: str | None = None
    requires_python: str | None = None
    #: Advertise this sha256 instead of the real one (to test mismatches).
    advertised_sha256: str | None = None
    #: Likewise for the metadata file served beside a wheel (PEP 658).
    advertised_metadata_sha256: str | None = None
    #: The path of the index that lists the file.
    root: str = "/simple"
    #: ``upload-time`` of the JSON page (PEP 700), e.g. ``2024-05-01T12:00:00Z``.
    upload_time: str | None = None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server-side context with a self-signed certificate for 127.0.0.1 made by
    `openssl` in ``directory``, and that certificate's PEM file (the bundle a client must
    trust). Skips the calling test when `openssl` is not installed."""
    import shutil
    import subprocess

    import pytest

    if shutil.which("openssl") is None:
        pytest.skip("`openssl` is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context, directory / "cert.pem"


@dataclass
class IndexServer:
    metadata_files: bool = True
    range_requests: bool = True
    json_api: bool = True
    auth: tuple[str, str] | None = None
    cache_control: str = "max-age=0"
    #: Send ETag and Cache-Control with project pages (PyPI behind some proxies sends neither).
    validators: bool = True
    status_override: dict[str, int] = field(default_factory=dict)
    files: list[ServedFile] = field(default_factory=list)
    log: list[LoggedRequest] = field(default_factory=list)
    #: Serve HTTPS with this server-side context (e.g. a self-signed certificate).
    tls: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._port = 0

    # -- content -----------------------------------------------------------------

    def add(
        self,
        path: Path,
        *,
        yanked: str | None = None,
        requires_python: str | None = None,
        advertised_sha256: str | None = None,
        advertised_metadata_sha256: str | None = None,
        root: str = "/simple",
        upload_time: str | None = None,
    ) -> ServedFile:
        if path.name.endswith(".whl"):
            project = parse_wheel_filename(path.name)[0]
        else:
            project = parse_sdist_filename(path.name)[0]
        served = ServedFile(
            path, project, yanked, requires_python, advertised_sha256,
            advertised_metadata_sha256, root, upload_time,
        )
        self.files.append(served)
        return served

    def project_files(self, project: str, root: str = "/simple") -> list[ServedFile]:
        return [f for f in self.files if f.project == project and f.root == root]

    # -- lifecycle ---------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._port, "server not started"
        return self._port

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/simple"

    def start(self) -> IndexServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)

    def requests(self, path_prefix: str = "", method: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [
                r for r in self.log
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
            ]


def _make_handler(index: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._dispatch(head=True)

        def do_GET(self) -> None:
            self._dispatch(head=False)

        def _reply(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
            *, head: bool = False,
        ) -> None:
            index.record(LoggedRequest(self.command, self.path, dict(self.headers.items()),
                                       status))
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and status not in (204, 304):
                self.wfile.write(body)

        def _authorized(self) -> bool:
            if index.auth is None:
                return True
            expected = base64.b64encode(":".join(index.auth).encode()).decode()
            return self.headers.get("Authorization", "") == f"Basic {expected}"

        def _dispatch(self, *, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            if path in index.status_override:
                self._reply(index.status_override[path], head=head)
                return
            if not self._authorized():
                self._reply(401, b"", {"WWW-Authenticate": 'Basic realm="index"'}, head=head)
                return
            root, _, name = path.rstrip("/").rpartition("/")
            if path.endswith("/") and name and root in {"/simple", *(f.root for f in index.files)}:
                self._project(name, root, head=head)
            elif path.startswith("/files/"):
                self._file(path[len("/files/"):], head=head)
            else:
                self._reply(404, head=head)

        def _project(self, name: str, root: str, *, head: bool) -> None:
            project = canonicalize_name(name)
            if project != name:
                self._reply(301, b"", {"Location": f"{root}/{project}/"}, head=head)
                return
            files = index.project_files(project, root)
            if not files:
                self._reply(404, head=head)
                return
            wants_json = index.json_api and JSON_TYPE in self.headers.get("Accept", "")
            if wants_json:
                body = _json_page(project, files, index.metadata_files)
                ctype = JSON_TYPE
            else:
                body = _html_page(project, files, index.metadata_files)
                ctype = "text/html; charset=utf-8"
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers = {"Content-Type": ctype, "ETag": etag, "Cache-Control": index.cache_control,
                       "Vary": "Accept"}
            if not index.validators:
                headers = {"Content-Type": ctype}
            elif self.headers.get("If-None-Match") == etag:
                self._reply(304, b"", headers, head=head)
                return
            self._reply(200, body, headers, head=head)

        def _file(self, filename: str, *, head: bool) -> None:
            metadata = filename.endswith(".metadata")
            target = filename[: -len(".metadata")] if metadata else filename
            served = next((f for f in index.files if f.path.name == target), None)
            if served is None or (metadata and not index.metadata_files):
                self._reply(404, head=head)
                return
            if metadata:
                self._reply(200, wheel_metadata(served.path), {"Content-Type": "text/plain"},
                            head=head)
                return
            data = served.path.read_bytes()
            headers = {"Content-Type": "application/octet-stream"}
            if index.range_requests:
                headers["Accept-Ranges"] = "bytes"
                wanted = self.headers.get("Range", "")
                if wanted.startswith("bytes=") and not head:
                    first, _, last = wanted[len("bytes="):].partition("-")
                    start = int(first) if first else len(data) - int(last)
                    end = min(int(last), len(data) - 1) if first and last else len(data) - 1
                    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                    self._reply(206, data[start:end + 1], headers)
                    return
            self._reply(200, data, headers, head=head)

    return Handler


def _files_path(served: ServedFile) -> str:
    """The files directory relative to the project page of ``served``."""
    return "../" * (served.root.count("/") + 1) + "files/" + served.path.name


def _file_url(served: ServedFile) -> str:
    digest = served.advertised_sha256 or sha256_of(served.path)
    return f"{_files_path(served)}#sha256={digest}"


def wheel_metadata(path: Path) -> bytes:
    """The METADATA file of a wheel, as served beside it (PEP 658)."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name)


def _metadata_sha256(served: ServedFile) -> str:
    return served.advertised_metadata_sha256 or hashlib.sha256(wheel_metadata(served.path)).hexdigest()


def _html_page(project: str, files: list[ServedFile], metadata: bool) -> bytes:
    anchors = []
    for served in files:
        attrs = [f'href="{html.escape(_file_url(served))}"']
        if served.requires_python:
            attrs.append(f'data-requires-python="{html.escape(served.requires_python)}"')
        if served.yanked is not None:
            attrs.append(f'data-yanked="{html.escape(served.yanked)}"')
        if metadata and served.path.name.endswith(".whl"):
            attrs.append(f'data-dist-info-metadata="sha256={_metadata_sha256(served)}"')
        anchors.append(f"<a {' '.join(attrs)}>{html.escape(served.path.name)}</a><br/>")
    text = (
        f"<!DOCTYPE html><html><head><title>Links for {project}</title></head><body>"
        f"<h1>Links for {project}</h1>{''.join(anchors)}</body></html>"
    )
    return text.encode()


def _json_page(project: str, files: list[ServedFile], metadata: bool) -> bytes:
    entries = []
    for served in files:
        entry: dict[str, object] = {
            "filename": served.path.name,
            "url": _files_path(served),
            "hashes": {"sha256": served.advertised_sha256 or sha256_of(served.path)},
            "size": served.path.stat().st_size,
        }
        if served.requires_python:
            entry["requires-python"] = served.requires_python
        if served.yanked is not None:
            entry["yanked"] = served.yanked or True
        if served.upload_time is not None:
            entry["upload-time"] = served.upload_time
        if metadata and served.path.name.endswith(".whl"):
            entry["core-metadata"] = {"sha256": _metadata_sha256(served)}
        entries.append(entry)
    page = {"meta": {"api-version": "1.1"}, "name": project, "files": entries}
    return json.dumps(page).encode()
