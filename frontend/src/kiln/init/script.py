"""`kiln init --script`: write or convert a PEP 723 script with inline metadata."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from kiln.errors import KilnError
from kiln.init.python import choose

_BLOCK_START = re.compile(r"^# /// script\s*$", re.MULTILINE)


class ScriptResult(NamedTuple):
    path: Path
    created: bool
    warnings: Sequence[str] = ()


def metadata_block(requires_python: str) -> str:
    return f'# /// script\n# requires-python = "{requires_python}"\n# dependencies = []\n# ///\n'


def _body(path: Path) -> str:
    return f"""

def main() -> None:
    print("Hello from {path.name}!")


if __name__ == "__main__":
    main()
"""


def _converted(original: str, block: str) -> tuple[str, list[str]]:
    """Put the block first, after a shebang line if there is one."""
    if not original.startswith("#!"):
        return block + "\n" + original, []
    shebang, _, rest = original.partition("\n")
    warnings = []
    if "kiln" not in shebang and "uv" not in shebang:
        warnings.append(
            f"the shebang `{shebang}` runs the script without its declared dependencies"
        )
    return f"{shebang}\n#\n{block}\n{rest}", warnings


def init_script(path: Path, *, python: str | None, bare: bool) -> ScriptResult:
    """Create `path` with a metadata block, or add one to an existing script."""
    requires_python = choose(python).requires_python
    if path.is_dir():
        raise KilnError(f"`{path}` is a directory", hint="pass the path of a `.py` file to `--script`")
    block = metadata_block(requires_python)
    if path.exists():
        try:
            original = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KilnError(f"cannot read `{path}`: {exc}") from None
        if _BLOCK_START.search(original):
            raise KilnError(
                f"`{path}` already has a `# /// script` metadata block",
                hint="edit the block in place instead",
            )
        content, warnings = _converted(original, block)
        created = False
    else:
        content, warnings, created = block + ("" if bare else _body(path)), [], True
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise KilnError(f"cannot write `{path}`: {exc.strerror}") from None
    return ScriptResult(path, created, warnings)
