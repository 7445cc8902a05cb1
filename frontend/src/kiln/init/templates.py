"""The text of every file `kiln init` writes, per project kind and backend."""

from __future__ import annotations

import enum
import json
from typing import NamedTuple

from kiln.init.backends import Backend
from kiln.init.names import ProjectName

DEFAULT_DESCRIPTION = "Add your description here"

GITIGNORE = """\
# Python-generated files
__pycache__/
*.py[oc]
build/
dist/
wheels/
*.egg-info

# Virtual environments
.venv
"""


class Kind(enum.Enum):
    APP = "app"  # flat `main.py`, no build system
    PACKAGE = "package"  # src layout with a console script
    LIB = "lib"  # src layout with `hello()` and `py.typed`


class Author(NamedTuple):
    name: str | None
    email: str | None


class PyprojectFields(NamedTuple):
    project: ProjectName
    description: str | None
    readme: bool
    authors: tuple[Author, ...]
    requires_python: str
    scripts: bool
    typed: bool  # the project ships `py.typed`
    backend: Backend | None


def toml_string(value: str) -> str:
    """A TOML basic string; JSON escapes are a subset of TOML's."""
    return json.dumps(value, ensure_ascii=False)


def _author(author: Author) -> str:
    parts = []
    if author.name:
        parts.append(f"name = {toml_string(author.name)}")
    if author.email:
        parts.append(f"email = {toml_string(author.email)}")
    return "{ " + ", ".join(parts) + " }"


def pyproject(fields: PyprojectFields) -> str:
    lines = ["[project]", f"name = {toml_string(fields.project.name)}", 'version = "0.1.0"']
    if fields.description is not None:
        lines.append(f"description = {toml_string(fields.description)}")
    if fields.readme:
        lines.append('readme = "README.md"')
    if fields.authors:
        lines.append("authors = [")
        lines.extend(f"    {_author(a)}," for a in fields.authors)
        lines.append("]")
    lines.append(f"requires-python = {toml_string(fields.requires_python)}")
    lines.append("dependencies = []")
    sections = ["\n".join(lines) + "\n"]
    if fields.scripts:
        module = fields.project.module
        sections.append(f'[project.scripts]\n{fields.project.name} = "{module}:main"\n')
    if fields.backend is not None:
        tables = fields.backend.tool_tables(fields.project, fields.typed)
        if tables:
            sections.append(tables)
        sections.append(fields.backend.build_system())
    return "\n".join(sections)


def flat_main(project: ProjectName) -> str:
    return f"""def main():
    print("Hello from {project.name}!")


if __name__ == "__main__":
    main()
"""


def package_init(project: ProjectName, kind: Kind, backend: Backend) -> str:
    """`src/<module>/__init__.py` for a packaged app (`main()`) or a library (`hello()`)."""
    if backend.native:
        head = f"from {project.module}._core import hello_from_bin\n\n\n"
        if kind is Kind.LIB:
            return head + "def hello() -> str:\n    return hello_from_bin()\n"
        return head + "def main() -> None:\n    print(hello_from_bin())\n"
    if kind is Kind.LIB:
        return f'def hello() -> str:\n    return "Hello from {project.name}!"\n'
    return f'def main() -> None:\n    print("Hello from {project.name}!")\n'


def source_files(project: ProjectName, kind: Kind, backend: Backend | None) -> dict[str, str]:
    """The source tree for a non-bare project, keyed by path relative to its root."""
    if kind is Kind.APP or backend is None:
        return {"main.py": flat_main(project)}
    files = dict(backend.extra_files(project))
    package = f"src/{project.module}"
    files[f"{package}/__init__.py"] = package_init(project, kind, backend)
    if kind is Kind.LIB:
        files[f"{package}/py.typed"] = ""
    return files


def readme(project: ProjectName) -> str:
    return f"# {project.name}\n"
