"""The project lockfile, ``pylock.toml`` (PEP 751), beside the workspace root's
``pyproject.toml`` (a PEP 723 script's is ``pylock.<stem>.toml``, beside the script).

- :mod:`~kiln.core.lockfile.document`: writing the file (keys in a fixed order, so one
  lock is always the same bytes) and reading it, validated with :mod:`packaging.pylock`;
- :mod:`~kiln.core.lockfile.inputs`: what a lock is made from: every member's
  requirements, extras and dependency groups, lowered through the project's sources,
  and the record of them kept in ``[tool.kiln]``;
- :mod:`~kiln.core.lockfile.entries`: the ``[[packages]]`` of a universal resolution;
- :mod:`~kiln.core.lockfile.stamps`: deciding without a resolver (and with few imports)
  that a lock is still current;
- :mod:`~kiln.core.lockfile.changes`: what differs between two locks, for messages;
- :mod:`~kiln.core.lockfile.preferences`: the versions an existing ``pylock.toml`` or
  ``uv.lock`` pins, tried first when locking again.

Library code only: it never prints; failures are :class:`kiln.errors.KilnError`.
This package imports nothing: import each name from the module that defines it.
"""

#: The lockfile of a workspace, beside its root ``pyproject.toml``.
LOCKFILE = "pylock.toml"


def script_lock_name(script: str) -> str:
    """The lockfile of the PEP 723 script called ``script``, beside it: ``pylock.<stem>.toml``
    (its stem's dots become hyphens, as PEP 751 names allow none)."""
    stem = script.rsplit(".", 1)[0] if "." in script[1:] else script
    return f"pylock.{stem.replace('.', '-')}.toml"


def is_lock_name(name: str) -> bool:
    """Whether ``name`` is a file name PEP 751 gives locks: ``pylock.toml`` or
    ``pylock.<name>.toml``."""
    import re

    return re.fullmatch(r"pylock\.(?:[^.]+\.)?toml", name) is not None
