"""Prefetching: index pages and metadata fetched in worker threads ahead of the solver.

The solver asks one question at a time; answering each from the network in turn would
cost a round trip per package and per level of the dependency tree. So the pages of
every package a requirement names are fetched as soon as the requirement is seen, with
the metadata of the version the solver will most likely choose, and the pages of what
that version requires (speculation: a wrong guess costs a few unneeded requests, never a
wrong answer). When the solver needs something that is still queued, it does the work in
its own thread instead of waiting for a free worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, TypeVar

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.resolver.candidates import ANY_FILE, choose_file
from kiln.core.resolver.direct import DirectReferences
from kiln.core.resolver.environment import ResolverEnvironment
from kiln.core.resolver.requested import RequestLog
from kiln.core.types import DistFile, PackageSource

if TYPE_CHECKING:
    from packaging.metadata import Metadata

    from kiln.core.resolver.provider import MetadataBuilder

T = TypeVar("T")
K = TypeVar("K")


class Prefetcher:
    """Pages (``files``) and metadata, each fetched once, in the background when there
    is an ``executor`` (else on demand, in the calling thread)."""

    def __init__(
        self,
        source: PackageSource,
        *,
        env: ResolverEnvironment,
        narrowed: Mapping[NormalizedName, SpecifierSet],
        requested: RequestLog,
        direct: DirectReferences,
        builder: MetadataBuilder | None,
        executor: Executor | None,
        dependencies: bool,
    ) -> None:
        self.source = source
        #: The environment of the current solve (speculation picks files for it).
        self.env = env
        self.narrowed = narrowed
        self.requested = requested
        self.direct = direct
        self.builder = builder
        self.executor = executor
        #: False for ``--no-deps``: no metadata is fetched ahead for index packages.
        self.dependencies = dependencies
        #: Which kinds of file each package may use (set by the provider).
        self.choices = ANY_FILE
        self._lock = threading.Lock()
        self._files: dict[NormalizedName, Future[Sequence[DistFile]]] = {}
        self._metadata: dict[str, Future[Metadata]] = {}

    # -- what the solver asks for -------------------------------------------------------------

    def files(self, name: NormalizedName) -> Sequence[DistFile]:
        """The files of ``name`` from the source, narrowed to the pinned versions."""
        self.prefetch_files(name)
        return self._now(self._files, name, lambda: self._solver_files(name))

    def metadata(self, file: DistFile) -> Metadata:
        """The core metadata of ``file`` (built for an sdist when there is a builder)."""
        self.prefetch_metadata(file)
        return self._now(self._metadata, file.url, lambda: self._fetch_metadata(file))

    # -- what is worth starting early ---------------------------------------------------------

    def prefetch_files(self, name: NormalizedName) -> None:
        """Start fetching the files of ``name`` in the background (once per name)."""
        with self._lock:
            if name in self._files or name in self.direct:
                return
            pins = self.requested.pins(name)
            if self.executor is None:
                self._files[name] = self._submit(
                    lambda: self.source.files(name, self.narrowed.get(name))
                )
                return
            future: Future[Sequence[DistFile]] = Future()
            self._files[name] = future
        self._submit(lambda: self._fetch_files(name, pins, future))

    def prefetch_metadata(self, file: DistFile) -> Future[Metadata]:
        with self._lock:
            future = self._metadata.get(file.url)
            if future is None:
                future = self._submit(lambda: self._fetch_metadata(file))
                self._metadata[file.url] = future
            return future

    # -- workers ------------------------------------------------------------------------------

    def _submit(self, function: Callable[[], T]) -> Future[T]:
        if self.executor is None:
            future: Future[T] = Future()
            try:
                future.set_result(function())
            except BaseException as exc:
                future.set_exception(exc)
            return future
        try:
            return self.executor.submit(function)
        except RuntimeError:
            # The executor shut down (the resolution ended while speculative work was
            # still finishing): hand back a cancelled future, which ``_now`` runs inline.
            unstarted: Future[T] = Future()
            unstarted.cancel()
            return unstarted

    def _fetch_files(
        self, name: NormalizedName, pins: frozenset[Version], future: Future[Sequence[DistFile]]
    ) -> None:
        """A worker's job: the files of ``name`` into ``future``, then the guess's metadata.

        When the solver needed the files before a worker got to this job, it cancelled
        ``future`` and did the work itself; the job then has nothing to do."""
        if not future.set_running_or_notify_cancel():
            return
        try:
            files = self.source.files(name, self.narrowed.get(name))
        except BaseException as exc:
            future.set_exception(exc)
            return
        future.set_result(files)
        if self.dependencies:
            self._guess(name, files, pins, inline=True)

    def _guess(
        self,
        name: NormalizedName,
        files: Sequence[DistFile],
        pins: frozenset[Version],
        *,
        inline: bool,
    ) -> None:
        """Speculation: fetch the metadata of the solver's most likely choice for ``name``
        (the highest pinned version, else the newest final release) when it is a wheel,
        so that the solver does not wait a round trip per level of the dependency tree.

        ``inline`` does it in the calling worker thread, right after the page: work
        queued behind other pages would wait for a free thread, and this metadata is
        what the next level of pages depends on."""
        finals = [f.version for f in files if f.version in pins] or [
            f.version for f in files if not f.version.is_prerelease
        ]
        if not finals:
            return
        newest = max(finals)
        candidates = [f for f in files if f.version == newest]
        choice = choose_file(
            candidates, self.env, allow_yanked=False, choices=self.choices
        ).file
        if choice is None or not choice.is_wheel:
            return
        if inline:
            guess = self._claim(self._metadata, choice.url, lambda: self._fetch_metadata(choice))
        else:
            guess = self.prefetch_metadata(choice)
        guess.add_done_callback(lambda done: self._prefetch_requirements(name, done))

    def _claim(self, futures: dict[K, Future[T]], key: K, function: Callable[[], T]) -> Future[T]:
        """``futures[key]``, computed here and now by the calling thread unless another
        thread already started (or finished) it."""
        with self._lock:
            future = futures.get(key)
            if future is not None:
                return future
            future = Future()
            future.set_running_or_notify_cancel()
            futures[key] = future
        try:
            future.set_result(function())
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def _prefetch_requirements(self, name: NormalizedName, done: Future[Metadata]) -> None:
        """Speculation, one level further: once the likely version's metadata is in, start
        fetching the pages of the packages it requires (for the extras requested so far),
        so the whole likely graph streams in without waiting for the solver's questions.
        A wrong guess costs a few unneeded pages, never a wrong answer."""
        try:
            if done.cancelled() or done.exception() is not None:
                return
            extras = ("", *self.requested.extras(name))
            for requirement in done.result().requires_dist or []:
                if requirement.url is None and any(
                    self.env.evaluate(requirement.marker, extra) for extra in extras
                ):
                    self.prefetch_files(canonicalize_name(requirement.name))
        except Exception:  # a failed speculation only loses its head start
            return

    def _solver_files(self, name: NormalizedName) -> Sequence[DistFile]:
        """The files of ``name``, fetched by the solver's thread because no worker had
        started on them; the guess's metadata then goes to the workers."""
        files = self.source.files(name, self.narrowed.get(name))
        if self.executor is not None and self.dependencies:
            self._guess(name, files, self.requested.pins(name), inline=False)
        return files

    def _now(self, futures: dict[K, Future[T]], key: K, function: Callable[[], T]) -> T:
        """The result of ``futures[key]``. When the work is still queued behind other
        prefetches, the solver does it itself instead of waiting for a free thread."""
        with self._lock:
            future = futures[key]
            if future.cancel():
                future = Future()
                futures[key] = future
                run_here = True
            else:
                run_here = False
        if run_here:
            try:
                future.set_result(function())
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def _fetch_metadata(self, file: DistFile) -> Metadata:
        if file.tags is None and self.builder is not None:
            return self.builder.sdist_metadata(file)
        return self.source.metadata(file)
