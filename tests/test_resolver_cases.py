"""Resolver scenarios from data files: ``tests/resolver_cases/*.json``.

Each file describes a small universe of packages, the root requirements, the target
environment, and the exact expected outcome: either the pins of every resolved package or the
explanation text of an unsatisfiable resolution. Schema::

    {
      "description": "what the case shows",
      "packages": {
        "<name>": [
          {"version": "1.0", "requires": ["dep>=1; extra == 'x'"], "extras": ["x"],
           "requires_python": ">=3.10", "file_requires_python": ">=3.10",
           "yanked": "reason", "tag": "py3-none-any"}
        ]
      },
      "requirements": ["<name>..."],
      "constraints": ["<name>..."],            # optional
      "prerelease": "if-necessary",            # optional
      "environment": {"python": "3.12", "platform": "linux"}
                  or {"python": "3.9", "universal": true},
      "built": ["<name>==<version>"],          # optional, default []
      "loopback": true,                        # optional
      "expected": {"pins": {"<name>": "<version>"}}
              or {"lines": ["<name>==<version> ; <marker>"]}   # universal resolutions
              or {"explanation": ["line 1", "line 2"]}
    }

A universal case resolves for every environment from its Python up; its pins are written as
``kiln pip compile --universal`` writes them.

All keys of a package version except ``version`` are optional; ``tag: null`` means an sdist.
``built`` lists the sdists whose metadata the resolver had to build, in order (speculative
work included): none, unless the case says so.

A ``loopback`` case is also served by a real index on 127.0.0.1 and resolved by
``kiln pip compile`` and by ``uv pip compile``: both must give the expected pins. Its sdists
have a PKG-INFO that cannot be trusted, so reading their metadata means running their build
backend, which leaves a marker file: kiln must leave exactly the markers of ``built``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from backend_helpers import VENV_BIN
from indexserver import IndexServer
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from pip_helpers import base_env, kiln, ok
from resolver_universe import Universe, pins

from kiln.core.requirements_output import OutputOptions, render_requirements_txt
from kiln.core.resolver.driver import resolve
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.errors import ResolutionError
from kiln.core.resolver.universal import resolve_universal

CASES = Path(__file__).parent / "resolver_cases"
CASE_KEYS = {"description", "packages", "requirements", "constraints", "prerelease",
             "environment", "built", "loopback", "expected"}
VERSION_KEYS = {"version", "requires", "extras", "requires_python", "file_requires_python",
                "yanked", "tag"}


def load_case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert set(case) <= CASE_KEYS, f"{path.name}: unknown keys {set(case) - CASE_KEYS}"
    assert {"description", "packages", "requirements", "environment", "expected"} <= set(case)
    assert len(case["expected"]) == 1
    assert set(case["expected"]) <= {"pins", "lines", "explanation"}
    return case


def build_universe(case: dict[str, Any]) -> Universe:
    universe = Universe()
    for name, versions in case["packages"].items():
        for entry in versions:
            assert set(entry) <= VERSION_KEYS, f"{name}: unknown keys {set(entry) - VERSION_KEYS}"
            universe.add(
                name,
                entry["version"],
                entry.get("requires", ()),
                tag=entry.get("tag", "py3-none-any"),
                requires_python=entry.get("requires_python"),
                file_requires_python=entry.get("file_requires_python"),
                yanked=entry.get("yanked"),
                extras=entry.get("extras", ()),
            )
    return universe


def run_case(
    case: dict[str, Any], universe: Universe | None = None
) -> dict[str, str] | list[str] | str:
    """The pins of a successful resolution, or the explanation of a failed one. The
    universe also serves as the metadata builder of sdists (it records each one)."""
    universe = universe or build_universe(case)
    environment = case["environment"]
    if environment.get("universal"):
        return run_universal_case(case, universe)
    target = TargetEnvironment.for_target(environment["python"], environment["platform"])
    try:
        resolution = resolve(
            [Requirement(r) for r in case["requirements"]],
            universe,
            env=target,
            constraints=[Requirement(c) for c in case.get("constraints", ())],
            prerelease=case.get("prerelease", "if-necessary"),
            builder=universe,
            concurrency=1,
        )
    except ResolutionError as error:
        return error.explanation
    return pins(resolution)


def run_universal_case(case: dict[str, Any], universe: Universe) -> list[str] | str:
    try:
        resolution = resolve_universal(
            [Requirement(r) for r in case["requirements"]],
            universe,
            python=Version(case["environment"]["python"]),
            markers={},
            constraints=[Requirement(c) for c in case.get("constraints", ())],
            prerelease=case.get("prerelease", "if-necessary"),
            builder=universe,
            concurrency=1,
        )
    except ResolutionError as error:
        return error.explanation
    return render_requirements_txt(
        resolution, OutputOptions(header=False, annotate=False)
    ).splitlines()


CASE_FILES = sorted(CASES.glob("*.json"))


def test_the_case_collection_covers_success_and_failure() -> None:
    outcomes = [next(iter(load_case(path)["expected"])) for path in CASE_FILES]
    assert len(outcomes) >= 15
    assert outcomes.count("explanation") >= 6


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_resolver_case_outcome_matches_exactly(path: Path) -> None:
    case = load_case(path)
    universe = build_universe(case)
    outcome = run_case(case, universe)
    expected = case["expected"]
    if "pins" in expected:
        assert outcome == expected["pins"], case["description"]
    elif "lines" in expected:
        assert outcome == expected["lines"], case["description"]
    else:
        assert outcome == "\n".join(expected["explanation"]), case["description"]
    assert universe.built == case.get("built", []), case["description"]


# -- the same cases on a real index ---------------------------------------------------------

LOOPBACK_FILES = [p for p in CASE_FILES if load_case(p).get("loopback")]

#: The build backend of a loopback sdist: running it at all leaves a marker file.
MARKER_BACKEND = '''\
import base64, hashlib, pathlib, zipfile

MARKER = pathlib.Path({marker!r})
METADATA = {metadata!r}
DIST = {dist!r}


def get_requires_for_build_wheel(config_settings=None):
    MARKER.write_text("built")
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    MARKER.write_text("built")
    info = pathlib.Path(metadata_directory, DIST + ".dist-info")
    info.mkdir()
    (info / "METADATA").write_text(METADATA)
    return info.name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    MARKER.write_text("built")
    info = DIST + ".dist-info"
    members = {{
        info + "/METADATA": METADATA.encode(),
        info + "/WHEEL": b"Wheel-Version: 1.0\\nGenerator: marker\\nRoot-Is-Purelib: true\\n"
        b"Tag: py3-none-any\\n",
    }}
    record = "".join(
        "%s,sha256=%s,%d\\n" % (path, base64.urlsafe_b64encode(
            hashlib.sha256(data).digest()).rstrip(b"=").decode(), len(data))
        for path, data in members.items()
    ) + info + "/RECORD,,\\n"
    members[info + "/RECORD"] = record.encode()
    name = DIST + "-py3-none-any.whl"
    with zipfile.ZipFile(pathlib.Path(wheel_directory, name), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return name
'''


def _metadata(name: str, entry: dict[str, Any], metadata_version: str = "2.2") -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}",
             f"Version: {entry['version']}"]
    if entry.get("requires_python"):
        lines.append(f"Requires-Python: {entry['requires_python']}")
    lines += [f"Provides-Extra: {extra}" for extra in entry.get("extras", ())]
    lines += [f"Requires-Dist: {requirement}" for requirement in entry.get("requires", ())]
    return "\n".join(lines) + "\n\n"


def _archive_wheel(directory: Path, name: str, entry: dict[str, Any]) -> Path:
    dist = f"{canonicalize_name(name).replace('-', '_')}-{entry['version']}"
    tag = entry.get("tag", "py3-none-any")
    members = {
        f"{dist}.dist-info/METADATA": _metadata(name, entry).encode(),
        f"{dist}.dist-info/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: cases\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    record = "".join(
        f"{path},sha256={_b64_sha256(data)},{len(data)}\n" for path, data in members.items()
    ) + f"{dist}.dist-info/RECORD,,\n"
    members[f"{dist}.dist-info/RECORD"] = record.encode()
    path = directory / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def _b64_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _marker_sdist(directory: Path, markers: Path, name: str, entry: dict[str, Any]) -> Path:
    """An sdist whose PKG-INFO (Metadata-Version 2.1) cannot be trusted, so its metadata
    takes running its build backend, which leaves ``markers/<name>==<version>``."""
    dist = f"{canonicalize_name(name).replace('-', '_')}-{entry['version']}"
    backend = MARKER_BACKEND.format(
        marker=str(markers / f"{canonicalize_name(name)}=={entry['version']}"),
        metadata=_metadata(name, entry), dist=dist,
    )
    members = {
        f"{dist}/PKG-INFO": _metadata(name, entry, "2.1"),
        f"{dist}/pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        ),
        f"{dist}/backend.py": backend,
    }
    path = directory / f"{dist}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def serve(case: dict[str, Any], directory: Path, markers: Path) -> IndexServer:
    server = IndexServer()
    for name, versions in case["packages"].items():
        for entry in versions:
            if entry.get("tag", "py3-none-any") is None:
                path = _marker_sdist(directory, markers, name, entry)
            else:
                path = _archive_wheel(directory, name, entry)
            server.add(path, yanked=entry.get("yanked"),
                       requires_python=entry.get("file_requires_python"))
    return server


def _compile_args(case: dict[str, Any], work: Path) -> list[str]:
    (work / "requirements.in").write_text("\n".join(case["requirements"]) + "\n")
    args = ["requirements.in", "--no-header", "--no-annotate"]
    if case.get("constraints"):
        (work / "constraints.txt").write_text("\n".join(case["constraints"]) + "\n")
        args += ["-c", "constraints.txt"]
    environment = case["environment"]
    args += ["--python-version", environment["python"]]
    if environment.get("universal"):
        args.append("--universal")
    else:
        args += ["--python-platform", environment["platform"]]
    return args


def _outcome(case: dict[str, Any], text: str) -> dict[str, str] | list[str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    if case["environment"].get("universal"):
        return lines
    return {line.split("==")[0]: line.split("==")[1] for line in lines}


@pytest.mark.parametrize("path", LOOPBACK_FILES, ids=[p.stem for p in LOOPBACK_FILES])
def test_loopback_case_resolves_alike_in_kiln_and_uv_building_only_what_it_lists(
    path: Path, tmp_path: Path
) -> None:
    case = load_case(path)
    expected = case["expected"].get("pins", case["expected"].get("lines"))
    assert expected is not None, "a loopback case expects a resolution"
    markers = tmp_path / "markers"
    markers.mkdir()
    files = tmp_path / "files"
    files.mkdir()
    with serve(case, files, markers) as server:
        work = tmp_path / "kiln"
        work.mkdir()
        args = _compile_args(case, work)
        ours = ok(kiln("pip", "compile", *args, "--default-index", server.url,
                       env=base_env(tmp_path / "cache"), cwd=work))
        assert _outcome(case, ours.stdout) == expected, case["description"]
        assert sorted(p.name for p in markers.iterdir()) == sorted(case.get("built", []))

        work = tmp_path / "uv"
        work.mkdir()
        theirs = subprocess.run(
            [VENV_BIN / "uv", "pip", "compile", *_compile_args(case, work),
             "--index-url", server.url, "--cache-dir", tmp_path / "uv-cache", "--no-config",
             "--quiet"],
            capture_output=True, text=True, cwd=work, timeout=300, check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        assert theirs.returncode == 0, theirs.stderr
        assert _outcome(case, theirs.stdout) == expected, "uv resolves it otherwise"
