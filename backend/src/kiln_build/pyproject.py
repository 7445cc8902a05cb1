"""Reading ``pyproject.toml`` and the backend's configuration table."""

from __future__ import annotations

import sys
from pathlib import Path

from kiln_build._record import record
from kiln_build.errors import BuildBackendError
from kiln_build.paths import Root, os_error
from kiln_build.settings import BackendSettings, parse_settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

PYPROJECT = "pyproject.toml"


@record
class Project:
    """A project directory with its parsed ``pyproject.toml``."""

    root: Path
    data: dict[str, Any]
    raw: bytes
    settings: BackendSettings
    #: The project directory for containment checks of every path read below it.
    tree: Root

    @property
    def table(self) -> dict[str, Any]:
        project = self.data["project"]
        assert isinstance(project, dict)
        return project


def load_project(root: Path) -> Project:
    tree = Root(root)
    path = tree.resolve(PYPROJECT)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise BuildBackendError(
            f"`{PYPROJECT}` not found in `{root}`",
            hint="run the build from the project directory, next to its pyproject.toml",
        ) from None
    except OSError as exc:
        raise os_error(PYPROJECT, exc) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BuildBackendError(
            f"`{PYPROJECT}` is not valid UTF-8: byte 0x{raw[exc.start]:02x} on line {line}",
            hint="TOML files are UTF-8; save the file in that encoding",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BuildBackendError(f"`{PYPROJECT}` is not valid TOML: {exc}") from None
    project = data.get("project")
    if not isinstance(project, dict):
        raise BuildBackendError(
            f"`{PYPROJECT}` has no `[project]` table",
            hint="kiln_build reads all metadata from `[project]` (PEP 621)",
        )
    tool = data.get("tool", {})
    table_name, table = _backend_table(tool)
    settings = parse_settings(table, table_name)
    return Project(root=root, data=data, raw=raw, settings=settings, tree=tree)


def _backend_table(tool: Any) -> tuple[str, dict[str, Any]]:
    """The kiln table if present, else uv's, else an empty one."""
    if not isinstance(tool, dict):
        raise BuildBackendError(f"`{PYPROJECT}`: `tool` must be a table")
    for owner in ("kiln", "uv"):
        section = tool.get(owner)
        if isinstance(section, dict) and "build-backend" in section:
            table = section["build-backend"]
            name = f"tool.{owner}.build-backend"
            if not isinstance(table, dict):
                raise BuildBackendError(f"`{PYPROJECT}`: `{name}` must be a table")
            return name, table
    return "tool.kiln.build-backend", {}
