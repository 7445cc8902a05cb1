"""The project environment: the virtual environment a workspace is installed into (or a
PEP 723 script: its environment is in the cache, see :func:`script_environment`).

Where it is: ``<workspace root>/.venv``, or the path in ``KILN_PROJECT_ENVIRONMENT`` (else
``UV_PROJECT_ENVIRONMENT``; a relative path is taken from the workspace root). With
``active``, ``VIRTUAL_ENV`` wins; without it, a ``VIRTUAL_ENV`` naming another environment
is ignored with a warning.

Which Python: the ``python`` request (``--python``: a version, a range, a name or a path),
else the first version in ``<workspace root>/.python-version``, else the first interpreter
that satisfies ``requires-python`` (the one running kiln first, then those on ``PATH``).
The interpreter must satisfy ``requires-python`` in every case.

An existing environment is used when its Python satisfies the request and
``requires-python``; otherwise it is removed and made again. Only a virtual environment (a
directory with ``pyvenv.cfg``) is ever removed, never through a symbolic link and never
one that holds the workspace itself; an empty directory is used as it is, and anything else
at the path is an error that leaves it untouched. Deciding and creating happen under a lock
(:func:`kiln.core.install.envlock.creation_lock_file`), so two kiln processes never both
make the environment.

A new (not a re-made) environment may come from elsewhere than :func:`kiln.core.venv.create_venv`:
the caller's ``restore`` makes it (from a snapshot, see :mod:`kiln.core.install.snapshot`)
when it can.

Nothing here prints: lines for the user go to ``report``, warnings to ``warn``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kiln.core.install.environment import Environment
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

    from kiln.core.interpreter import Interpreter

#: The variables that name the project environment; the first one set (not empty) wins.
ENVIRONMENT_VARIABLES = ("KILN_PROJECT_ENVIRONMENT", "UV_PROJECT_ENVIRONMENT")
#: The file in the workspace root whose first version line asks for a Python.
PYTHON_VERSION_FILE = ".python-version"

#: Receives one line for the user (a message, or a warning's text).
Reporter = Callable[[str], None]
#: Makes the new environment at the path it is given, described by the environment it is
#: given, the way it knows; False when it cannot (nothing is made then).
Restorer = Callable[[Path, Environment], bool]

_NOT_A_VENV_HINT = (
    "kiln only ever removes virtual environments: move the directory away, or set "
    "`KILN_PROJECT_ENVIRONMENT` to another path"
)


class ProjectEnvironment(NamedTuple):
    env: Environment
    #: Made, or removed and made again, by this call (with ``dry_run``: would be).
    created: bool
    path: Path
    #: An environment that was there is (with ``dry_run``: would be) removed and made anew.
    replaced: bool = False
    #: The new environment was made by the caller's ``restore``.
    restored: bool = False


class Location(NamedTuple):
    """Where the project environment is, and the warning to show about ``VIRTUAL_ENV``."""

    path: Path
    warning: str | None


class _Request(NamedTuple):
    """A Python request: its text and where it comes from (an option or a file)."""

    text: str
    source: str  # "`--python 3.12`" or "`/ws/.python-version`"
    file: Path | None


def environment_location(
    workspace_root: Path,
    *,
    active: bool = False,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    script: Path | None = None,
) -> Location:
    """The path of the project environment (of ``script``: :func:`script_environment`), and
    a warning when ``VIRTUAL_ENV`` names another environment that is ignored (without
    ``active``)."""
    env = os.environ if environ is None else environ
    root = Path(os.path.abspath(workspace_root))
    path = root / ".venv"
    if script is not None:
        path = script_environment(script)
    else:
        for name in ENVIRONMENT_VARIABLES:
            value = env.get(name)
            if value:
                path = Path(os.path.abspath(root / value))
                break
    virtual_env = env.get("VIRTUAL_ENV")
    if not virtual_env:
        return Location(path, None)
    base = cwd if cwd is not None else Path.cwd()
    activated = Path(os.path.abspath(base / virtual_env))
    if _same_place(activated, path):
        return Location(path, None)
    if active:
        return Location(activated, None)
    kind = "project" if script is None else "script"
    return Location(
        path,
        f"`VIRTUAL_ENV={virtual_env}` is not the {kind} environment `{_shown(path)}` and "
        "is ignored; pass `--active` to use the active environment instead",
    )


def script_environment(script: Path) -> Path:
    """The environment of the PEP 723 script ``script``: in the cache's ``environments-v1``,
    named after the script's stem and a digest of its absolute path (one per script)."""
    import hashlib
    import re

    from kiln.core.cachedir import cache_root

    script = Path(os.path.abspath(script))
    digest = hashlib.sha256(str(script).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", script.stem).strip(".-")[:64]
    return cache_root() / "environments-v1" / (f"{stem}-{digest}" if stem else digest)


def project_environment(
    workspace_root: Path,
    requires_python: SpecifierSet | None,
    *,
    python: str | None = None,
    active: bool = False,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
    report: Reporter | None = None,
    warn: Reporter | None = None,
    script: Path | None = None,
    restore: Restorer | None = None,
) -> ProjectEnvironment:
    """The project environment of the workspace at ``workspace_root`` (the environment of
    the PEP 723 ``script``), made or remade when needed (see the module's docstring). With
    ``dry_run`` nothing is made or removed: the environment returned describes the one that
    would be made, and ``report`` says so. ``restore``: how to make a new environment
    before creating one (see the module's docstring)."""
    env = os.environ if environ is None else environ
    root = Path(os.path.abspath(workspace_root))
    location = environment_location(root, active=active, environ=env, script=script)
    if location.warning is not None and warn is not None:
        warn(location.warning)
    settle = _Settle(
        root, location.path, requires_python, _request(root, python), env.get("PATH"),
        dry_run, report or _silent, "project" if script is None else "script", restore,
    )
    if dry_run:
        return settle.run()
    from kiln.core.install.envlock import creation_lock_file, holding

    with holding(creation_lock_file(location.path), location.path):
        return settle.run()


def _silent(_line: str) -> None:
    pass


class _Settle:
    """One decision: use, create or re-create the environment at ``path``."""

    def __init__(
        self,
        root: Path,
        path: Path,
        requires_python: SpecifierSet | None,
        request: _Request | None,
        search_path: str | None,
        dry_run: bool,
        report: Reporter,
        kind: str = "project",
        restore: Restorer | None = None,
    ) -> None:
        self.kind = kind
        self.restore = restore
        self.root = root
        self.path = path
        self.requires_python = requires_python
        self.request = request
        self.search_path = search_path
        self.dry_run = dry_run
        self.report = report

    def run(self) -> ProjectEnvironment:
        shown = _shown(self.path)
        found = _inspect(self.path)
        reason: str | None = None
        if isinstance(found, Environment):
            reason = self._mismatch(found.interpreter)
            if reason is None:
                if self.dry_run:
                    self.report(f"Would use {self.kind} environment at: {shown}")
                return ProjectEnvironment(found, False, self.path)
        elif isinstance(found, KilnError):
            reason = f"it cannot be used: {found.message}"
        interpreter = self._choose()
        if reason is not None:
            _check_removable(self.path, self.root)
        if self.dry_run:
            verb = "create" if reason is None else "replace"
            because = "" if reason is None else f" ({reason})"
            self.report(f"Would {verb} {self.kind} environment at: {shown}{because}")
            return ProjectEnvironment(
                _would_be(self.path, interpreter), True, self.path, replaced=reason is not None
            )
        self.report(
            f"Using {interpreter.implementation_display} {interpreter.version_string} "
            f"interpreter at: {interpreter.base_executable}"
        )
        if reason is not None:
            self.report(f"Removing virtual environment at: {shown} ({reason})")
        self.report(f"Creating {'script' if self.kind == 'script' else 'virtual'} environment at: {shown}")
        if reason is None and self.restore is not None:
            described = _would_be(self.path, interpreter)
            if self.restore(self.path, described):
                return ProjectEnvironment(described, True, self.path, restored=True)
        from kiln.core.venv import create_venv

        result = create_venv(self.path, interpreter, clear=reason is not None)
        return ProjectEnvironment(result.env, True, self.path, replaced=reason is not None)

    def _mismatch(self, interpreter: Interpreter) -> str | None:
        """Why an existing environment's interpreter will not do, or None when it will."""
        version = _version(interpreter)
        request = self.request
        if request is not None:
            wanted = _range(request.text)
            if wanted is not None:
                fits = wanted.contains(version, prereleases=True)
            else:
                fits = self._satisfies_request(interpreter, request)
            if not fits:
                return f"its Python {version} does not satisfy {request.source}"
        spec = self.requires_python
        if spec is not None and not spec.contains(version, prereleases=True):
            return f"its Python {version} does not satisfy `requires-python` `{spec}`"
        return None

    def _satisfies_request(self, interpreter: Interpreter, request: _Request) -> bool:
        from kiln.core.interpreter import version_request

        wanted = version_request(request.text)
        if wanted is not None:
            return interpreter.version[: len(wanted)] == wanted
        named = self._find(request)
        return _same_file(named.base_executable, interpreter.base_executable)

    def _choose(self) -> Interpreter:
        """The interpreter to make the environment with."""
        from kiln.core.interpreter import first_interpreter

        request, spec = self.request, self.requires_python
        if request is None:
            found = first_interpreter(
                lambda candidate: spec is None or spec.contains(_version(candidate), prereleases=True),
                search_path=self.search_path,
            )
            if found is None:
                raise KilnError(
                    f"no Python interpreter found that satisfies the project's "
                    f"`requires-python` (`{spec}`)",
                    hint="install one, or pass `--python` with the path of one",
                )
            return found
        wanted = _range(request.text)
        if wanted is not None:
            found = first_interpreter(
                lambda candidate: wanted.contains(_version(candidate), prereleases=True),
                search_path=self.search_path,
            )
            if found is None:
                raise KilnError(f"no Python interpreter found for {request.source}")
        else:
            found = self._find(request)
        version = _version(found)
        if spec is not None and not spec.contains(version, prereleases=True):
            if request.file is not None:
                raise KilnError(
                    f"{request.source} asks for Python {request.text}, and the interpreter "
                    f"found for it (`{found.base_executable}`, Python {version}) does not "
                    f"satisfy the project's `requires-python` (`{spec}`)",
                    hint=f"change `{PYTHON_VERSION_FILE}` to a version that satisfies `{spec}`",
                )
            raise KilnError(
                f"{request.source} is Python {version} (`{found.base_executable}`), which "
                f"does not satisfy the project's `requires-python` (`{spec}`)",
                hint=f"pass a Python that satisfies `{spec}`",
            )
        return found

    def _find(self, request: _Request) -> Interpreter:
        from kiln.core.interpreter import find_interpreter

        try:
            return find_interpreter(request.text, search_path=self.search_path)
        except KilnError as exc:
            if request.file is None:
                raise
            raise KilnError(f"{exc.message} (asked for by {request.source})", hint=exc.hint) from None


def _request(root: Path, python: str | None) -> _Request | None:
    """``python`` if given, else the first version line of the root's `.python-version`."""
    if python is not None and python.strip():
        return _Request(python.strip(), f"`--python {python.strip()}`", None)
    file = root / PYTHON_VERSION_FILE
    try:
        text = file.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise KilnError(f"cannot read `{file}`: {why}") from None
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            return _Request(line, f"`{file}`", file)
    return None


def _range(text: str) -> SpecifierSet | None:
    """A request that is a version range (``>=3.11,<3.13``), else None."""
    if not text.startswith(("<", ">", "=", "!", "~")):
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise KilnError(f"`{text}` is not a Python version range") from None


def _inspect(path: Path) -> Environment | KilnError | None:
    """The virtual environment at ``path``; the error saying why the virtual environment
    there is unusable; or None when there is nothing (or an empty directory) to use.
    Anything else at ``path`` is an error."""
    from kiln.core.install.envlock import LOCK_NAME

    if path.is_symlink() and not path.exists():
        raise KilnError(
            f"the project environment `{path}` is a symbolic link to "
            f"`{os.readlink(path)}`, which does not exist",
            hint="remove the link, or make the environment it points to",
        )
    if not path.exists():
        return None
    if not path.is_dir():
        raise KilnError(
            f"the project environment `{path}` exists and is not a directory",
            hint=_NOT_A_VENV_HINT,
        )
    if not (path / "pyvenv.cfg").is_file():
        try:
            names = [child.name for child in path.iterdir()]
        except OSError as exc:
            raise KilnError(f"cannot read `{path}`: {exc.strerror}") from None
        if any(name != LOCK_NAME for name in names):
            raise KilnError(
                f"the project environment `{path}` is not a virtual environment "
                "(it has no `pyvenv.cfg`) and is not empty",
                hint=_NOT_A_VENV_HINT,
            )
        return None
    try:
        return Environment.from_venv(path)
    except KilnError as exc:
        return exc


def _check_removable(path: Path, root: Path) -> None:
    """Refuse to remove the environment at ``path`` through a link, or when it holds the
    workspace."""
    if path.is_symlink():
        raise KilnError(
            f"the project environment `{path}` is a symbolic link to "
            f"`{os.readlink(path)}` and has to be made again; kiln does not remove "
            "environments through links",
            hint="remove or re-create the environment the link points to yourself, "
            "or remove the link",
        )
    real, inside = os.path.realpath(path), os.path.realpath(root)
    if inside == real or inside.startswith(real.rstrip(os.sep) + os.sep):
        raise KilnError(
            f"the project environment `{path}` has to be made again, but it holds the "
            f"workspace `{root}` itself; kiln does not remove it",
            hint="set `KILN_PROJECT_ENVIRONMENT` to a directory outside the workspace root's "
            "parents",
        )


def _would_be(path: Path, interpreter: Interpreter) -> Environment:
    """The environment that creating a virtual environment at ``path`` would make."""
    from kiln.core.install.environment import venv_scheme

    scheme = venv_scheme(path, interpreter)
    python = scheme.scripts / ("python.exe" if os.name == "nt" else "python")
    described = interpreter.replace(
        executable=str(python),
        prefix=str(path),
        paths={key: str(path / relative) for key, relative in interpreter.venv_scheme.items()},
    )
    return Environment(path, python, described, scheme)


def _version(interpreter: Interpreter) -> str:
    return ".".join(map(str, interpreter.version))


def _same_place(left: Path, right: Path) -> bool:
    if os.path.normcase(left) == os.path.normcase(right):
        return True
    return _same_file(str(left), str(right))


def _same_file(left: str, right: str) -> bool:
    try:
        return os.path.samefile(left, right)
    except OSError:
        return False


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
