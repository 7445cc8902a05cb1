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
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from kiln.core.install.environment import Environment
from kiln.core.install.envlock import STAGING_PREFIX
from kiln.core.install.installed import (
    InstalledDistribution,
    installed_distributions,
    read_distribution,
)
from kiln.core.install.linking import LinkMode
from kiln.core.install.ownership import Owners, check_replace
from kiln.core.install.record import entry_for, parse_rows, render_rows
from kiln.core.install.removal import Removal, apply_removal, plan_removal, prune_directories
from kiln.core.install.scripts import EntryPoint, launcher, parse_entry_points, rewrite_placeholder
from kiln.core.install.transaction import Transaction
from kiln.core.install.wheel import UnpackedWheel, unpack_wheel, unpacked_already
from kiln.errors import KilnError

INSTALLER_NAME = "kiln"
_GENERATED = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_SCRIPT_SUFFIXES = re.compile(r"(\.exe|-script\.pyw?|\.pya)$")


class InstallRequest(NamedTuple):
    wheel: Path
    #: Write REQUESTED: the user asked for this distribution (not only a dependency).
    requested: bool = False
    #: The PEP 610 ``direct_url.json`` content, for URL, path and editable installs.
    direct_url: Mapping[str, object] | None = None


class InstallResult(NamedTuple):
    name: str
    version: str
    dist_info: Path
    #: The distribution this install replaced, if any.
    replaced: InstalledDistribution | None
    #: Files hard-linked from the cache (the rest were copied or generated).
    linked: int
    #: Every file installed, as a path.
    installed: Sequence[str] = ()


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
    the failing one leaves no trace. A wheel that would replace a file no installed
    distribution owns (see :mod:`kiln.core.install.ownership`) fails that way.
    """
    unpacked = _unpack_all([request.wheel for request in requests], cache)
    for wheel in unpacked:
        _check_python(env, wheel)
    # What is installed is read once; a wheel just installed is read again only if the
    # same name comes up later in the batch.
    current: dict[str, InstalledDistribution | Path] = {
        dist.name: dist for dist in installed_distributions(env)
    }
    env.site_packages.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=env.site_packages))
    owners = Owners(env)
    try:
        batch = list(zip(requests, unpacked))
        if len(batch) > 1 and len({wheel.name for wheel in unpacked}) == len(unpacked):
            results = _install_staging_ahead(env, batch, link_mode, current, staging, owners)
        else:
            results = []
            for request, wheel in batch:
                existing = current.get(wheel.name)
                staged = _stage(env, wheel, request, link_mode, existing, staging, owners)
                results.append(_commit(staged))
                # The same name again later in the batch replaces this install.
                current[wheel.name] = results[-1].dist_info
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if compile_bytecode:
        compile_files(env, (p for r in results for p in r.installed if p.endswith(".py")))
    return results


def _install_staging_ahead(
    env: Environment,
    batch: Sequence[tuple[InstallRequest, UnpackedWheel]],
    link_mode: LinkMode,
    current: Mapping[str, InstalledDistribution | Path],
    staging: Path,
    owners: Owners,
) -> list[InstallResult]:
    """Stage the wheels in a few worker threads and commit each, in order, once it is
    staged. Staging is mostly system calls that make directories and links, which run
    side by side (the threads release the interpreter lock for them); committing is a few
    renames per wheel. A failure stops at its wheel: the ones before it stay installed,
    the staged rest goes with the staging directory."""
    results: list[InstallResult] = []
    with ThreadPoolExecutor(max_workers=_workers(len(batch))) as pool:
        futures = [
            pool.submit(
                _stage, env, wheel, request, link_mode, current.get(wheel.name), staging, owners
            )
            for request, wheel in batch
        ]
        try:
            for future in futures:
                results.append(_commit(future.result()))
        except BaseException:
            for pending in futures:
                pending.cancel()
            raise
    return results


def _unpack_all(wheels: Sequence[Path], cache: Path | None) -> list[UnpackedWheel]:
    """Every wheel verified and unpacked in the cache. Those unpacked by an earlier run
    are looked up one after the other (a few file system calls each: threads would only
    add overhead); checking new ones is mostly hashing and decompressing, which a few
    threads overlap."""
    found = [unpacked_already(wheel, cache) for wheel in wheels]
    missing = [wheel for wheel, known in zip(wheels, found) if known is None]
    if missing:
        with ThreadPoolExecutor(max_workers=_workers(len(missing))) as pool:
            fresh = iter(list(pool.map(lambda wheel: unpack_wheel(wheel, cache), missing)))
        found = [known if known is not None else next(fresh) for known in found]
    return [known for known in found if known is not None]


def _check_python(env: Environment, wheel: UnpackedWheel) -> None:
    """Refuse a wheel whose ``Requires-Python`` excludes the environment's Python."""
    if not wheel.requires_python:
        return
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    try:
        allowed = SpecifierSet(wheel.requires_python)
    except InvalidSpecifier:
        raise KilnError(
            f"invalid wheel `{wheel.filename}`: METADATA `Requires-Python` "
            f"`{wheel.requires_python}` is not a version specifier"
        ) from None
    version = ".".join(map(str, env.interpreter.version))
    if not allowed.contains(Version(version), prereleases=True):
        raise KilnError(
            f"`{wheel.filename}` requires Python {allowed}, but `{env.prefix}` has "
            f"Python {version}",
            hint="choose a version of it that supports this Python, or another environment "
            "(`--python`)",
        )


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


class _Staged:
    """A wheel whose files wait in the staging directory, ready to be committed."""

    __slots__ = (
        "dist_info", "env", "existing", "owners", "removal", "stager", "transaction", "wheel",
    )

    def __init__(
        self,
        env: Environment,
        wheel: UnpackedWheel,
        dist_info: Path,
        transaction: Transaction,
        stager: _Stager,
        existing: InstalledDistribution | None,
        removal: Removal | None,
        owners: Owners,
    ) -> None:
        self.env = env
        self.wheel = wheel
        self.dist_info = dist_info
        self.transaction = transaction
        self.stager = stager
        self.existing = existing
        self.removal = removal
        self.owners = owners


def _stage(
    env: Environment,
    wheel: UnpackedWheel,
    request: InstallRequest,
    link_mode: LinkMode,
    existing: InstalledDistribution | Path | None,
    staging: Path,
    owners: Owners,
) -> _Staged:
    if isinstance(existing, Path):
        existing = read_distribution(existing)
    removal = plan_removal(env, existing, replacing=True) if existing is not None else None
    root_dir = env.scheme.purelib if wheel.root_is_purelib else env.scheme.platlib

    def guard(final: str, staged: str) -> None:
        check_replace(env, owners, wheel.filename, final, staged)

    transaction = Transaction(env.site_packages, link_mode, staging, guard)
    try:
        stager = _Stager(env, wheel, root_dir, transaction)
        stager.stage_wheel_files()
        stager.stage_metadata(request)
    except OSError as exc:
        transaction.discard()
        raise _cannot_install(env, wheel, exc) from None
    except BaseException:
        transaction.discard()
        raise
    return _Staged(
        env, wheel, root_dir / wheel.dist_info, transaction, stager, existing, removal, owners
    )


def _commit(staged: _Staged) -> InstallResult:
    """Move a staged wheel into place (removing the version it replaces), all or nothing."""
    transaction = staged.transaction
    removal = staged.removal
    try:
        with transaction:
            if removal is not None:
                apply_removal(transaction, removal)
            transaction.commit()
    except OSError as exc:
        raise _cannot_install(staged.env, staged.wheel, exc) from None
    if removal is not None:
        prune_directories(staged.env, removal.paths)
    staged.owners.add(staged.stager.installed)
    return InstallResult(
        name=staged.wheel.display_name,
        version=str(staged.wheel.version),
        dist_info=staged.dist_info,
        replaced=staged.existing,
        linked=transaction.linked,
        installed=staged.stager.installed,
    )


def _cannot_install(env: Environment, wheel: UnpackedWheel, exc: OSError) -> KilnError:
    return KilnError(
        f"cannot install `{wheel.filename}` into `{env.prefix}`: {exc}",
        hint="nothing of it was installed",
    )


class _Stager:
    """Decides where each file of one wheel goes and stages it, collecting RECORD.

    A destination is a root directory of the scheme and a ``/``-separated path below it.
    This runs once per file of every wheel, so it works on plain strings.
    """

    def __init__(
        self, env: Environment, wheel: UnpackedWheel, root_dir: Path, transaction: Transaction
    ) -> None:
        self.env = env
        self.wheel = wheel
        self.root_dir = root_dir
        self._root = str(root_dir)
        self.transaction = transaction
        self.python = str(env.python)
        #: RECORD rows: (path relative to the root directory, hash, size).
        self.record: list[tuple[str, str, str]] = []
        #: Every installed file, as a path.
        self.installed: list[str] = []
        self.known = _wheel_record(wheel)
        self.entry_points = _entry_points(wheel)

    def _add(self, root: Path, inner: str, entry_hash: str, size: str) -> None:
        if root is self.root_dir:
            relative = inner
            final = os.path.join(self._root, inner)
        else:
            final = os.path.join(root, inner)
            relative = os.path.relpath(final, self._root).replace(os.sep, "/")
        self.record.append((relative, entry_hash, size))
        self.installed.append(final)

    def _link(self, source: str, root: Path, inner: str, member: str) -> None:
        """Stage ``source`` (the wheel member ``member``) at ``root/inner``."""
        entry_hash, size = self.known[member]
        self.transaction.stage_link(source, root, inner)
        self._add(root, inner, entry_hash, size)

    def _write(self, data: bytes, root: Path, inner: str, *, executable: bool = False) -> None:
        self.transaction.stage_bytes(data, root, inner, executable=executable)
        entry = entry_for("", data)
        self._add(root, inner, entry.hash, entry.size)

    def stage_wheel_files(self) -> None:
        wheel = self.wheel
        launcher_names = {point.name for point in self.entry_points}
        data_prefix = wheel.data_dir + "/"
        info_prefix = wheel.dist_info + "/"
        known = self.known
        members = [member for member in sorted(known) if not member.endswith("/")]
        # Files that go to the root directory under their own name: most of any wheel,
        # staged in one pass.
        plain = [
            member for member in members
            if not member.startswith(data_prefix)
            and not (
                member.startswith(info_prefix)
                and (member[len(info_prefix):] in _GENERATED
                     or member[len(info_prefix):].startswith("RECORD."))
            )
        ]
        source_root = str(wheel.root)
        self.transaction.stage_many(source_root, self.root_dir, plain)
        root = self._root
        self.record.extend((member, *known[member]) for member in plain)
        self.installed.extend(f"{root}/{member}" for member in plain)
        for member in members:
            if not member.startswith(data_prefix):
                continue
            source = os.path.join(source_root, *member.split("/"))
            key, _, inner = member[len(data_prefix):].partition("/")
            target = self.env.scheme.directory(key, wheel.display_name)
            if key == "scripts":
                if _SCRIPT_SUFFIXES.sub("", inner.rpartition("/")[2]) in launcher_names:
                    continue  # the generated launcher wins
                self._stage_script(source, target, inner, member)
            else:
                self._link(source, target, inner, member)
        for point in self.entry_points:
            script = launcher(self.python, point, relocatable=self.env.relocatable)
            self._write(script, self.env.scheme.scripts, point.name, executable=True)

    def _stage_script(self, source: str, root: Path, inner: str, member: str) -> None:
        with open(source, "rb") as handle:
            content = handle.read()
        rewritten = rewrite_placeholder(content, self.python, relocatable=self.env.relocatable)
        if rewritten is None:
            self._link(source, root, inner, member)
        else:
            self._write(rewritten, root, inner, executable=True)

    def stage_metadata(self, request: InstallRequest) -> None:
        """The files an installer adds to ``.dist-info``; RECORD, listing them all, last."""
        dist_info = self.wheel.dist_info
        self._write(f"{INSTALLER_NAME}\n".encode(), self.root_dir, f"{dist_info}/INSTALLER")
        if request.requested:
            self._write(b"", self.root_dir, f"{dist_info}/REQUESTED")
        if request.direct_url is not None:
            payload = json.dumps(redact_direct_url(request.direct_url), sort_keys=True)
            self._write(payload.encode() + b"\n", self.root_dir, f"{dist_info}/direct_url.json")
        record = f"{dist_info}/RECORD"
        self.record.append((record, "", ""))
        self.transaction.stage_bytes(render_rows(self.record), self.root_dir, record)
        self.installed.append(os.path.join(self._root, record))


def _wheel_record(wheel: UnpackedWheel) -> dict[str, tuple[str, str]]:
    text = (wheel.root / wheel.dist_info / "RECORD").read_text("utf-8")
    return {path: (digest, size) for path, digest, size in parse_rows(text)}


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


def compile_files(env: Environment, paths: Iterable[str | Path]) -> None:
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
