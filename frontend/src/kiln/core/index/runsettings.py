"""The index settings of one run: ``kiln pip`` and build environments use this one function.

Two families of settings say where packages come from:

* kiln's and uv's: command-line options (and the requirement files' own options),
  ``KILN_*`` variables, the non-explicit ``[[tool.kiln.index]]`` (else ``[[tool.uv.index]]``)
  entries of the project, and ``kiln.toml``/``uv.toml`` files. They are searched with the
  ``first-index`` strategy unless a strategy is given.
* pip's: ``pip.conf`` files and ``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``,
  ``PIP_FIND_LINKS``, ``PIP_NO_INDEX`` (:mod:`kiln.core.index.pipconfig`). They are pip's
  settings, so they get pip's semantics: every index is searched and the best version wins
  (``unsafe-best-match``) unless a kiln strategy is given.

kiln's and uv's settings win entirely: pip's are read only when none of them says where
packages come from (a strategy alone does not), and never with ``--config-file`` or
``--no-config``, which fix the configuration to one file or none. With neither, PyPI.

``--torch-backend`` (``KILN_TORCH_BACKEND``) adds routes: the PyTorch packages come from
that backend's PyTorch indexes only (:mod:`kiln.core.index.torch`), unless a source pin
names their index. It says nothing about where other packages come from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kiln.core.index.config import IndexStrategy, ProjectIndexConfig
from kiln.core.index.configfiles import FileSettings, discover, load_settings, only_given_files
from kiln.core.index.locations import (
    IndexLocations,
    IndexOptions,
    resolve_locations,
    with_env_fallbacks,
)
from kiln.core.index.pipconfig import PipIndexSettings, pip_index_settings

#: The strategy of indexes that come from pip's configuration: pip's own behaviour.
PIP_STRATEGY: IndexStrategy = "unsafe-best-match"


def run_locations(
    options: IndexOptions,
    *,
    project: Path | None = None,
    config_file: Path | None = None,
    no_config: bool = False,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    sys_platform: str | None = None,
) -> IndexLocations:
    """Where packages come from in this run, in search order, and the strategy.

    ``options`` are the command line's (and requirement files') index options;
    ``project`` is the ``pyproject.toml`` whose index settings apply, if any;
    ``sys_platform`` is the target's (default: this machine's), from which
    ``--torch-backend auto`` chooses the PyTorch indexes.
    """
    env = os.environ if environ is None else environ
    base = cwd or Path.cwd()
    project_config = _project_config(project)
    paths = discover(base, env, config_file=config_file, no_config=no_config)
    files = load_settings(paths, pip=True) if paths else FileSettings()
    if not only_given_files(env, config_file=config_file, no_config=no_config) and not (
        _kiln_says_where(with_env_fallbacks(options, env), files, project_config)
    ):
        pip = pip_index_settings(env)
        if pip.is_set:
            files = _as_file_settings(pip, base, files)
    return resolve_locations(
        options, project_config, environ=env, cwd=base, files=files, sys_platform=sys_platform
    )


def _project_config(project: Path | None) -> ProjectIndexConfig | None:
    if project is None:
        return None
    from kiln.project.indexes import index_config

    return index_config(project)


def _kiln_says_where(
    options: IndexOptions, files: FileSettings, project: ProjectIndexConfig | None
) -> bool:
    """Whether kiln's or uv's settings say where (unpinned) packages come from."""
    return bool(
        options.index
        or options.default_index
        or options.index_url
        or options.extra_index_url
        or options.find_links
        or options.no_index
        or files.indexes
        or files.index_url
        or files.extra_index_urls
        or files.find_links
        or files.no_index
        or (project is not None and any(not index.explicit for index in project.indexes))
    )


def _as_file_settings(pip: PipIndexSettings, cwd: Path, files: FileSettings) -> FileSettings:
    """pip's settings in the shape of configuration-file settings (paths made URLs), with
    the strategy (else pip's) and the PyTorch backend of the configuration ``files``."""
    from kiln.core.index.config import location_to_url

    return FileSettings(
        index_url=location_to_url(pip.index_url, cwd) if pip.index_url else None,
        extra_index_urls=tuple(location_to_url(url, cwd) for url in pip.extra_index_urls),
        find_links=tuple(location_to_url(item, cwd) for item in pip.find_links),
        no_index=pip.no_index,
        strategy=files.strategy or PIP_STRATEGY,
        torch_backend=files.torch_backend,
        keyring_provider=files.keyring_provider,
        files=pip.files,
    )
