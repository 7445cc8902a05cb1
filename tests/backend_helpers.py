"""Shared helpers for the kiln_build test suite.

The testprojects live in ``testprojects/``; every test works on a copy in a temporary
directory. The PEP 517 hooks of kiln_build are called in-process (with the working
directory switched to the copy, as a frontend would); uv_build, the reference
implementation, is run in a subprocess.
"""

from __future__ import annotations

import atexit
import base64
import collections
import contextlib
import csv
import functools
import hashlib
import io
import itertools
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TESTPROJECTS = REPO / "testprojects"
BACKEND_SRC = REPO / "backend" / "src"
VENV_BIN = Path(sys.executable).parent

KILN_BUILD_SYSTEM = 'requires = ["kiln-build>=0.1,<0.2"]\nbuild-backend = "kiln_build"'
UV_BUILD_SYSTEM = 'requires = ["uv_build>=0.13,<0.14"]\nbuild-backend = "uv_build"'

# Projects that only kiln_build can build: they use a deliberate difference from uv_build.
BEYOND_UV = frozenset(
    {
        "single-file",
        "single-file-flat",
        "dynamic-version",
        "dynamic-version-single-file",
        "gitignore",
        "license-default-globs",
        "kiln-table-wins",
    }
)

# Byte content of files that cannot live in the repository (the repository's own
# .gitignore drops caches and virtual environments), created in every copy.
_PYC = b"\x00\x00\x00\x00 not really bytecode"
_GENERATED: dict[str, dict[str, bytes]] = {
    "built-by-kiln": {
        "src/built_by_kiln/__pycache__/compiled.cpython-311.pyc": _PYC,
        "src/built_by_kiln/arithmetic/circle.pyc": _PYC,
        "src/built_by_kiln/stale/__pycache__/compiled.cpython-311.pyc": _PYC,
    },
    "src-layout": {
        "src/src_layout/__pycache__/core.cpython-311.pyc": _PYC,
        "src/src_layout/legacy.pyc": _PYC,
        "src/src_layout/optimised.pyo": _PYC,
    },
    "include-exclude": {
        "src/include_exclude/__pycache__/__init__.cpython-311.pyc": _PYC,
    },
    "default-excludes-off": {
        "src/default_excludes_off/__pycache__/__init__.cpython-311.pyc": _PYC,
        "src/default_excludes_off/old.pyc": _PYC,
    },
    "errors/venv-in-module-root": {
        "src/venv_in_module_root/.venv/pyvenv.cfg": b"home = /usr/bin\n",
    },
}
_GENERATED_SYMLINKS: dict[str, dict[str, str]] = {
    "errors/venv-in-module-root": {"src/venv_in_module_root/.venv/bin/python": sys.executable},
}
_EMPTY_DIRS: dict[str, list[str]] = {
    "built-by-kiln": ["src/built_by_kiln/empty"],
}


def project_names() -> list[str]:
    """Every buildable testproject (not the error cases)."""
    return sorted(p.name for p in TESTPROJECTS.iterdir() if p.is_dir() and p.name != "errors")


def error_project_names() -> list[str]:
    return sorted(p.name for p in (TESTPROJECTS / "errors").iterdir() if p.is_dir())


def copy_project(name: str, dest_parent: Path, *, umask: int | None = None) -> Path:
    """Copy ``testprojects/<name>`` into ``dest_parent`` and return the copy.

    ``dot-gitignore`` files become ``.gitignore``. With ``umask`` the files are
    re-created under that umask (keeping only whether they are executable), so two
    copies made with different umasks have different permission bits on disk.
    """
    src = TESTPROJECTS / name
    dest = dest_parent / Path(name).name
    dest.mkdir(parents=True)
    old_umask = os.umask(umask) if umask is not None else None
    try:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            target = dest / rel.parent / (".gitignore" if rel.name == "dot-gitignore" else rel.name)
            if path.is_dir():
                target.mkdir(exist_ok=True)
            elif umask is None:
                shutil.copy2(path, target)
            else:
                target.write_bytes(path.read_bytes())
                if path.stat().st_mode & 0o111:
                    target.chmod(0o777 & ~umask)
        for rel_name, content in _GENERATED.get(name, {}).items():
            target = dest / rel_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        for rel_name, link_target in _GENERATED_SYMLINKS.get(name, {}).items():
            target = dest / rel_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(link_target)
        for rel_name in _EMPTY_DIRS.get(name, []):
            (dest / rel_name).mkdir(parents=True, exist_ok=True)
    finally:
        if old_umask is not None:
            os.umask(old_umask)
    return dest


def rewrite_for_uv_build(project: Path) -> None:
    """Make a kiln testproject use uv_build: build-system and the config table."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert KILN_BUILD_SYSTEM in text, f"{pyproject} has an unexpected build-system"
    text = text.replace(KILN_BUILD_SYSTEM, UV_BUILD_SYSTEM)
    text = text.replace("[tool.kiln.build-backend", "[tool.uv.build-backend")
    pyproject.write_text(text)


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def kiln_hook(project: Path, hook: str, *args: Any, **kwargs: Any) -> Any:
    """Call a PEP 517 hook of kiln_build in-process with cwd = ``project``."""
    import kiln_build

    with working_directory(project):
        return getattr(kiln_build, hook)(*args, **kwargs)


def kiln_build(project: Path, kind: str, out_dir: Path, **kwargs: Any) -> Path:
    """Build ``kind`` (sdist, wheel or editable) with kiln_build; return the artifact."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = kiln_hook(project, f"build_{kind}", str(out_dir), **kwargs)
    assert isinstance(name, str) and "/" not in name, f"hook returned {name!r}"
    return out_dir / name


def uv_build(project: Path, kind: str, out_dir: Path) -> Path:
    """Build ``kind`` with uv_build's PEP 517 shim in a subprocess."""
    out_dir.mkdir(parents=True, exist_ok=True)
    code = f"import sys, uv_build; print(uv_build.build_{kind}(sys.argv[1]))"
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(out_dir)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"uv_build failed:\n{proc.stderr}"
    return out_dir / proc.stdout.strip().splitlines()[-1]


def run_kiln_subprocess(project: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` in a fresh interpreter (kiln_build importable), cwd = ``project``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BACKEND_SRC), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True
    )


# ----------------------------------------------------------------------- reading archives


@dataclass(frozen=True)
class Member:
    name: str
    is_dir: bool
    mode: int
    data: bytes


def sdist_members(path: Path) -> list[Member]:
    """Members of an sdist in archive order; directory names end with ``/``."""
    members = []
    with tarfile.open(path, "r:gz") as tar:
        for info in tar.getmembers():
            if info.isdir():
                members.append(Member(info.name.rstrip("/") + "/", True, info.mode, b""))
            else:
                assert info.isfile(), f"{info.name}: unexpected tar member type {info.type!r}"
                extracted = tar.extractfile(info)
                assert extracted is not None
                members.append(Member(info.name, False, info.mode, extracted.read()))
    return members


def wheel_members(path: Path) -> list[Member]:
    """Members of a wheel in archive order; directory names end with ``/``."""
    members = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            mode = (info.external_attr >> 16) & 0o7777
            data = b"" if info.is_dir() else zf.read(info)
            members.append(Member(info.filename, info.is_dir(), mode, data))
    return members


def names(members: list[Member], *, files_only: bool = False, strip: str = "") -> list[str]:
    out = []
    for member in members:
        if files_only and member.is_dir:
            continue
        name = member.name
        if strip:
            assert name.startswith(strip), f"{name} does not start with {strip}"
            name = name[len(strip) :]
        if name:
            out.append(name)
    return out


def member(members: list[Member], name: str) -> Member:
    for candidate in members:
        if candidate.name == name:
            return candidate
    raise AssertionError(f"{name} not in {[m.name for m in members]}")


def extract_sdist(path: Path, dest: Path) -> Path:
    """Unpack an sdist (tarfile ``data`` filter) and return its top directory."""
    with tarfile.open(path, "r:gz") as tar:
        tops = {info.name.split("/")[0] for info in tar.getmembers()}
        assert len(tops) == 1, f"sdist has several top-level entries: {tops}"
        tar.extractall(dest, filter="data")
    return dest / tops.pop()


def record_digest(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def read_record(members: list[Member]) -> list[list[str]]:
    (record,) = [m for m in members if m.name.endswith(".dist-info/RECORD")]
    return list(csv.reader(io.StringIO(record.data.decode())))


# ------------------------------------------------------------------------ core metadata


@dataclass(frozen=True)
class CoreMetadata:
    headers: list[tuple[str, str]]
    body: str

    def get_all(self, key: str) -> list[str]:
        return [value for name, value in self.headers if name.lower() == key.lower()]

    def get(self, key: str) -> str | None:
        values = self.get_all(key)
        assert len(values) <= 1, f"{key} appears {len(values)} times"
        return values[0] if values else None

    def keys(self) -> list[str]:
        return [name for name, _ in self.headers]


def parse_metadata(text: str) -> CoreMetadata:
    message = HeaderParser().parsestr(text)
    headers = [(key, str(value)) for key, value in message.items()]
    body = message.get_payload()
    assert isinstance(body, str)
    return CoreMetadata(headers, body)


def dist_info_file(members: list[Member], filename: str) -> bytes:
    matches = [
        m for m in members if re.fullmatch(r"[^/]+\.dist-info/" + re.escape(filename), m.name)
    ]
    assert len(matches) == 1, f"{filename}: {[m.name for m in matches]}"
    return matches[0].data


# ---------------------------------------------------------------- per-process build cache


@dataclass(frozen=True)
class Built:
    project: Path
    sdist: Path
    wheel: Path

    def sdist_members(self) -> list[Member]:
        return sdist_members(self.sdist)

    def wheel_members(self) -> list[Member]:
        return wheel_members(self.wheel)

    def metadata(self) -> CoreMetadata:
        return parse_metadata(dist_info_file(self.wheel_members(), "METADATA").decode())


_BUILT: dict[str, Built] = {}


@functools.cache
def _cache_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="kiln-backend-tests-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def built(name: str) -> Built:
    """Build the sdist and wheel of a testproject once per test process (read-only use)."""
    if name not in _BUILT:
        base = _cache_root() / name
        project = copy_project(name, base / "tree")
        sdist = kiln_build(project, "sdist", base / "dist")
        wheel = kiln_build(project, "wheel", base / "dist")
        _BUILT[name] = Built(project, sdist, wheel)
    return _BUILT[name]


def dist_prefix(dist_name: str, version: str) -> str:
    return f"{dist_name}-{version}"


# ------------------------------------------------------------- metadata by meaning
#
# kiln_build writes core metadata with pyproject-metadata, uv_build with its own writer.
# The two agree on meaning but not on spelling: header order, the case of header names,
# requirement formatting, how people are split between `Author` and `Author-email`, the
# folding of a multi-line `License`, the trailing blank line of a body-less file. These
# helpers compare exactly what must agree and nothing else.

#: Headers compared by a dedicated rule instead of by exact value.
_SEMANTIC_HEADERS = frozenset(
    {"requires-dist", "author", "author-email", "maintainer", "maintainer-email", "license"}
)


def marker_environments() -> list[dict[str, str]]:
    """A matrix of marker environments wide enough to tell rewritten markers apart."""
    platforms = [
        ("linux", "Linux", "posix"),
        ("win32", "Windows", "nt"),
        ("darwin", "Darwin", "posix"),
    ]
    pythons = ["3.8.0", "3.9.0", "3.10.0", "3.10.7", "3.11.0", "3.12.1", "3.13.0", "4.0.0"]
    extras = ["", "docs", "test-extra", "x"]
    envs = []
    for (sys_platform, system, os_name), full, extra in itertools.product(
        platforms, pythons, extras
    ):
        envs.append(
            {
                "sys_platform": sys_platform,
                "platform_system": system,
                "os_name": os_name,
                "python_full_version": full,
                "python_version": ".".join(full.split(".")[:2]),
                "implementation_name": "cpython",
                "platform_machine": "x86_64",
                "extra": extra,
            }
        )
    return envs


def same_requirement(first: str, second: str) -> bool:
    """Whether two requirement strings mean the same (name, extras, specifiers, url, marker)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    a, b = Requirement(first), Requirement(second)
    if canonicalize_name(a.name) != canonicalize_name(b.name):
        return False
    if {canonicalize_name(e) for e in a.extras} != {canonicalize_name(e) for e in b.extras}:
        return False
    if a.specifier != b.specifier or a.url != b.url:
        return False
    if a.marker is None or b.marker is None:
        return a.marker is None and b.marker is None
    return all(a.marker.evaluate(env) == b.marker.evaluate(env) for env in marker_environments())


def assert_same_requirement(first: str, second: str) -> None:
    assert same_requirement(first, second), (first, second)


def assert_same_requirements(actual: list[str], expected: list[str]) -> None:
    """Both lists hold requirements of the same meaning, one to one, in any order."""
    remaining = list(expected)
    for requirement in actual:
        match = next((r for r in remaining if same_requirement(requirement, r)), None)
        assert match is not None, f"{requirement!r} has no counterpart in {remaining!r}"
        remaining.remove(match)
    assert remaining == [], f"missing requirements: {remaining!r}"


def people(metadata: CoreMetadata, role: str) -> set[tuple[str | None, str | None]]:
    """The (name, email) pairs of ``role`` (``author`` or ``maintainer``).

    People with an email come from ``<Role>-email`` (``Name <email>`` or a bare address);
    a name in ``<Role>`` that none of those carries is a person without an email.
    """
    from email.utils import getaddresses

    with_email: set[tuple[str | None, str | None]] = set()
    for name, address in getaddresses(metadata.get_all(f"{role}-email")):
        with_email.add((name or None, address or None))
    named = {name for name, _ in with_email}
    result = set(with_email)
    for value in metadata.get_all(role):
        for name in (part.strip() for part in value.split(",")):
            if name and name not in named:
                result.add((name, None))
    return result


def unfolded_license(metadata: CoreMetadata) -> str | None:
    """The text of the ``License`` header with the continuation indentation removed."""
    import textwrap

    value = metadata.get("License")
    if value is None:
        return None
    first, *rest = value.split("\n")
    continuation = textwrap.dedent("\n".join(rest)).split("\n") if rest else []
    lines = [first.strip(), *continuation]
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def plain_fields(metadata: CoreMetadata) -> collections.Counter[tuple[str, str]]:
    """Every other header as a multiset of (lower-case name, value)."""
    return collections.Counter(
        (key.lower(), value)
        for key, value in metadata.headers
        if key.lower() not in _SEMANTIC_HEADERS
    )


def assert_same_metadata(actual: CoreMetadata, expected: CoreMetadata) -> None:
    """Same core metadata by meaning (see the comment above for what may differ)."""
    assert plain_fields(actual) == plain_fields(expected)
    assert_same_requirements(actual.get_all("Requires-Dist"), expected.get_all("Requires-Dist"))
    for role in ("author", "maintainer"):
        assert people(actual, role) == people(expected, role), role
    assert unfolded_license(actual) == unfolded_license(expected)
    assert actual.body.strip() == expected.body.strip()


def lowest_metadata_version(metadata: CoreMetadata) -> str:
    """The Metadata-Version kiln_build must declare for these headers (2.1 is the floor)."""
    keys = {key.lower() for key, _ in metadata.headers}
    if keys & {"import-name", "import-namespace"}:
        return "2.5"
    if keys & {"license-expression", "license-file"}:
        return "2.4"
    if "dynamic" in keys:
        return "2.2"
    return "2.1"
