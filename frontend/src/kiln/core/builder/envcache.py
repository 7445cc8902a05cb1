"""Reusable isolated build environments.

An environment is keyed by the interpreter (path and version), the installer and
its index settings and the other settings that decide what it installs (resolution,
upload-date cutoffs, binary and build choices, hash checking), the requirement strings and
the constraints file contents. It
lives in ``<cache>/build-envs-v1/<key>/``: created in a temporary directory beside
it, then renamed into place under a file lock, so concurrent kiln processes never
see a half-installed environment and never build the same one twice.
``refresh`` rebuilds each environment once; ``root=None`` uses throwaway
environments that are deleted on exit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from kiln.core.builder.installer import Installer, env_python
from kiln.core.builder.report import Reporter
from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.core.index.locations import IndexLocations

CACHE_BUCKET = "build-envs-v1"
MARKER = "kiln-build-env.json"

_FREEZE = (
    "import importlib.metadata as m, json\n"
    "print(json.dumps(sorted({f\"{d.metadata['Name']}=={d.version}\""
    " for d in m.distributions() if d.metadata['Name']})))"
)


def cache_dir() -> Path:
    from kiln.core.cachedir import cache_root

    return cache_root() / CACHE_BUCKET


class BuildEnv:
    """A virtual environment for running a build backend (pypa/build's ``IsolatedEnv``)."""

    def __init__(self, path: Path, packages: Sequence[str] = ()) -> None:
        self.path = path
        #: ``name==version`` of everything installed, recorded after installation.
        self.packages = list(packages)

    @property
    def python_executable(self) -> str:
        return str(env_python(self.path))

    def make_extra_environ(self) -> Mapping[str, str] | None:
        scripts = str(env_python(self.path).parent)
        path = os.environ.get("PATH")
        return {
            "PATH": scripts if not path else scripts + os.pathsep + path,
            "VIRTUAL_ENV": str(self.path),
        }


def normalize_requirements(requirements: Sequence[str]) -> list[str]:
    return sorted({str(Requirement(item)) for item in requirements})


def index_key(locations: IndexLocations) -> list[str]:
    """What of the index settings decides an environment's contents: the strategy, every
    location in order, and the pins."""
    return [
        locations.strategy,
        *(f"{index.format} {index.url}" for index in locations.all_indexes()),
        *(
            f"pin {name} {pin.index} {pin.marker} {pin.extra}"
            for name, pins in sorted(locations.pins.items())
            for pin in pins
        ),
    ]


def env_key(
    requirements: Sequence[str],
    constraints: Path | None,
    installer: Installer,
    python: str,
    *,
    require_hashes: bool = False,
) -> str:
    constraint_digest = None
    if constraints is not None:
        try:
            constraint_digest = hashlib.sha256(constraints.read_bytes()).hexdigest()
        except OSError as exc:
            raise KilnError(
                f"cannot read build constraints `{constraints}`: {exc.strerror}"
            ) from None
    material: dict[str, object] = {
        "python": python,
        "python_version": platform.python_version() if python == sys.executable else None,
        "implementation": sys.implementation.name,
        "installer": installer.name,
        "index": index_key(installer.index),
        "settings": installer.settings_key,
        "requirements": normalize_requirements(requirements),
        "constraints": constraint_digest,
    }
    if constraints is not None:
        # The constraints' `--hash` digests are checked since this entry was added: an
        # environment installed before, unchecked, is not reused.
        material["constraint_hashes"] = "verified"
    if require_hashes:  # an environment made without checking is never reused for one
        material["require_hashes"] = True
    blob = json.dumps(material, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def _freeze(python: Path) -> list[str]:
    result = subprocess.run(
        [str(python), "-c", _FREEZE], check=False, capture_output=True, text=True, errors="replace"
    )
    if result.returncode != 0:
        return []
    packages: list[str] = json.loads(result.stdout)
    return packages


def _relocate_scripts(env_dir: Path, old: Path, new: Path) -> None:
    """Point script shebangs and activation scripts at the final location."""
    scripts = env_python(env_dir).parent
    before, after = str(old).encode(), str(new).encode()
    for entry in scripts.iterdir():
        if entry.is_symlink() or not entry.is_file():
            continue
        data = entry.read_bytes()
        if before in data and b"\0" not in data:
            entry.write_bytes(data.replace(before, after))


class EnvProvider:
    """Hands out build environments, from the cache or freshly made."""

    def __init__(
        self,
        installer: Installer,
        reporter: Reporter,
        *,
        root: Path | None,
        refresh: bool = False,
        python: str = sys.executable,
        upgrade: frozenset[str] = frozenset(),
        require_hashes: bool = False,
    ) -> None:
        """``upgrade``: cached environments holding one of these packages are made again
        (once per run), as ``refresh`` makes every environment again. ``require_hashes``
        (``--require-build-hashes``): the installer checks every package it installs against
        the ``--hash`` digests of the build constraints."""
        self.require_hashes = require_hashes
        self.installer = installer
        self.reporter = reporter
        self.root = root
        self.refresh = refresh
        self.python = python
        self.upgrade = frozenset(canonicalize_name(name) for name in upgrade)
        self._refreshed: set[str] = set()
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> EnvProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def get(
        self,
        requirements: Sequence[str],
        constraints: Path | None,
        *,
        identity: Sequence[str] | None = None,
    ) -> BuildEnv:
        """An environment with ``requirements``; ``identity`` replaces them in the cache key
        (build requirements from sources: what they resolved to, not a temporary path)."""
        key = env_key(
            requirements if identity is None else identity,
            constraints,
            self.installer,
            self.python,
            require_hashes=self.require_hashes,
        )
        if self.root is None:
            if self._scratch is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="kiln-build-env-")
            final = Path(self._scratch.name) / key
            if (final / MARKER).is_file():
                return self._load(final)
            return self._create(final, requirements, constraints)
        from filelock import FileLock

        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / key
        with FileLock(str(self.root / f"{key}.lock")):
            stale = self.refresh and key not in self._refreshed
            env = self._load(final) if (final / MARKER).is_file() else None
            if env is not None and self.upgrade and key not in self._refreshed:
                stale = stale or any(
                    canonicalize_name(item.partition("==")[0]) in self.upgrade
                    for item in env.packages
                )
            if env is not None and not stale:
                self.reporter.debug(
                    f"reusing build environment `{final}` ({', '.join(env.packages) or 'empty'})"
                )
                return env
            if final.exists():
                shutil.rmtree(final)
            self._refreshed.add(key)
            return self._create(final, requirements, constraints)

    def _load(self, final: Path) -> BuildEnv:
        try:
            record = json.loads((final / MARKER).read_text(encoding="utf-8"))
            packages = [str(item) for item in record.get("packages", [])]
        except (OSError, ValueError, AttributeError):
            packages = []
        return BuildEnv(final, packages)

    def _create(
        self, final: Path, requirements: Sequence[str], constraints: Path | None
    ) -> BuildEnv:
        shown = ", ".join(f"`{item}`" for item in requirements) or "nothing"
        self.reporter.progress(f"Installing build requirements: {shown}")
        self.reporter.debug(f"creating build environment `{final}`")
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
        try:
            env_dir = staging / "env"
            self.installer.create(env_dir, self.python)
            self.installer.install(
                env_python(env_dir), list(requirements), constraints,
                require_hashes=self.require_hashes,
            )
            packages = _freeze(env_python(env_dir))
            _relocate_scripts(env_dir, env_dir, final)
            record = {"requirements": normalize_requirements(requirements), "packages": packages}
            (env_dir / MARKER).write_text(json.dumps(record, indent=2), encoding="utf-8")
            os.replace(env_dir, final)
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(staging)
        self.reporter.debug(f"installed {', '.join(packages) or 'nothing'}")
        return BuildEnv(final, packages)
