"""The package index settings of pip's configuration.

Reads pip's configuration files and ``PIP_*`` environment variables the way pip does:
global files, then the user's (skipped when ``PIP_CONFIG_FILE`` names an existing file),
then the one of the environment kiln runs in, then ``PIP_CONFIG_FILE``; later files win.
``[install]`` sections win over ``[global]`` ones whatever their file, the variables win
over both, and empty values are ignored. ``PIP_CONFIG_FILE=/dev/null`` (``nul`` on
Windows) skips every file. Only the index keys matter here: ``index-url``,
``extra-index-url``, ``find-links`` and ``no-index``.

Which of these settings a run uses, and with which strategy, is decided in
:mod:`kiln.core.index.runsettings`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from kiln.errors import KilnError

KEYS = ("index-url", "extra-index-url", "find-links", "no-index")
#: The sections pip's ``install`` command reads, lowest precedence first.
SECTIONS = ("global", "install")
#: The variables of those keys: ``PIP_INDEX_URL``, ...
VARIABLES = {key: "PIP_" + key.upper().replace("-", "_") for key in KEYS}
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})


class PipIndexSettings(NamedTuple):
    """The index keys of pip's configuration, as pip would use them. (A named tuple, and
    :mod:`configparser` imported where a file is read: :func:`config_files` is on the path
    of a ``kiln lock`` that has nothing to do.)"""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    #: Where each key that is set came from: a file path or a variable name.
    origins: Mapping[str, str] = MappingProxyType({})

    @property
    def files(self) -> tuple[Path, ...]:
        """The configuration files that set any of the keys."""
        variables = set(VARIABLES.values())
        return tuple(dict.fromkeys(Path(o) for o in self.origins.values() if o not in variables))

    @property
    def is_set(self) -> bool:
        """Whether pip's configuration says anything about where packages come from."""
        return bool(self.index_url or self.extra_index_urls or self.find_links or self.no_index)


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("USERPROFILE") if sys.platform == "win32" else environ.get("HOME")
    return Path(home) if home else Path.home()


def _global_files(environ: Mapping[str, str]) -> list[Path]:
    if sys.platform == "win32":
        data = environ.get("PROGRAMDATA")
        return [Path(data) / "pip" / "pip.ini"] if data else []
    if sys.platform == "darwin":
        return [Path("/Library/Application Support/pip/pip.conf")]
    dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    return [Path(d) / "pip" / "pip.conf" for d in dirs.split(os.pathsep) if d] + [
        Path("/etc/pip.conf")
    ]


def _user_files(environ: Mapping[str, str]) -> list[Path]:
    home = _home(environ)
    if sys.platform == "win32":
        files = [home / "pip" / "pip.ini"]
        if environ.get("APPDATA"):
            files.append(Path(environ["APPDATA"]) / "pip" / "pip.ini")
        return files
    if sys.platform == "darwin":
        library = home / "Library" / "Application Support" / "pip"
        new = library if library.is_dir() else home / ".config" / "pip"
        return [home / ".pip" / "pip.conf", new / "pip.conf"]
    config_home = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return [home / ".pip" / "pip.conf", Path(config_home) / "pip" / "pip.conf"]


def config_files(environ: Mapping[str, str]) -> list[Path]:
    """pip's configuration files, lowest precedence first (missing ones included)."""
    explicit = environ.get("PIP_CONFIG_FILE") or None
    if explicit == os.devnull:
        return []
    files = _global_files(environ)
    if not (explicit and Path(explicit).exists()):
        files += _user_files(environ)
    files.append(Path(sys.prefix) / ("pip.ini" if sys.platform == "win32" else "pip.conf"))
    if explicit:
        files.append(Path(explicit))
    return files


def _read_file(path: Path) -> dict[str, dict[str, str]]:
    """The index keys of the ``[global]`` and ``[install]`` sections of ``path``."""
    import configparser

    parser = configparser.RawConfigParser()
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return {}
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KilnError(
            f"{path}: cannot read pip's configuration file: {reason}",
            hint="fix the file, or set `PIP_CONFIG_FILE=/dev/null` to read no pip configuration "
            "file",
        ) from None
    found: dict[str, dict[str, str]] = {}
    for section in SECTIONS:
        if parser.has_section(section):
            for key, value in parser.items(section):
                name = key.lower().replace("_", "-").removeprefix("--")
                if name in KEYS:
                    found.setdefault(section, {})[name] = value
    return found


def _boolean(value: str, where: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise KilnError(
        f"{where}: `no-index` must be a yes/no value (`true`, `false`, `1`, `0`, ...), "
        f"not `{value.strip()}`"
    )


def pip_index_settings(environ: Mapping[str, str] | None = None) -> PipIndexSettings:
    """The index settings of pip's configuration files and ``PIP_*`` variables."""
    env = os.environ if environ is None else environ
    # section -> key -> (value, where from); later sources replace earlier ones.
    layers: dict[str, dict[str, tuple[str, str]]] = {name: {} for name in (*SECTIONS, "env")}
    for path in config_files(env):
        for section, items in _read_file(path).items():
            layers[section].update((key, (value, str(path))) for key, value in items.items())
    for key, variable in VARIABLES.items():
        if variable in env:
            layers["env"][key] = (env[variable], variable)
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for layer in layers.values():
        for key, (value, origin) in layer.items():
            if value:  # pip ignores empty values
                values[key] = value
                origins[key] = origin
    index_url = values.get("index-url", "").strip() or None
    extra_index_urls = tuple(values.get("extra-index-url", "").split())
    find_links = tuple(values.get("find-links", "").split())
    no_index = "no-index" in values and _boolean(values["no-index"], origins["no-index"])
    used = {
        "index-url": bool(index_url),
        "extra-index-url": bool(extra_index_urls),
        "find-links": bool(find_links),
        "no-index": no_index,
    }
    return PipIndexSettings(
        index_url,
        extra_index_urls,
        find_links,
        no_index,
        {key: origin for key, origin in origins.items() if used[key]},
    )
