"""One model of a project and its workspace, read from ``pyproject.toml`` files.

- :mod:`kiln.project.toml`: reading TOML once per process, with errors naming file and key;
- :mod:`kiln.project.pyproject`: one ``pyproject.toml`` (:class:`PyProject`): ``[project]``,
  ``[dependency-groups]`` (:mod:`~kiln.project.groups`), ``[build-system]``
  (:mod:`~kiln.project.buildsystem`) and ``[tool.kiln]``/``[tool.uv]`` settings
  (:mod:`~kiln.project.settings`);
- :mod:`kiln.project.workspace`: finding the project and its workspace from a directory,
  members, the workspace's ``requires-python``, choosing members to build;
- :mod:`kiln.project.sources` and :mod:`kiln.project.indexes`: what the lowering of
  requirements and the index client take from a project;
- :mod:`kiln.project.edit`: changing a ``pyproject.toml`` and keeping its formatting.

Library code only: it never prints; failures are :class:`kiln.errors.KilnError`.

This package imports nothing: import each name from the module that defines it.
"""
