"""Installing wheels into an environment.

Each wheel is verified and unpacked once into the cache, then its files are linked
into a staging directory inside site-packages and moved into place together, the
``.dist-info`` directory last and its RECORD very last. A failure rolls the wheel
back completely (including the removal of a version it replaces).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kiln.core.install.environment import Environment
from kiln.core.install.installed import (
    InstalledDistribution,
    installed_distributions,
    read_distribution,
)
from kiln.core.install.linking import LinkMode
from kiln.core.install.record import RecordEntry, entry_for, parse_record, render_record
from kiln.core.install.removal import apply_removal, plan_removal, prune_directories
from kiln.core.install.scripts import EntryPoint, launcher, parse_entry_points, rewrite_placeholder
from kiln.core.install.transaction import STAGING_PREFIX, Transaction
from kiln.core.install.wheel import UnpackedWheel, unpack_wheel
from kiln.errors import KilnError

INSTALLER_NAME = "kiln"
_GENERATED = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_SCRIPT_SUFFIXES = re.compile(r"(\.exe|-script\.pyw?|\.pya)$")


@dataclass(frozen=True)
class InstallRequest:
    wheel: Path
    #: Write REQUESTED: the user asked for this distribution (not only a dependency).
    requested: bool = False
    #: The PEP 610 ``direct_url.json`` content, for URL, path and editable installs.
    direct_url: Mapping[str, object] | None = None


@dataclass(frozen=True)
class InstallResult:
    name: str
    version: str
    dist_info: Path
    #: The distribution this install replaced, if any.
    replaced: InstalledDistribution | None
    #: Files hard-linked from the cache (the rest were copied or generated).
    linked: int
    installed: list[Path] = field(default_factory=list)


def install_wheels(
    env: Environment,
    requests: Sequence[InstallRequest],
    *,
    compile_bytecode: bool = False,
    link_mode: LinkMode = "hardlink",
    cache: Path | None = None,
) -> list[InstallResult]:
    """Verify every wheel first, then install them one by one, each all or nothing.

    When a later wheel fails, the earlier ones stay installed (each is complete) and
    the failing one leaves no trace.
    """
    # Checking a wheel is mostly hashing and file reads: a few threads overlap them.
    with ThreadPoolExecutor(max_workers=_workers(len(requests))) as pool:
        unpacked = list(pool.map(lambda request: unpack_wheel(request.wheel, cache), requests))
    # What is installed is read once; a wheel just installed is read again only if the
    # same name comes up later in the batch.
    current: dict[str, InstalledDistribution | Path] = {
        dist.name: dist for dist in installed_distributions(env)
    }
    results: list[InstallResult] = []
    env.site_packages.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=env.site_packages))
    try:
        for request, wheel in zip(requests, unpacked):
            existing = current.get(wheel.name)
            if isinstance(existing, Path):
                existing = read_distribution(existing)
            result = _install_unpacked(env, wheel, request, link_mode, existing, staging)
            results.append(result)
            current[wheel.name] = result.dist_info
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if compile_bytecode:
        compile_files(env, (p for r in results for p in r.installed if p.suffix == ".py"))
    return results


def _workers(count: int) -> int:
    return max(1, min(count, 4, os.cpu_count() or 1))


def install_wheel(
    env: Environment,
    wheel: Path,
    *,
    requested: bool = False,
    direct_url: Mapping[str, object] | None = None,
    compile_bytecode: bool = False,
    link_mode: LinkMode = "hardlink",
    cache: Path | None = None,
) -> InstallResult:
    request = InstallRequest(wheel, requested, direct_url)
    results = install_wheels(
        env, [request], compile_bytecode=compile_bytecode, link_mode=link_mode, cache=cache
    )
    return results[0]


def _install_unpacked(
    env: Environment,
    wheel: UnpackedWheel,
    request: InstallRequest,
    link_mode: LinkMode,
    existing: InstalledDistribution | None,
    staging: Path | None = None,
) -> InstallResult:
    removal = plan_removal(env, existing) if existing is not None else None
    root_dir = env.scheme.purelib if wheel.root_is_purelib else env.scheme.platlib
    dist_info_dir = root_dir / wheel.dist_info
    try:
        with Transaction(env.site_packages, link_mode, staging) as transaction:
            stager = _Stager(env, wheel, root_dir, transaction)
            stager.stage_wheel_files()
            stager.stage_metadata(request)
            if removal is not None:
                apply_removal(transaction, removal)
            transaction.commit()
    except OSError as exc:
        raise KilnError(
            f"cannot install `{wheel.filename}` into `{env.prefix}`: {exc}",
            hint="nothing of it was installed",
        ) from None
    if removal is not None:
        prune_directories(env, removal.paths)
    return InstallResult(
        name=wheel.display_name,
        version=str(wheel.version),
        dist_info=dist_info_dir,
        replaced=existing,
        linked=transaction.linked,
        installed=stager.installed,
    )


class _Stager:
    """Decides where each file of one wheel goes and stages it, collecting RECORD."""

    def __init__(
        self, env: Environment, wheel: UnpackedWheel, root_dir: Path, transaction: Transaction
    ) -> None:
        self.env = env
        self.wheel = wheel
        self.root_dir = root_dir
        self.transaction = transaction
        self.python = str(env.python)
        self.record: list[RecordEntry] = []
        self.installed: list[Path] = []
        self.known = _wheel_record(wheel)
        self.entry_points = _entry_points(wheel)
        self._later: list[tuple[str, Path, str]] = []  # dist-info files, staged last

    def _add(self, final: Path, entry_hash: str, size: str, relative: str | None = None) -> None:
        """Record ``final``; ``relative`` is its path from the root directory, when known."""
        if relative is None:
            relative = os.path.relpath(final, self.root_dir).replace(os.sep, "/")
        self.record.append(RecordEntry(relative, entry_hash, size))
        self.installed.append(final)

    def _link(
        self, source: str, final: Path, relative: str, *, in_root: bool = False
    ) -> None:
        """Stage ``source`` (the wheel member ``relative``) at ``final``; ``in_root`` says
        that ``final`` is ``relative`` under the root directory."""
        entry_hash, size = self.known[relative]
        self.transaction.stage_link(source, final)
        self._add(final, entry_hash, size, relative if in_root else None)

    def _write(self, data: bytes, final: Path, *, executable: bool = False) -> None:
        self.transaction.stage_bytes(data, final, executable=executable)
        entry = entry_for("", data)
        self._add(final, entry.hash, entry.size)

    def stage_wheel_files(self) -> None:
        wheel = self.wheel
        launcher_names = {point.name for point in self.entry_points}
        for source, relative in _files(wheel.root, self.known):
            top, _, rest = relative.partition("/")
            if top == wheel.dist_info:
                if rest not in _GENERATED and not rest.startswith("RECORD."):
                    self._later.append((source, self.root_dir / relative, relative))
            elif top == wheel.data_dir:
                key, _, inner = rest.partition("/")
                final = self.env.scheme.directory(key, wheel.display_name) / inner
                if key == "scripts":
                    if _SCRIPT_SUFFIXES.sub("", final.name) in launcher_names:
                        continue  # the generated launcher wins
                    self._stage_script(source, final, relative)
                else:
                    self._link(source, final, relative)
            else:
                self._link(source, self.root_dir / relative, relative, in_root=True)
        for point in self.entry_points:
            final = self.env.scheme.scripts / point.name
            self._write(launcher(self.python, point), final, executable=True)

    def _stage_script(self, source: str, final: Path, relative: str) -> None:
        with open(source, "rb") as handle:
            content = handle.read()
        rewritten = rewrite_placeholder(content, self.python)
        if rewritten is None:
            self._link(source, final, relative)
        else:
            self._write(rewritten, final, executable=True)

    def stage_metadata(self, request: InstallRequest) -> None:
        for source, final, relative in self._later:
            self._link(source, final, relative, in_root=True)
        dist_info = self.root_dir / self.wheel.dist_info
        self._write(f"{INSTALLER_NAME}\n".encode(), dist_info / "INSTALLER")
        if request.requested:
            self._write(b"", dist_info / "REQUESTED")
        if request.direct_url is not None:
            payload = json.dumps(redact_direct_url(request.direct_url), sort_keys=True)
            self._write(payload.encode() + b"\n", dist_info / "direct_url.json")
        record_path = dist_info / "RECORD"
        self.record.append(RecordEntry(f"{self.wheel.dist_info}/RECORD"))
        self.transaction.stage_bytes(render_record(self.record), record_path)
        self.installed.append(record_path)


def _files(root: Path, record: Mapping[str, object]) -> Iterable[tuple[str, str]]:
    """Every file of the unpacked wheel at ``root``, sorted: (its path, its ``/``-separated
    relative path). Unpacking checked that the archive holds exactly the files its RECORD
    lists (plus RECORD and its signatures), so RECORD is the listing: no directory walk."""
    top = str(root)
    for relative in sorted(record):
        if not relative.endswith("/"):
            yield os.path.join(top, *relative.split("/")), relative


def _wheel_record(wheel: UnpackedWheel) -> dict[str, tuple[str, str]]:
    text = (wheel.root / wheel.dist_info / "RECORD").read_text("utf-8")
    return {entry.path: (entry.hash, entry.size) for entry in parse_record(text)}


def _entry_points(wheel: UnpackedWheel) -> list[EntryPoint]:
    path = wheel.root / wheel.dist_info / "entry_points.txt"
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise KilnError(f"cannot read `{wheel.dist_info}/entry_points.txt` of `{wheel.filename}`: {exc}") from None
    return parse_entry_points(text, f"{wheel.filename}: {wheel.dist_info}/entry_points.txt")


_PLACEHOLDER_CREDENTIAL = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}(:\$\{[A-Za-z_][A-Za-z0-9_]*\})?$")


def redact_direct_url(direct_url: Mapping[str, object]) -> dict[str, object]:
    """``direct_url`` with credentials removed from its URL (env-var placeholders are kept)."""
    data = dict(direct_url)
    url = data.get("url")
    if isinstance(url, str):
        parts = urlsplit(url)
        userinfo, at, host = parts.netloc.rpartition("@")
        if at and not _PLACEHOLDER_CREDENTIAL.match(userinfo):
            data["url"] = urlunsplit(parts._replace(netloc=host))
    return data


def compile_files(env: Environment, paths: Iterable[Path]) -> None:
    """Byte-compile ``paths`` with the environment's interpreter (errors are ignored)."""
    listing = "\n".join(str(p) for p in paths)
    if not listing:
        return
    script = (
        "import compileall, sys\n"
        "for line in sys.stdin.read().splitlines():\n"
        "    compileall.compile_file(line, quiet=2)\n"
    )
    subprocess.run(
        [str(env.python), "-I", "-c", script], input=listing, text=True, capture_output=True,
        check=False,
    )
