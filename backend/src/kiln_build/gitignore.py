"""The project's ``.gitignore`` files, applied with git's rules via pathspec."""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class GitIgnore:
    """Answers whether a project-relative path is ignored by a ``.gitignore`` file.

    Files are read lazily, one per directory, and a deeper file's verdict wins over a
    shallower one, as in git.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[str, Any | None] = {}
        self._chains: dict[str, list[tuple[int, Any]]] = {}

    def _spec(self, directory: str) -> Any | None:
        if directory not in self._specs:
            path = self.root / directory / ".gitignore" if directory else self.root / ".gitignore"
            spec = None
            if path.is_file():
                import pathspec

                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
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
