"""Find the examples in the documentation, so that tests can run every one of them.

The documentation lives in ``docs/src/**.md``. Each fenced code block is a :class:`Block`.
Blocks of interest are TOML snippets (```toml) and shell sessions (```console, ```bash,
```sh). A block can carry test directives in an HTML comment on the line right before its
fence (blank lines in between are allowed); comments are invisible on the rendered site:

``<!-- docs-test: skip "reason" -->``
    do not run the block; the reason is required.
``<!-- docs-test: exit N -->``
    every command of the block is expected to exit with status ``N``.
``<!-- docs-test: expect-error "message part" -->``
    the TOML snippet is an example of an error; building or parsing it must fail with a
    message that contains ``message part``.
``<!-- docs-test: skip-build "reason" -->``
    check the TOML snippet's configuration, but do not build it (its backend is made up).
``<!-- docs-test: setup "shell command" -->``
    run the hidden command before the block (for example to create the project that a
    session assumes); may be repeated, each runs in order.

Set-up commands can point the variables a page documents at the loopback servers that
``tests/test_docs_examples.py`` starts: ``DOCS_TEST_PUBLISH_URL`` and ``DOCS_TEST_SIMPLE_URL``
(a pypiserver; accounts ``DOCS_TEST_USERNAME``/``DOCS_TEST_PASSWORD``, ``__token__`` with
``$PYPI_TOKEN`` and ``ci`` with ``...``) and ``DOCS_TEST_INDEX_URL`` (a simple index with
stand-ins for ``httpx`` and its dependencies, ``alpha`` and ``beta``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS_SRC = ROOT / "docs" / "src"

#: Languages whose blocks are shell sessions or scripts.
SHELL_LANGUAGES = frozenset({"console", "bash", "sh", "shell"})

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
_DIRECTIVE_KINDS = frozenset({"skip", "skip-build", "exit", "expect-error", "setup"})
_PATH_COMMENT = re.compile(r"^#\s*(?P<path>(?:[\w.-]+/)*pyproject\.toml)\b")


class DirectiveError(ValueError):
    """A ``<!-- docs-test: ... -->`` comment that cannot be understood."""


@dataclass(frozen=True)
class Directive:
    """One ``<!-- docs-test: KIND ARG -->`` comment."""

    kind: str
    argument: str


@dataclass(frozen=True)
class Block:
    """One fenced code block of one documentation page."""

    page: str  #: path relative to ``docs/src``, with ``/`` separators
    index: int  #: position among the page's fenced blocks, from 0
    line: int  #: 1-based line number of the opening fence
    language: str
    text: str  #: the content, with the fence's indentation removed
    directives: tuple[Directive, ...] = field(default=())

    @property
    def first_line(self) -> str:
        for line in self.text.splitlines():
            if line.strip():
                return line.strip()
        return ""

    @property
    def file_path(self) -> str | None:
        """The path a TOML block names in a first-line comment (``# packages/a/pyproject.toml``)."""
        match = _PATH_COMMENT.match(self.first_line)
        return match.group("path") if match else None

    @property
    def id(self) -> str:
        """A readable test id: page, index and first line."""
        first = self.first_line
        if len(first) > 50:
            first = first[:47] + "..."
        return f"{self.page}#{self.index}:{first}"

    def directive(self, kind: str) -> Directive | None:
        for directive in self.directives:
            if directive.kind == kind:
                return directive
        return None

    def setups(self) -> list[str]:
        return [d.argument for d in self.directives if d.kind == "setup"]

    @property
    def skip_reason(self) -> str | None:
        directive = self.directive("skip")
        return directive.argument if directive else None

    @property
    def expected_exit(self) -> int:
        directive = self.directive("exit")
        return int(directive.argument) if directive else 0

    @property
    def expected_error(self) -> str | None:
        directive = self.directive("expect-error")
        return directive.argument if directive else None


@dataclass(frozen=True)
class Command:
    """One command of a shell block, with the output the page shows after it."""

    text: str
    shown_output: tuple[str, ...] = ()


def parse_directive(body: str, where: str) -> Directive:
    """Parse the text between ``docs-test:`` and ``-->``."""
    kind, _, rest = body.partition(" ")
    rest = rest.strip()
    if kind not in _DIRECTIVE_KINDS:
        raise DirectiveError(f"{where}: unknown docs-test directive `{kind}`")
    if kind == "exit":
        if not rest.isdigit():
            raise DirectiveError(f"{where}: `docs-test: exit` needs a status number, not `{rest}`")
        return Directive(kind, rest)
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        raise DirectiveError(f"{where}: `docs-test: {kind}`: {exc}") from None
    if len(words) != 1 or not words[0].strip():
        raise DirectiveError(f'{where}: `docs-test: {kind}` needs one quoted text: {kind} "..."')
    return Directive(kind, words[0])


def _dedent(lines: list[str], indent: str) -> str:
    out = []
    for line in lines:
        out.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
    return "\n".join(out) + ("\n" if out else "")


def page_blocks(page: Path, docs_src: Path = DOCS_SRC) -> list[Block]:
    """Every fenced block of ``page``, in order, with the directives written before it."""
    name = page.relative_to(docs_src).as_posix()
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    pending: list[Directive] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        directive = _DIRECTIVE.match(line)
        if directive:
            pending.append(parse_directive(directive.group("body"), f"{name}:{number + 1}"))
            number += 1
            continue
        opening = _FENCE_OPEN.match(line)
        if not opening:
            if line.strip():
                pending = []  # directives apply to the very next block only
            number += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        info = opening.group("info").strip()
        language = info.split()[0].lstrip("{.").rstrip("}") if info else ""
        body: list[str] = []
        end = number + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and not lines[end].strip().strip(fence[0])
        ):
            body.append(lines[end])
            end += 1
        blocks.append(
            Block(name, len(blocks), number + 1, language.lower(), _dedent(body, indent),
                  tuple(pending))
        )
        pending = []
        number = end + 1
    if pending:
        raise DirectiveError(f"{name}: a docs-test directive at the end is not followed by a block")
    return blocks


def all_blocks(docs_src: Path = DOCS_SRC) -> list[Block]:
    """Every fenced block of every page, pages in path order."""
    blocks: list[Block] = []
    for page in sorted(docs_src.rglob("*.md")):
        blocks.extend(page_blocks(page, docs_src))
    return blocks


def toml_blocks(docs_src: Path = DOCS_SRC) -> list[Block]:
    return [block for block in all_blocks(docs_src) if block.language == "toml"]


def is_complete_pyproject(block: Block) -> bool:
    """A snippet with a ``[project]`` table stands for a whole ``pyproject.toml``."""
    return re.search(r"^\[project\]\s*(#.*)?$", block.text, re.MULTILINE) is not None


def commands(block: Block) -> list[Command]:
    """The commands of a shell block.

    In a block with ``$ `` prompts, those lines are commands (a trailing ``\\`` continues
    one) and the other lines are the output shown for the command before them. A block
    without prompts is a script: each line that is not blank or a comment is a command.
    ``console`` blocks without prompts are output only and give no commands.
    """
    lines = block.text.splitlines()
    prompted = any(line.startswith("$ ") or line == "$" for line in lines)
    found: list[Command] = []
    if not prompted:
        if block.language == "console":
            return []
        return [Command(line.strip()) for line in _joined(lines)
                if line.strip() and not line.lstrip().startswith("#")]
    current: list[str] | None = None
    output: list[str] = []
    continuing = False
    for line in lines:
        if continuing and current is not None:
            current.append(line)
            continuing = line.endswith("\\")
            continue
        if line.startswith("$ "):
            if current is not None:
                found.append(Command("\n".join(current), tuple(output)))
            current, output = [line[2:]], []
            continuing = line.endswith("\\")
        elif current is not None:
            output.append(line)
    if current is not None:
        found.append(Command("\n".join(current), tuple(output)))
    return found


def _joined(lines: list[str]) -> Iterator[str]:
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if not line.endswith("\\"):
            yield "\n".join(buffer)
            buffer = []
    if buffer:
        yield "\n".join(buffer)


def shell_blocks(docs_src: Path = DOCS_SRC) -> list[Block]:
    """Shell blocks that contain at least one command."""
    return [
        block for block in all_blocks(docs_src)
        if block.language in SHELL_LANGUAGES and commands(block)
    ]


def pages_with_commands(docs_src: Path = DOCS_SRC) -> dict[str, list[Block]]:
    """Page -> its shell blocks with commands, in page order."""
    pages: dict[str, list[Block]] = {}
    for block in shell_blocks(docs_src):
        pages.setdefault(block.page, []).append(block)
    return pages
