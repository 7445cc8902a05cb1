"""Finding Python interpreters and asking them about themselves.

One subprocess runs a small probe script (core/interpreter_probe.py, standard library
only, so that it runs on every Python kiln can target: 3.8 and newer) in the interpreter
and returns its version, prefixes, install schemes, marker values and the facts its wheel
tags depend on as JSON; kiln computes the tags from those facts (core/platformtags.py).
The answer is cached under ``<cache>/interpreter-v2/``, keyed by the
interpreter's path, modification time and size, and for the interpreter of a virtual
environment also by the interpreter it links to (see :func:`inspect_interpreter`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.core.cachedir import cache_root
from kiln.core.platformtags import TagFacts, supported_tags
from kiln.core.record import Record
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.tags import Tag

SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")

#: The script run in the probed interpreter (any Python >= 3.8; standard library only).
_PROBE_SCRIPT = Path(__file__).with_name("interpreter_probe.py")
#: The oldest Python kiln can make environments for, install into or resolve for.
OLDEST_PYTHON = (3, 8)

_CACHE_VERSION = "interpreter-v2"


class Interpreter(Record):
    """What a Python interpreter told us about itself.

    A record (:mod:`kiln.core.record`), not a named tuple: :attr:`tags` is a
    ``cached_property``. Equal when every field is: an answer moved to another environment
    is compared with the probed one (:func:`inspect_interpreter`).
    """

    #: The fields, in the order of ``__init__`` (for equality, ``repr`` and JSON).
    _fields = (
        "executable", "base_executable", "prefix", "base_prefix", "version",
        "version_string", "implementation", "implementation_display", "venv_scheme",
        "paths", "markers", "tag_facts", "bundled_wheels",
    )

    def __init__(
        self,
        executable: str,
        base_executable: str,
        prefix: str,
        base_prefix: str,
        version: tuple[int, int, int],
        version_string: str,
        implementation: str,
        implementation_display: str,
        venv_scheme: Mapping[str, str],
        paths: Mapping[str, str],
        markers: Mapping[str, str],
        tag_facts: TagFacts,
        bundled_wheels: tuple[str, ...],
    ) -> None:
        self.executable = executable
        self.base_executable = base_executable
        self.prefix = prefix
        self.base_prefix = base_prefix
        self.version = version
        self.version_string = version_string
        self.implementation = implementation
        self.implementation_display = implementation_display
        #: Install scheme of a virtual environment, relative to its prefix.
        self.venv_scheme = venv_scheme
        #: The interpreter's own install scheme (absolute paths).
        self.paths = paths
        #: PEP 508 marker values.
        self.markers = markers
        #: What the interpreter's wheel tags depend on (see :attr:`tags`).
        self.tag_facts = tag_facts
        self.bundled_wheels = bundled_wheels

    def __hash__(self) -> int:
        # Equal interpreters have equal fields; these few tell most of them apart.
        return hash((self.executable, self.prefix, self.version_string))

    @cached_property
    def tags(self) -> tuple[Tag, ...]:
        """Supported wheel tags, most preferred first."""
        return tuple(supported_tags(self.tag_facts))

    @property
    def is_venv(self) -> bool:
        return os.path.realpath(self.prefix) != os.path.realpath(self.base_prefix)

    @property
    def short_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Interpreter:
        version = data["version"]
        assert isinstance(version, list)
        return cls(
            executable=str(data["executable"]),
            base_executable=str(data["base_executable"]),
            prefix=str(data["prefix"]),
            base_prefix=str(data["base_prefix"]),
            version=(int(version[0]), int(version[1]), int(version[2])),
            version_string=str(data["version_string"]),
            implementation=str(data["implementation"]),
            implementation_display=str(data["implementation_display"]),
            venv_scheme=_str_map(data["venv_scheme"]),
            paths=_str_map(data["paths"]),
            markers=_str_map(data["markers"]),
            tag_facts=TagFacts.from_json(_mapping(data["tag_facts"])),
            bundled_wheels=tuple(str(w) for w in _list(data["bundled_wheels"])),
        )

    def to_json(self) -> dict[str, object]:
        data = {name: getattr(self, name) for name in self._fields}
        data["version"] = list(self.version)
        data["venv_scheme"] = dict(self.venv_scheme)
        data["paths"] = dict(self.paths)
        data["markers"] = dict(self.markers)
        data["tag_facts"] = self.tag_facts.to_json()
        data["bundled_wheels"] = list(self.bundled_wheels)
        return data


def _str_map(value: object) -> dict[str, str]:
    assert isinstance(value, dict)
    return {str(k): str(v) for k, v in value.items()}


def _mapping(value: object) -> Mapping[str, object]:
    assert isinstance(value, dict)
    return value


def _list(value: object) -> list[object]:
    assert isinstance(value, list)
    return value


def inspect_interpreter(path: str | os.PathLike[str]) -> Interpreter:
    """Probe the interpreter at ``path`` (cached by path, mtime and size).

    The interpreter of a virtual environment is usually a link to a shared one; its
    answer is also cached by the link's target, and serves, with the paths moved, any
    other environment made from the same interpreter: a new environment needs no probe.
    """
    location = Path(os.path.abspath(path))
    try:
        stat = location.stat()
    except OSError as exc:
        raise KilnError(f"cannot run Python interpreter `{location}`: {exc.strerror}") from None
    key: list[object] = [str(location), stat.st_mtime_ns, stat.st_size]
    cache_file = _cache_file(str(location))
    cached = _read_cache(cache_file, key)
    if cached is not None:
        return cached
    shared = _shared_key(location, stat)
    if shared is not None:
        found = _read_cache(shared[0], shared[1])
        moved = _relocated(found, location) if found is not None else None
        if moved is not None:
            return moved
    interpreter = _probe(location)
    if not _is_script(location):  # a shim (pyenv, asdf) may point elsewhere tomorrow
        _write_cache(cache_file, key, interpreter)
        if shared is not None and _relocated(interpreter, location) == interpreter:
            _write_cache(shared[0], shared[1], interpreter)
    return interpreter


def _shared_key(location: Path, stat: os.stat_result) -> tuple[Path, list[object]] | None:
    """The cache file and key of a virtual environment's interpreter by the interpreter it
    links to, or None when ``location`` is not a link inside a virtual environment."""
    if not (location.parent.parent / "pyvenv.cfg").is_file():
        return None
    target = os.path.realpath(location)
    if target == str(location):
        return None  # a copy: nothing shared with other environments
    identity = f"venv\0{target}\0{location.name}"
    return _cache_file(identity), [identity, stat.st_mtime_ns, stat.st_size]


def _relocated(interpreter: Interpreter, location: Path) -> Interpreter | None:
    """``interpreter``, probed in another environment made from the same interpreter, as
    the environment of ``location`` would describe itself; None when its paths are not
    the simple function of the environment's directory that this needs."""
    old_prefix = interpreter.prefix
    old_location = Path(interpreter.executable)
    if (
        old_location.name != location.name
        or str(old_location.parent.parent) != old_prefix
        or not interpreter.is_venv
    ):
        return None
    new_prefix = str(location.parent.parent)

    def moved(value: str) -> str:
        if value == old_prefix:
            return new_prefix
        if value.startswith(old_prefix + os.sep):
            return new_prefix + value[len(old_prefix):]
        return value

    return interpreter.replace(
        executable=str(location),
        prefix=new_prefix,
        paths={key: moved(value) for key, value in interpreter.paths.items()},
    )


def _cache_file(identity: str) -> Path:
    digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return cache_root() / _CACHE_VERSION / f"{digest}.json"


def _read_cache(cache_file: Path, key: list[object]) -> Interpreter | None:
    try:
        data = json.loads(cache_file.read_text("utf-8"))
        if data.get("key") != key:
            return None
        return Interpreter.from_json(data["interpreter"])
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        return None


def _write_cache(cache_file: Path, key: list[object], interpreter: Interpreter) -> None:
    payload = json.dumps({"key": key, "interpreter": interpreter.to_json()})
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.tmp")
        temporary.write_text(payload, "utf-8")
        os.replace(temporary, cache_file)
    except OSError:
        pass  # the cache is an optimisation only


def _is_script(location: Path) -> bool:
    try:
        with open(location, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False


def _probe(location: Path) -> Interpreter:
    import subprocess  # only to probe: a cached answer needs none

    try:
        completed = subprocess.run(
            [str(location), "-I", str(_PROBE_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KilnError(f"cannot run Python interpreter `{location}`: {exc}") from None
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise KilnError(
            f"cannot query Python interpreter `{location}`",
            hint=f"it failed with: {last} (kiln supports Python {_oldest()} and newer)",
        )
    try:
        interpreter = Interpreter.from_json(json.loads(completed.stdout))
    except (ValueError, KeyError, TypeError, AssertionError):
        raise KilnError(f"cannot query Python interpreter `{location}`: unexpected output") from None
    if interpreter.version[:2] < OLDEST_PYTHON:
        raise KilnError(
            f"Python interpreter `{location}` is Python {interpreter.version_string}, "
            f"which kiln does not support",
            hint=f"use Python {_oldest()} or newer",
        )
    return interpreter


def _oldest() -> str:
    return ".".join(map(str, OLDEST_PYTHON))


_VERSION_REQUEST = re.compile(r"^(?:python|cpython|py)?@?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


def version_request(request: str) -> tuple[int, ...] | None:
    """The version a ``--python`` request names (``3``, ``3.12``, ``cpython@3.12.1``), or
    None when the request is a path, a name or anything else."""
    match = _VERSION_REQUEST.match(request.strip())
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def _which(name: str, search_path: str | None) -> str | None:
    """``shutil.which`` (imported when an interpreter is looked for on ``PATH`` only)."""
    import shutil

    return shutil.which(name, path=search_path)


def find_interpreter(request: str | None = None, *, search_path: str | None = None) -> Interpreter:
    """Find an interpreter for a ``--python`` request.

    ``request`` may be a path (to an interpreter or a virtual environment), a version
    (``3``, ``3.12``, ``3.12.1``), or an executable name on ``PATH`` (``python3.12``).
    Without a request, the first ``python3`` or ``python`` on ``PATH`` is used, else
    the interpreter running kiln. ``search_path`` replaces the ``PATH`` variable.
    """
    if request is None:
        for name in ("python3", "python"):
            found = _which(name, search_path)
            if found:
                return inspect_interpreter(found)
        return inspect_interpreter(sys.executable)
    if _looks_like_path(request):
        return inspect_interpreter(_interpreter_in(Path(request).expanduser()))
    wanted = version_request(request)
    if wanted is not None:
        for candidate in _version_candidates(wanted, search_path):
            try:
                interpreter = inspect_interpreter(candidate)
            except KilnError:
                continue
            if interpreter.version[: len(wanted)] == wanted:
                return interpreter
        raise KilnError(
            f"no interpreter found for Python {request} on `PATH`",
            hint="install it, or pass the path of an interpreter to `--python`",
        )
    found = _which(request, search_path)
    if found is None:
        raise KilnError(
            f"no interpreter named `{request}` found on `PATH`",
            hint="pass a version (`3.12`) or the path of an interpreter to `--python`",
        )
    return inspect_interpreter(found)


def first_interpreter(
    accept: Callable[[Interpreter], bool], *, search_path: str | None = None
) -> Interpreter | None:
    """The first interpreter that ``accept`` takes: the one running kiln, then, folder by
    folder along ``PATH`` (or ``search_path``), ``python3``, ``python`` and ``python3.N``
    from the newest minor version down; None when none is taken."""
    seen: set[str] = set()
    for candidate in _all_candidates(search_path):
        try:
            interpreter = inspect_interpreter(candidate)
        except KilnError:
            continue
        identity = os.path.realpath(interpreter.base_executable)
        if identity in seen:
            continue
        seen.add(identity)
        if accept(interpreter):
            return interpreter
    return None


#: The newest minor version of Python 3 that ``python3.N`` names are looked for.
_NEWEST_MINOR = 15


def _all_candidates(search_path: str | None) -> Iterator[Path]:
    yield Path(sys.executable)
    names = ["python3", "python"] + [
        f"python3.{minor}" for minor in range(_NEWEST_MINOR, OLDEST_PYTHON[1] - 1, -1)
    ]
    yield from _on_path(names, search_path, by_folder=True)


def _looks_like_path(request: str) -> bool:
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return any(sep in request for sep in separators) or request.startswith(("~", "."))


def _interpreter_in(path: Path) -> Path:
    if not path.is_dir():
        if not path.exists():
            raise KilnError(f"no Python interpreter at `{path}`: the file does not exist")
        return path
    for relative in ("bin/python3", "bin/python", "Scripts/python.exe", "python.exe"):
        if (path / relative).exists():
            return path / relative
    raise KilnError(f"no Python interpreter found in directory `{path}`")


def _version_candidates(wanted: tuple[int, ...], search_path: str | None = None) -> Iterator[Path]:
    names = ["python", "python3"]
    if len(wanted) >= 2:
        names.insert(0, f"python{wanted[0]}.{wanted[1]}")
    elif wanted:
        names.insert(0, f"python{wanted[0]}")
    yield from _on_path(list(dict.fromkeys(names)), search_path, by_folder=False)


def _on_path(names: list[str], search_path: str | None, *, by_folder: bool) -> Iterator[Path]:
    """The executables called ``names`` on ``PATH`` (or ``search_path``): name by name, each
    along the whole path, or (``by_folder``) folder by folder, each for every name."""
    folders = [
        folder
        for folder in (os.environ.get("PATH", "") if search_path is None else search_path).split(os.pathsep)
        if folder
    ]
    pairs = (
        ((folder, name) for folder in folders for name in names)
        if by_folder
        else ((folder, name) for name in names for folder in folders)
    )
    seen: set[Path] = set()
    for folder, name in pairs:
        for suffix in ("", ".exe") if os.name == "nt" else ("",):
            candidate = Path(folder) / f"{name}{suffix}"
            if candidate in seen or not os.access(candidate, os.X_OK) or candidate.is_dir():
                continue
            seen.add(candidate)
            yield candidate
