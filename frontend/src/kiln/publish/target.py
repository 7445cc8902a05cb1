"""Where to upload: ``--publish-url``, or ``--index NAME`` from the project's ``pyproject.toml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from kiln.errors import KilnError
from kiln.project.toml import load_toml

PYPI_UPLOAD_URL = "https://upload.pypi.org/legacy/"


class Target(NamedTuple):
    #: May still hold ``user:password@``; credentials are split off before any request.
    publish_url: str
    check_url: str | None
    index_name: str | None


def resolve_target(
    *,
    publish_url: str | None,
    index: str | None,
    check_url: str | None,
    start: Path,
) -> Target:
    """Combine the options; with ``--index``, the index's ``url`` is the default check URL."""
    if publish_url and index:
        raise KilnError(
            "`--publish-url` and `--index` cannot be used together",
            hint="`--index NAME` takes the upload URL from the index's `publish-url`",
        )
    if index is None:
        return Target(publish_url or PYPI_UPLOAD_URL, check_url, None)
    entry, path = find_index(index, start)
    url = entry.get("publish-url")
    if not isinstance(url, str) or not url:
        raise KilnError(
            f"the index `{index}` in `{path}` has no `publish-url`",
            hint="add `publish-url = \"https://…/legacy/\"` to its `[[tool.kiln.index]]` entry",
        )
    simple = entry.get("url")
    # Only an HTTP(S) simple index can be queried; a local directory or file URL cannot.
    default_check = simple if isinstance(simple, str) and simple.startswith(("http://", "https://")) else None
    return Target(url, check_url or default_check, index)


def find_index(name: str, start: Path) -> tuple[dict[str, Any], Path]:
    """The ``[[tool.kiln.index]]`` (else ``[[tool.uv.index]]``) table called ``name``."""
    from kiln.project.workspace import find_pyproject

    path = find_pyproject(start)
    if path is None:
        raise KilnError(
            f"cannot use `--index {name}`: no `pyproject.toml` in `{start}` or its parents",
            hint="run from your project, or pass `--publish-url`",
        )
    tool = load_toml(path).get("tool", {})
    found: list[str] = []
    for section in ("kiln", "uv"):
        tables = tool.get(section, {}).get("index", []) if isinstance(tool, dict) else []
        if not isinstance(tables, list):
            raise KilnError(f"`tool.{section}.index` in `{path}` must be an array of tables (`[[tool.{section}.index]]`)")
        for table in tables:
            if not isinstance(table, dict) or not isinstance(table.get("name"), str):
                raise KilnError(f"every `[[tool.{section}.index]]` in `{path}` needs a string `name`")
            if table["name"] == name:
                return table, path
            found.append(table["name"])
    listed = ", ".join(f"`{n}`" for n in sorted(set(found)))
    raise KilnError(
        f"no index named `{name}` in `{path}`",
        hint=f"indexes found: {listed}" if found else "declare it in a `[[tool.kiln.index]]` table with `name`, `url` and `publish-url`",
    )



