"""A stand-in for the `keyring` command: a real executable that tests put first on `PATH`.

``fake_keyring(directory, entries)`` writes ``directory/keyring``: ``keyring get SERVICE USER``
prints the password of ``(SERVICE, USER)`` in ``entries``, and ``keyring get SERVICE --mode
creds`` prints the first user name and password stored for SERVICE, each on a line; anything
else exits 1, as the real command does when it has no entry. Every call's arguments are
appended, one JSON list a line, to ``directory/calls.jsonl`` (read with :func:`calls`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

_SCRIPT = """#!{python}
import json, sys
entries = {entries!r}
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
words = sys.argv[1:]
if len(words) == 3 and words[0] == "get" and (words[1], words[2]) in entries:
    print(entries[(words[1], words[2])])
    sys.exit(0)
if words[:1] == ["get"] and words[2:] == ["--mode", "creds"]:
    for (service, user), password in entries.items():
        if service == words[1]:
            print(user)
            print(password)
            sys.exit(0)
sys.exit(1)
"""


def fake_keyring(directory: Path, entries: Mapping[tuple[str, str], str]) -> Path:
    """Write the fake ``keyring`` into ``directory`` (made if missing); returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "keyring"
    script.write_text(
        _SCRIPT.format(python=sys.executable, entries=dict(entries),
                       log=str(directory / "calls.jsonl")),
        encoding="utf-8",
    )
    script.chmod(0o755)
    return directory


def calls(directory: Path) -> list[list[str]]:
    """The arguments of every call of the fake ``keyring`` in ``directory``, in order."""
    log = directory / "calls.jsonl"
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def path_with(directory: Path, environ: Mapping[str, str]) -> str:
    """``PATH`` of ``environ`` with ``directory`` first."""
    return os.pathsep.join([str(directory), environ.get("PATH", os.defpath)])
