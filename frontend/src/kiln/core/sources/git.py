"""Fetching git sources into the cache with the ``git`` command.

Layout under ``<cache>/git-v1/``:

* ``db/<key>/`` — a bare mirror per repository, ``key`` a hash of the normalised URL;
* ``checkouts/<sha>/`` — the tree of one commit (``git archive``), written once, atomically;
* ``locks/`` — ``filelock`` files guarding both.

The URL (which may hold credentials) is passed to ``git fetch`` on the command line only: it is
never written into the mirror's configuration, and messages show it redacted.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from kiln.core.cachedir import cache_root
from kiln.core.index.redaction import redact, redact_text, strip_credentials
from kiln.core.sources.model import GitSource
from kiln.errors import KilnError

_SHA = re.compile(r"[0-9a-f]{40}")
_ALL_REFS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_DEFAULT_HEAD = "refs/kiln/default-head"


class GitCheckout(NamedTuple):
    """A commit of a git source, unpacked in the cache."""

    #: The repository URL without credentials.
    url: str
    commit: str
    #: The unpacked tree of the commit.
    root: Path
    #: ``root`` joined with the source's ``subdirectory``: the project to build.
    project: Path


def git_cache_dir() -> Path:
    """``<cache>/git-v1``."""
    return cache_root() / "git-v1"


def normalise_url(url: str) -> str:
    """The identity of a repository: no credentials, lower-case host, no ``.git``/``/`` suffix."""
    url = strip_credentials(url.removeprefix("git+"))
    parts = urlsplit(url)
    if parts.scheme:
        path = parts.path.rstrip("/").removesuffix(".git")
        url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))
    else:
        url = url.rstrip("/").removesuffix(".git")
    return url


def repository_key(url: str) -> str:
    return hashlib.sha256(normalise_url(url).encode()).hexdigest()[:16]


def fetch(
    source: GitSource, *, cache_dir: Path | None = None, offline: bool = False
) -> GitCheckout:
    """Resolve ``source`` to a commit and make its tree available in the cache.

    With ``offline``, only the mirror already in the cache is used (branches resolve to the
    commit fetched last). Raises :class:`KilnError` for an unreachable repository, an unknown
    reference or a missing ``subdirectory``.
    """
    from filelock import FileLock

    base = cache_dir if cache_dir is not None else git_cache_dir()
    key = repository_key(source.url)
    (base / "locks").mkdir(parents=True, exist_ok=True)
    mirror = base / "db" / key
    with FileLock(str(base / "locks" / f"db-{key}.lock")):
        if not mirror.is_dir():
            if offline:
                raise KilnError(
                    f"git repository `{redact(source.url)}` is not in the cache",
                    hint="run once without offline mode to fetch it",
                )
            _create_mirror(mirror)
        commit = _resolve(mirror, source, offline)
    with FileLock(str(base / "locks" / f"checkout-{commit}.lock")):
        root = _checkout(mirror, commit, base / "checkouts")
    project = root / source.subdirectory if source.subdirectory else root
    if source.subdirectory and not project.is_dir():
        raise KilnError(
            f"`subdirectory = \"{source.subdirectory}\"` does not exist in "
            f"`{redact(source.url)}` at commit `{commit}`"
        )
    return GitCheckout(url=strip_credentials(source.url), commit=commit, root=root, project=project)


def _create_mirror(mirror: Path) -> None:
    mirror.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=".tmp-", dir=mirror.parent))
    try:
        _git(["init", "--bare", "--quiet", str(temporary)], what="create a git mirror")
        os.replace(temporary, mirror)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _resolve(mirror: Path, source: GitSource, offline: bool) -> str:
    reference = source.reference
    url = source.url
    if reference is None:
        if not offline:
            _fetch(mirror, url, [f"+HEAD:{_DEFAULT_HEAD}"], source, "the default branch")
        return _local_commit(mirror, _DEFAULT_HEAD, source, "the default branch")
    kind, value = reference
    described = f"{kind} `{value}`"
    if kind == "tag":
        local = f"refs/tags/{value}"
        if not offline and _try_local_commit(mirror, local) is None:
            _fetch(mirror, url, [f"+{local}:{local}"], source, described)
        return _local_commit(mirror, local, source, described)
    if kind == "branch":
        local = f"refs/heads/{value}"
        if not offline:
            _fetch(mirror, url, [f"+{local}:{local}"], source, described)
        return _local_commit(mirror, local, source, described)
    # `rev`: a commit (full or abbreviated) or any ref name.
    if _SHA.fullmatch(value.lower()):
        if _try_local_commit(mirror, value.lower()) is None and not offline:
            _fetch(mirror, url, list(_ALL_REFS), source, described)
            if _try_local_commit(mirror, value.lower()) is None:
                _fetch(mirror, url, [value.lower()], source, described, missing_ok=True)
        return _local_commit(mirror, value.lower(), source, described)
    if not offline:
        _fetch(mirror, url, list(_ALL_REFS), source, described)
    for candidate in (f"refs/tags/{value}", f"refs/heads/{value}", value):
        commit = _try_local_commit(mirror, candidate)
        if commit is not None:
            return commit
    return _local_commit(mirror, value, source, described)


def _fetch(
    mirror: Path,
    url: str,
    refspecs: Sequence[str],
    source: GitSource,
    described: str,
    *,
    missing_ok: bool = False,
) -> None:
    result = _run_git(
        ["--git-dir", str(mirror), "fetch", "--quiet", "--no-write-fetch-head", "--", url, *refspecs]
    )
    if result.returncode == 0:
        return
    message = _clean(result.stderr, url)
    lowered = message.lower()
    if "couldn't find remote ref" in lowered or "not our ref" in lowered or "no such remote ref" in lowered:
        if missing_ok:
            return
        raise _unknown_ref(source, described)
    if missing_ok and ("unadvertised object" in lowered or "upload-pack" in lowered):
        return
    raise KilnError(
        f"cannot fetch git repository `{redact(url)}`: {message or 'git failed'}",
        hint="check the URL, your network connection and your credentials",
    )


def _unknown_ref(source: GitSource, described: str) -> KilnError:
    return KilnError(
        f"{described} not found in git repository `{redact(source.url)}`",
        hint="check that the tag, branch or commit exists in the repository "
        "(commits may be given in full or abbreviated)",
    )


def _try_local_commit(mirror: Path, ref: str) -> str | None:
    result = _run_git(
        ["--git-dir", str(mirror), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]
    )
    if result.returncode != 0:
        return None
    commit = result.stdout.strip()
    return commit if _SHA.fullmatch(commit) else None


def _local_commit(mirror: Path, ref: str, source: GitSource, described: str) -> str:
    commit = _try_local_commit(mirror, ref)
    if commit is None:
        raise _unknown_ref(source, described)
    return commit


def _checkout(mirror: Path, commit: str, checkouts: Path) -> Path:
    target = checkouts / commit
    if target.is_dir():
        return target
    if not hasattr(tarfile, "data_filter"):
        raise KilnError(
            "unpacking git sources needs a Python whose `tarfile` has the `data` filter",
            hint="upgrade to Python 3.10.12, 3.11.4 or newer",
        )
    checkouts.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".tmp-{commit[:12]}-", dir=checkouts))
    try:
        process = subprocess.Popen(
            ["git", "--git-dir", str(mirror), "archive", "--format=tar", commit],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_environment(),
        )
        assert process.stdout is not None
        with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
            archive.extractall(temporary, filter="data")
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise KilnError(
                f"cannot unpack commit `{commit}`: {stderr.decode(errors='replace').strip()}"
            )
        os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return target


def _git(arguments: list[str], *, what: str) -> str:
    result = _run_git(arguments)
    if result.returncode != 0:
        raise KilnError(f"cannot {what}: {_clean(result.stderr, '')}")
    return result.stdout


def _run_git(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *arguments],
            check=False,
            capture_output=True,
            text=True,
            env=_environment(),
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise KilnError(
            "`git` was not found on `PATH`",
            hint="install git to use `git` sources",
        ) from None


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            "LANGUAGE": "C",
        }
    )
    environment.pop("GIT_DIR", None)
    environment.pop("GIT_WORK_TREE", None)
    return environment


def _clean(stderr: str, url: str) -> str:
    """The first meaningful line of git's output, with every credential removed."""
    text = stderr
    if url:
        text = text.replace(url, redact(url))
    text = redact_text(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meaningful = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines
    if not meaningful:
        return ""
    line = meaningful[0]
    for prefix in ("fatal: ", "error: "):
        line = line.removeprefix(prefix)
    return line
