"""The ``# /// script`` block of a PEP 723 script, found with the grammar of the inline
script metadata specification. Imports only :mod:`re`: the stamps of a script's lock read
the block on the path of a command that has nothing to do."""

from __future__ import annotations

import re
from pathlib import Path

from kiln.errors import KilnError

_BLOCK = re.compile(
    r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$"
)


def metadata_text(text: str, path: Path) -> str | None:
    """The TOML of the ``script`` block of ``text`` (the file ``path``); None when it has
    none. Two ``script`` blocks are an error."""
    found = [m for m in _BLOCK.finditer(text) if m.group("type") == "script"]
    if not found:
        return None
    lines = found[0].group("content").splitlines(keepends=True)
    # The grammar's greedy match swallows a second block that follows the first.
    if len(found) > 1 or "# /// script\n" in lines:
        raise KilnError(
            f"`{path}` has more than one `# /// script` metadata block",
            hint="a script may have only one; merge them",
        )
    return "".join(line[2:] if line.startswith("# ") else line[1:] for line in lines)
