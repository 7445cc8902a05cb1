"""The project's ``.gitignore`` files, applied with git's rules via pathspec."""

from __future__ import annotations

import os

from kiln_build.paths import Root, os_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class GitIgnore:
    """Answers whether a project-relative path is ignored by a ``.gitignore`` file.

    Files are read lazily, one per directory, and a deeper file's verdict wins over a
    shallower one, as in git. A ``.gitignore`` that is a link out of the project is an
    error, like any other file the backend reads.
    """

    def __init__(self, tree: Root) -> None:
        self.tree = tree
        self.root = tree.path
        self._specs: dict[str, Any | None] = {}
        self._chains: dict[str, list[tuple[int, Any]]] = {}

    def _spec(self, directory: str) -> Any | None:
        if directory not in self._specs:
            rel = f"{directory}/.gitignore" if directory else ".gitignore"
            path = os.path.join(self.root, rel)
            spec = None
            if os.path.islink(path):
                self.tree.check_link(path, rel)
            if os.path.isfile(path):
                import pathspec

                try:
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        lines = handle.read().splitlines()
                except OSError as exc:
                    raise os_error(rel, exc) from None
                spec = pathspec.GitIgnoreSpec.from_lines(lines)
            self._specs[directory] = spec
        return self._specs[directory]

    def _chain(self, parent: str) -> list[tuple[int, Any]]:
        """The ``.gitignore`` specs that apply inside ``parent``, outermost first."""
        chain = self._chains.get(parent)
        if chain is None:
            parts = parent.split("/") if parent else []
            chain = []
            for depth in range(len(parts) + 1):
                directory = "/".join(parts[:depth])
                spec = self._spec(directory)
                if spec is not None:
                    chain.append((len(directory) + 1 if directory else 0, spec))
            self._chains[parent] = chain
        return chain

    def ignored(self, rel: str, is_dir: bool = False) -> bool:
        parent = rel.rpartition("/")[0]
        verdict = False
        for offset, spec in self._chain(parent):
            result = spec.check_file(rel[offset:] + ("/" if is_dir else "")).include
            if result is not None:
                verdict = bool(result)
        return verdict
