"""Which Python a new project asks for: `requires-python` and the `.python-version` pin."""

from __future__ import annotations

import re
import sys
from typing import NamedTuple

from kiln.errors import KilnError

_VERSION = re.compile(r"^3\.\d+(?:\.\d+)?$")


class PythonChoice(NamedTuple):
    requires_python: str
    pin: str | None  # content of `.python-version`, without the newline


def running() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def choose(request: str | None, workspace_requires: str | None = None) -> PythonChoice:
    """From `--python`, else the workspace's `requires-python`, else the running interpreter."""
    if request is None:
        if workspace_requires is not None:
            return _from_specifier(workspace_requires)
        return PythonChoice(f">={running()}", running())
    request = request.strip()
    if _VERSION.match(request):
        return PythonChoice(f">={request}", request)
    return _from_specifier(request, option=True)


def _from_specifier(text: str, *, option: bool = False) -> PythonChoice:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        spec = None
    if spec is None or not str(spec):
        if not option:
            # An unreadable workspace value is not ours to fix: fall back to the interpreter.
            return PythonChoice(f">={running()}", running())
        raise KilnError(
            f"`--python {text}` is neither a Python version nor a version specifier",
            hint="pass a version such as `3.12` or a specifier such as `>=3.10`",
        )
    info = sys.version_info
    full = f"{info.major}.{info.minor}.{info.micro}"
    # Pin the running interpreter only when the range admits it.
    pin = running() if spec.contains(full, prereleases=True) else None
    return PythonChoice(text.strip(), pin)
