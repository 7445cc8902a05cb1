"""Index settings from configuration files: ``kiln.toml`` (or uv's ``uv.toml``).

A user who always installs from a mirror says so once, in a user-level file, instead of on
every command line::

    # ~/.config/kiln/kiln.toml
    [[index]]
    url = "https://mirrors.example.org/pypi/simple/"
    default = true

Files are found, highest precedence first:

1. the project's: the nearest ``kiln.toml`` in the working directory or above it;
2. the user's: ``$XDG_CONFIG_HOME/kiln/kiln.toml`` (``~/.config/kiln/kiln.toml``;
   ``%APPDATA%\\kiln\\kiln.toml`` on Windows);
3. the system's: the first ``kiln/kiln.toml`` in ``$XDG_CONFIG_DIRS``, else
   ``/etc/kiln/kiln.toml``.

At each level where no ``kiln.toml`` exists, uv's file of that level (``uv.toml``,
``~/.config/uv/uv.toml``, ``/etc/uv/uv.toml``) is read instead, so uv users keep their
settings. ``KILN_CONFIG_FILE`` (``--config-file``) names the only file to read;
``KILN_NO_CONFIG`` (``--no-config``) reads none.

Merging: a single value comes from the highest-precedence file that sets it; lists (indexes,
extra index URLs, find-links) are concatenated, highest precedence first. For ``kiln pip``
commands, the keys of a file's ``[pip]`` table replace the same keys at its top level.
Command-line options and ``KILN_*`` variables come before every file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from kiln.errors import KilnError

if TYPE_CHECKING:  # imported where used: finding the files (`kiln lock`'s check) needs none
    from datetime import datetime

    from kiln.core.index.config import Index, IndexStrategy
    from kiln.core.index.keyring import KeyringProvider
    from kiln.core.timestamps import Cutoff

#: The settings a configuration file may hold (at its top level or in ``[pip]``).
KEYS = frozenset(
    {"index", "index-url", "extra-index-url", "find-links", "no-index", "index-strategy",
     "torch-backend", "keyring-provider", "resolution", "prerelease", "exclude-newer",
     "exclude-newer-package"}
)


class FileSettings(NamedTuple):
    """Index settings merged from configuration files. (A named tuple, not a dataclass:
    :func:`discover` is on the path of a ``kiln lock`` that has nothing to do, and
    :mod:`dataclasses` takes longer to import than the rest of that path's checks.)"""

    indexes: tuple[Index, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool | None = None
    strategy: IndexStrategy | None = None
    #: ``torch-backend``: ``auto`` or a PyTorch backend (:mod:`kiln.core.index.torch`).
    torch_backend: str | None = None
    #: ``keyring-provider`` (:mod:`kiln.core.index.keyring`).
    keyring_provider: KeyringProvider | None = None
    #: The resolver's defaults: ``resolution``, ``prerelease``, ``exclude-newer`` and
    #: ``exclude-newer-package`` (None: a package without a cutoff), for the options of the
    #: same names (:func:`kiln.core.operations.options.with_file_defaults`).
    resolution: str | None = None
    prerelease: str | None = None
    exclude_newer: Cutoff | None = None
    exclude_newer_packages: Mapping[str, datetime | None] = {}
    #: The files read, highest precedence first.
    files: tuple[Path, ...] = ()


def discover(
    cwd: Path,
    environ: Mapping[str, str],
    *,
    config_file: Path | None = None,
    no_config: bool = False,
) -> list[Path]:
    """The configuration files to read, highest precedence first."""
    if no_config or _truthy(environ.get("KILN_NO_CONFIG", "")):
        return []
    chosen = config_file or (
        Path(environ["KILN_CONFIG_FILE"]) if environ.get("KILN_CONFIG_FILE") else None
    )
    if chosen is not None:
        if not chosen.is_file():
            raise KilnError(
                f"configuration file `{chosen}` does not exist",
                hint="check `--config-file` or `KILN_CONFIG_FILE`",
            )
        return [chosen]
    found: list[Path] = []
    for level in (_project_files(cwd), _user_files(environ), _system_files(environ)):
        first = next((path for path in level if path.is_file()), None)
        if first is not None and first not in found:
            found.append(first)
    return found


def only_given_files(
    environ: Mapping[str, str], *, config_file: Path | None = None, no_config: bool = False
) -> bool:
    """Whether the configuration is fixed to one file or none (``--config-file``,
    ``--no-config`` or their variables): then no other configuration is read, pip's neither."""
    return bool(
        no_config
        or config_file is not None
        or _truthy(environ.get("KILN_NO_CONFIG", ""))
        or environ.get("KILN_CONFIG_FILE")
    )


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _project_files(cwd: Path) -> list[Path]:
    for directory in (cwd, *cwd.parents):
        for name in ("kiln.toml", "uv.toml"):
            candidate = directory / name
            if candidate.is_file():
                return [candidate]
    return []


def _user_files(environ: Mapping[str, str]) -> list[Path]:
    if sys.platform == "win32" and environ.get("APPDATA"):
        base = Path(environ["APPDATA"])
    elif environ.get("XDG_CONFIG_HOME"):
        base = Path(environ["XDG_CONFIG_HOME"])
    elif environ.get("HOME"):
        base = Path(environ["HOME"]) / ".config"
    else:
        return []
    return [base / "kiln" / "kiln.toml", base / "uv" / "uv.toml"]


def _system_files(environ: Mapping[str, str]) -> list[Path]:
    dirs = [Path(d) for d in environ.get("XDG_CONFIG_DIRS", "").split(os.pathsep) if d]
    if sys.platform != "win32":
        dirs.append(Path("/etc"))
    return [d / "kiln" / "kiln.toml" for d in dirs] + [d / "uv" / "uv.toml" for d in dirs]


def load_settings(paths: Sequence[Path], *, pip: bool) -> FileSettings:
    """Read and merge ``paths`` (highest precedence first)."""
    indexes: list[Index] = []
    extra: list[str] = []
    find_links: list[str] = []
    index_url: str | None = None
    no_index: bool | None = None
    strategy: IndexStrategy | None = None
    torch_backend: str | None = None
    keyring_provider: KeyringProvider | None = None
    resolver: dict[str, Any] = {}
    packages: dict[str, datetime | None] = {}
    for path in paths:
        values = _read(path, pip=pip)
        for key in ("resolution", "prerelease", "exclude-newer"):
            if key in values:
                resolver.setdefault(key, values[key])
        for name, cutoff in values.get("exclude-newer-package", {}).items():
            packages.setdefault(name, cutoff)
        indexes += values.get("index", [])
        extra += values.get("extra-index-url", [])
        find_links += values.get("find-links", [])
        index_url = index_url if index_url is not None else values.get("index-url")
        no_index = no_index if no_index is not None else values.get("no-index")
        strategy = strategy if strategy is not None else values.get("index-strategy")
        torch_backend = torch_backend or values.get("torch-backend")
        keyring_provider = keyring_provider or values.get("keyring-provider")
    return FileSettings(
        indexes=tuple(indexes),
        index_url=index_url,
        extra_index_urls=tuple(extra),
        find_links=tuple(find_links),
        no_index=no_index,
        strategy=strategy,
        torch_backend=torch_backend,
        keyring_provider=keyring_provider,
        resolution=resolver.get("resolution"),
        prerelease=resolver.get("prerelease"),
        exclude_newer=resolver.get("exclude-newer"),
        exclude_newer_packages=packages,
        files=tuple(paths),
    )


def _read(path: Path, *, pip: bool) -> dict[str, Any]:
    """The validated settings of one file, with URLs and paths made absolute."""
    from kiln.core.index.config import STRATEGIES, location_to_url, parse_index_entry
    from kiln.project.toml import load_toml, reject_unknown_keys

    data = load_toml(path)
    strict = path.name == "kiln.toml"  # uv.toml has many keys of uv's own
    table: dict[str, Any] = {k: v for k, v in data.items() if k in KEYS}
    if strict:
        reject_unknown_keys(data, str(path), KEYS | {"pip"})
    section = data.get("pip")
    if pip and section is not None:
        if not isinstance(section, dict):
            raise KilnError(f"{path}: `pip` must be a table")
        if strict:
            reject_unknown_keys(section, str(path), KEYS, prefix="pip.")
        table.update({k: v for k, v in section.items() if k in KEYS})
    base = path.parent
    values: dict[str, Any] = {}
    raw_indexes = table.get("index")
    if raw_indexes is not None:
        if not isinstance(raw_indexes, list):
            raise KilnError(f"{path}: `index` must be an array of tables (`[[index]]`)")
        values["index"] = [
            parse_index_entry(entry, f"{path}: `index`[{number}]", base, str(path))
            for number, entry in enumerate(raw_indexes)
        ]
    if "index-url" in table:
        values["index-url"] = location_to_url(
            _string(table, "index-url", path), base, where=f"{path}: `index-url`"
        )
    for key in ("extra-index-url", "find-links"):
        if key in table:
            values[key] = [
                location_to_url(item, base, where=f"{path}: `{key}`")
                for item in _strings(table, key, path)
            ]
    if "no-index" in table:
        if not isinstance(table["no-index"], bool):
            raise KilnError(f"{path}: `no-index` must be `true` or `false`")
        values["no-index"] = table["no-index"]
    if "index-strategy" in table:
        strategy = table["index-strategy"]
        if strategy not in STRATEGIES:
            raise KilnError(
                f"{path}: `index-strategy` must be one of "
                + ", ".join(f"`{s}`" for s in STRATEGIES)
                + f", not `{strategy}`"
            )
        values["index-strategy"] = cast("IndexStrategy", strategy)
    if "torch-backend" in table:
        from kiln.core.index.torch import check_mode

        backend = table["torch-backend"]
        if not isinstance(backend, str):
            raise KilnError(f"{path}: `torch-backend` must be a string")
        values["torch-backend"] = check_mode(backend, f"{path}: `torch-backend`")
    if "keyring-provider" in table:
        from kiln.core.index.keyring import check_provider

        provider = table["keyring-provider"]
        if not isinstance(provider, str):
            raise KilnError(f"{path}: `keyring-provider` must be a string")
        values["keyring-provider"] = check_provider(provider, f"{path}: `keyring-provider`")
    values.update(_resolver_values(table, path))
    return values


def _resolver_values(table: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """``resolution``, ``prerelease``, ``exclude-newer`` and ``exclude-newer-package`` of
    one file, checked."""
    from kiln.core.timestamps import CUTOFF_FORMS, parse_cutoff
    from kiln.core.types import PRERELEASE_VALUES, RESOLUTION_MODES, prerelease_mode

    values: dict[str, Any] = {}
    for key, choices in (("resolution", RESOLUTION_MODES), ("prerelease", PRERELEASE_VALUES)):
        if key in table:
            if table[key] not in choices:
                raise KilnError(
                    f"{path}: `{key}` must be one of "
                    + ", ".join(f"`{c}`" for c in choices) + f", not `{table[key]}`"
                )
            values[key] = prerelease_mode(table[key]) if key == "prerelease" else table[key]

    def cutoff(raw: object, key: str, *, span: bool) -> Cutoff:
        try:
            return parse_cutoff(raw, span=span)
        except ValueError as exc:
            raise KilnError(f"{path}: `{key}`: {exc}", hint=CUTOFF_FORMS) from None

    if "exclude-newer" in table:
        values["exclude-newer"] = cutoff(table["exclude-newer"], "exclude-newer", span=True)
    if "exclude-newer-package" in table:
        raw = table["exclude-newer-package"]
        if not isinstance(raw, dict):
            raise KilnError(f"{path}: `exclude-newer-package` must be a table")
        values["exclude-newer-package"] = {
            name: None if value is False
            else cutoff(value, f"exclude-newer-package.{name}", span=False).moment
            for name, value in raw.items()
        }
    return values


def _string(table: Mapping[str, Any], key: str, path: Path) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise KilnError(f"{path}: `{key}` must be a non-empty string")
    return value.strip()


def _strings(table: Mapping[str, Any], key: str, path: Path) -> list[str]:
    value = table[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KilnError(f"{path}: `{key}` must be a list of strings")
    return [v.strip() for v in value]
