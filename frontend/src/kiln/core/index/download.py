"""Downloading distribution files: verified against index hashes, cached by sha256."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Protocol

from kiln.core.fileio import file_url_path
from kiln.core.index.cache import FileCache
from kiln.core.index.http import HttpSession, OfflineError
from kiln.core.index.redaction import redact
from kiln.core.types import DistFile
from kiln.errors import KilnError

CHUNK = 256 * 1024
#: Called after each finished download with (file, finished count, total count).
ProgressCallback = Callable[[DistFile, int, int], None]
_PROGRESS_LOCK = threading.Lock()


class RemoteFile(Protocol):
    """What a download needs to know of a file: a :class:`DistFile` of an index, or an
    archive a direct reference or a build requirement's ``url`` source points at."""

    @property
    def name(self) -> str:
        """The package, for messages."""

    @property
    def url(self) -> str: ...

    @property
    def filename(self) -> str: ...

    @property
    def hashes(self) -> Mapping[str, str]:
        """Hash algorithm -> hex digest the file must match (may be empty)."""


def verify_hashes(path: Path, file: RemoteFile) -> str:
    """Check ``path`` against every known hash of ``file``; return its sha256."""
    digests = _digests(file)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            for digest in digests.values():
                digest.update(chunk)
    _compare(digests, file)
    return digests["sha256"].hexdigest()


def _digests(file: RemoteFile) -> dict[str, hashlib._Hash]:
    digests = {"sha256": hashlib.sha256()}
    for algo in file.hashes:
        if algo not in digests and algo in hashlib.algorithms_available:
            digests[algo] = hashlib.new(algo)
    return digests


def _compare(digests: dict[str, hashlib._Hash], file: RemoteFile) -> None:
    for algo, expected in file.hashes.items():
        digest = digests.get(algo)
        if digest is None:
            continue
        actual = digest.hexdigest()
        if actual != expected.lower():
            raise KilnError(
                f"hash mismatch for `{file.filename}` from `{redact(file.url)}`\n"
                f"expected {algo}: {expected}\n"
                f"got      {algo}: {actual}",
                hint="the file on the index differs from the one it advertises; "
                "it was not used",
            )


class Downloader:
    """Fetches files through a shared session into the content-addressed cache."""

    def __init__(self, session: HttpSession, cache: FileCache, *, refresh: bool = False) -> None:
        self.session = session
        self.cache = cache
        self.refresh = refresh

    def download(self, file: RemoteFile) -> Path:
        """A local, verified copy of ``file`` (from the cache when possible)."""
        if file.url.startswith("file:"):
            path = file_url_path(file.url)
            if not path.is_file():
                raise KilnError(f"`{path}` does not exist (listed as `{file.filename}`)")
            if file.hashes:  # nothing to compare otherwise: skip reading the whole file
                verify_hashes(path, file)
            return path
        sha256 = file.hashes.get("sha256")
        damaged = False
        refresh = self.refresh or self.session.settings.refreshes(file.name)
        if not refresh:
            cached, damaged = self._cached(file, sha256)
            if cached is not None:
                return cached
        if self.session.settings.offline:
            if damaged:
                raise OfflineError(
                    f"the cached `{file.filename}` was damaged (its sha256 changed) and offline "
                    "mode is on, so it cannot be downloaded again",
                    hint="run once without `--offline` to download it again",
                )
            raise OfflineError(
                f"`{file.filename}` is not in the cache and offline mode is on",
                hint="run once without `--offline` to fill the cache",
            )
        lock = self.cache.lock_path(file.url)
        lock.parent.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock  # only when something is downloaded

        with FileLock(lock):
            cached = None if refresh else self._cached(file, sha256)[0]
            if cached is not None:
                return cached
            return self._fetch(file)

    def _cached(self, file: RemoteFile, sha256: str | None) -> tuple[Path | None, bool]:
        """The cached copy of ``file`` if it is intact, and whether a damaged one was
        removed (:meth:`FileCache.intact_copy`)."""
        return self.cache.intact_copy(file.url, file.filename, sha256, file.name)

    def _fetch(self, file: RemoteFile) -> Path:
        self.cache.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.cache.root, prefix=".download-")
        temp = Path(name)
        try:
            digests = _digests(file)
            with os.fdopen(fd, "wb") as out, self.session.stream(
                file.url, {"Accept-Encoding": "identity"}
            ) as response:
                if response.status_code != 200:
                    raise KilnError(
                        f"downloading `{file.filename}` failed: `{redact(file.url)}` "
                        f"answered {response.status_code}"
                    )
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    for digest in digests.values():
                        digest.update(chunk)
            _compare(digests, file)
            return self.cache.store(file.url, file.filename, digests["sha256"].hexdigest(), temp)
        finally:
            temp.unlink(missing_ok=True)

    def download_many(
        self,
        files: Sequence[DistFile],
        *,
        progress: ProgressCallback | None = None,
        workers: int = 8,
    ) -> list[Path]:
        """Download ``files`` concurrently; paths come back in the same order.

        ``progress`` runs in worker threads. The first failure is raised once the
        downloads already running have stopped.
        """
        if not files:
            return []
        done = 0
        total = len(files)

        def one(file: DistFile) -> Path:
            nonlocal done
            path = self.download(file)
            if progress is not None:
                with _PROGRESS_LOCK:
                    done += 1
                    progress(file, done, total)
            return path

        with ThreadPoolExecutor(max_workers=max(1, min(workers, total))) as pool:
            futures: list[Future[Path]] = [pool.submit(one, f) for f in files]
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in finished:
                error = future.exception()
                if error is not None:
                    for pending in futures:
                        pending.cancel()
                    raise error
            return [future.result() for future in futures]
