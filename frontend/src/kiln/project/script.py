"""A PEP 723 script as a project: its ``script`` metadata block stands for a
``pyproject.toml``.

The block is a run of comment lines at the top level of the file::

    # /// script
    # requires-python = ">=3.11"
    # dependencies = ["httpx", "helper"]
    # [tool.kiln.sources]
    # helper = { path = "lib/helper" }
    # ///

Its TOML may hold ``dependencies``, ``requires-python`` and a ``[tool]`` table, whose
``[tool.kiln]`` (else ``[tool.uv]``) settings are read as those of a ``pyproject.toml``
(sources, indexes, constraints, overrides...). A :class:`Script` is a
:class:`~kiln.project.pyproject.PyProject` without a ``[project]`` table and without
dependency groups, so the lock and the sync of a workspace take it as the virtual root of a
workspace with no members. Its lock is ``pylock.<stem>.toml`` beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from kiln.errors import KilnError
from kiln.project.groups import DependencyGroup, parse_requirement
from kiln.project.pyproject import PyProject
from kiln.project.scriptblock import metadata_text
from kiln.project.settings import parse_specifier
from kiln.project.toml import expect_table, parse_toml, where

#: The largest script read (a script is source code, not data).
_LIMIT = 16 * 1024 * 1024
_SCRIPTS: dict[tuple[str, str], Script] = {}


class Script(PyProject):
    """The script at ``path``; :attr:`data` is its metadata block's table."""

    def __repr__(self) -> str:
        return f"Script({str(self.path)!r})"

    @property
    def has_project(self) -> bool:
        return False

    @property
    def label(self) -> str:
        return self.path.name

    @cached_property
    def requires_python(self) -> SpecifierSet | None:
        if "requires-python" not in self.data:
            return None
        return parse_specifier(self.data["requires-python"], self.path, "requires-python")

    @cached_property
    def dependencies(self) -> tuple[Requirement, ...]:
        value = self.data.get("dependencies", [])
        if not isinstance(value, list):
            raise KilnError(f"{where(self.path, 'dependencies')} must be a list of strings")
        return tuple(
            parse_requirement(text, self.path, f"dependencies[{n}]")
            for n, text in enumerate(value)
        )

    @property
    def is_package(self) -> bool:
        return False

    @cached_property
    def dependency_groups(self) -> Mapping[NormalizedName, DependencyGroup]:
        return {}

    @cached_property
    def default_groups(self) -> tuple[NormalizedName, ...]:
        return ()

    @property
    def lock_name(self) -> str:
        """The name of its lock: ``pylock.<stem>.toml``."""
        from kiln.core.lockfile import script_lock_name

        return script_lock_name(self.path.name)

    def validate(self) -> None:
        _ = (self.requires_python, self.dependencies)
        if "tool" in self.data:
            expect_table(self.data["tool"], self.path, "tool")
        self.tool.validate()


def load_script(path: Path) -> Script:
    """The :class:`Script` of the file ``path``, which must have a ``script`` block."""
    path = path.absolute()
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_LIMIT + 1)
    except FileNotFoundError:
        raise KilnError(f"the script `{path}` does not exist") from None
    except IsADirectoryError:
        raise KilnError(f"`{path}` is a directory, not a script") from None
    except OSError as exc:
        raise KilnError(f"cannot read the script `{path}`: {exc.strerror}") from None
    if len(raw) > _LIMIT:
        raise KilnError(f"`{path}` is larger than {_LIMIT // (1024 * 1024)} MiB: not a script")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KilnError(f"the script `{path}` is not UTF-8 text") from None
    key = (str(path), text)
    found = _SCRIPTS.get(key)
    if found is not None:
        return found
    metadata = metadata_text(text.replace("\r\n", "\n"), path)
    if metadata is None:
        raise KilnError(
            f"`{path}` has no `# /// script` metadata block",
            hint=f"add one with `kiln init --script {path.name}`",
        )
    try:
        data: dict[str, Any] = parse_toml(metadata, path)
    except KilnError as exc:
        raise KilnError(exc.message.replace(f"`{path}`", f"the `# /// script` block of `{path}`", 1)) from None
    script = _SCRIPTS[key] = Script(path, data)
    script.validate()
    return script
