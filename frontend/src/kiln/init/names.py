"""Project and module names: derive, validate and normalise them."""

from __future__ import annotations

import keyword
import re
from typing import NamedTuple

from kiln.errors import KilnError

_VALID = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_.]+")


class ProjectName(NamedTuple):
    """A normalised distribution name and the import name derived from it."""

    name: str

    @property
    def module(self) -> str:
        return self.name.replace("-", "_")


def is_valid(name: str) -> bool:
    return name.isascii() and _VALID.match(name) is not None


def normalise(name: str) -> str:
    """The PEP 503 form: lower case, each run of `-`, `_` and `.` becomes one `-`."""
    return _SEPARATORS.sub("-", name).lower()


def from_option(value: str) -> ProjectName:
    """Validate a name given with `--name`."""
    if not is_valid(value):
        raise KilnError(
            f"`{value}` is not a valid package name",
            hint="use ASCII letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
        )
    return ProjectName(normalise(value))


def from_directory(directory_name: str, *, explicit_path: bool) -> ProjectName:
    """Derive the name from the target directory; spaces become dashes."""
    candidate = re.sub(r"\s+", "-", directory_name.strip())
    if not is_valid(candidate):
        where = f"the target directory (`{directory_name}`)" if explicit_path else (
            f"the current directory (`{directory_name}`)"
        )
        raise KilnError(
            f"{where} is not a valid package name",
            hint="choose a name with `--name NAME`",
        )
    return ProjectName(normalise(candidate))


def check_module(project: ProjectName) -> None:
    """A packaged project needs an importable module name."""
    module = project.module
    if not module.isidentifier() or keyword.iskeyword(module):
        raise KilnError(
            f"project name `{project.name}` gives module name `{module}`, which is not a valid Python identifier",
            hint="choose a name that starts with a letter and is not a Python keyword, with `--name NAME`",
        )
