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

    def ignored(self, rel: str, is_dir: bool = False) -> bool:
        parts = rel.split("/")
        verdict = False
        for depth in range(len(parts)):
            directory = "/".join(parts[:depth])
            spec = self._spec(directory)
            if spec is None:
                continue
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            result = spec.check_file(sub).include
            if result is not None:
                verdict = bool(result)
        return verdict
