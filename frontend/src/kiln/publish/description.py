"""Does a long description render for its content type, as the index will render it?

``readme_renderer`` (the library PyPI uses) checks reStructuredText when it is
installed; it is an optional import, never a dependency. Without it only the
content type and the presence of the text are checked.
"""

from __future__ import annotations

import importlib
import io

RST = "text/x-rst"
MARKDOWN = "text/markdown"
PLAIN = "text/plain"


class DescriptionReport:
    """Problems with a long description; a plain class, since the checks append to it."""

    __slots__ = ("errors", "warnings")

    def __init__(self, errors: list[str] | None = None, warnings: list[str] | None = None) -> None:
        self.errors: list[str] = [] if errors is None else errors
        self.warnings: list[str] = [] if warnings is None else warnings


def content_type_of(value: str | None) -> str:
    """The bare media type (``text/markdown``), defaulting as PyPI does to reStructuredText."""
    if not value:
        return RST
    return value.split(";", 1)[0].strip().lower()


def check_description(text: str | None, content_type: str | None) -> DescriptionReport:
    report = DescriptionReport()
    if text is None or not text.strip():
        report.warnings.append("there is no long description (`Description`); the project page will be empty")
        return report
    kind = content_type_of(content_type)
    if content_type is None:
        report.warnings.append(
            "`Description-Content-Type` is missing; indexes render the description as reStructuredText"
        )
    if kind == RST:
        problem = _render_rst(text)
        if problem is not None:
            report.errors.append(
                "the long description is not valid reStructuredText and would not render:\n"
                + problem
            )
    elif kind not in (MARKDOWN, PLAIN):
        report.errors.append(
            f"`Description-Content-Type` `{kind}` is not one of `{PLAIN}`, `{RST}`, `{MARKDOWN}`"
        )
    return report


def _render_rst(text: str) -> str | None:
    """None when the text renders (or cannot be checked); else the renderer's warnings."""
    try:
        renderer = importlib.import_module("readme_renderer.rst")
    except ImportError:
        return None
    messages = io.StringIO()
    rendered = renderer.render(text, stream=messages)
    if rendered is not None:
        return None
    lines = [line for line in messages.getvalue().splitlines() if line.strip()]
    return "\n".join(f"  {line}" for line in lines[:5]) or "  (no details from the renderer)"
