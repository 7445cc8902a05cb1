"""Calling a PEP 517 backend's hooks in a subprocess, through pypa/build's ``ProjectBuilder``.

With isolation the backend runs in a build environment (:class:`~.envcache.BuildEnv`, a
``build.env.IsolatedEnv``) holding ``build-system.requires`` plus whatever
``get_requires_for_build_*`` asks for; without it, in the active virtual environment
(``VIRTUAL_ENV``) or kiln's own interpreter, with nothing installed and no
``get_requires_for_build_*`` call. The backend's output is captured line by line: shown as it
comes with ``-v``, and kept on the :class:`~.errors.BackendError` of a failed hook.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kiln.core.builder.configsettings import ConfigSettings
from kiln.core.builder.envcache import BuildEnv, EnvProvider, normalize_requirements
from kiln.core.builder.errors import BackendError
from kiln.core.builder.installer import env_python
from kiln.core.builder.report import Reporter
from kiln.errors import KilnError
from kiln.project.buildsystem import BuildSystem

if TYPE_CHECKING:
    import build

    from kiln.core.builder.requirements import ProjectRequirements
    from kiln.core.builder.service import Kind

T = TypeVar("T")
HINT = "build failures usually come from the project or its build requirements; rerun with `-v` to see all backend output"


class _HookExited(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


class _Runner:
    """A subprocess runner for ``ProjectBuilder`` that captures and forwards output."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.output: list[str] = []

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ.copy()
        environ.update(extra_environ or {})
        environ.setdefault("PYTHONIOENCODING", "utf-8:backslashreplace")
        with subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process:
            assert process.stdout is not None
            for raw in process.stdout:
                line = raw.rstrip("\r\n")
                self.output.append(line)
                self.reporter.backend_line(line)
            returncode = process.wait()
        if returncode != 0:
            raise _HookExited(returncode)


def no_isolation_python(python: Path | str | None = None) -> str:
    """``python`` (``--python``, or the target environment's interpreter) when given, else
    the active virtual environment's interpreter, else kiln's own."""
    if python is not None:
        return str(python)
    active = os.environ.get("VIRTUAL_ENV")
    if active and env_python(Path(active)).is_file():
        return str(env_python(Path(active)))
    return sys.executable


class HookSession:
    """The hooks of one backend for one source tree, in one environment (None: the
    interpreter of :func:`no_isolation_python`)."""

    def __init__(
        self,
        source_dir: Path,
        build_system: BuildSystem,
        env: BuildEnv | None,
        reporter: Reporter,
        label: str,
        python: Path | str | None = None,
    ) -> None:
        self.runner = _Runner(reporter)
        self.backend = build_system.backend
        self.label = label
        self.builder = _project_builder(source_dir, env, self.runner, python)

    def call(self, hook: str, function: Callable[[build.ProjectBuilder], T]) -> T:
        """``function(builder)``, one hook call; a failure is a :class:`BackendError`
        carrying what the backend printed."""
        import build

        self.runner.output = []
        try:
            return function(self.builder)
        except build.BuildBackendException as exc:
            message, traceback = self._describe(hook, exc.exception)
        output = self.runner.output + traceback
        raise BackendError(message, output=output, hint=HINT)

    def _describe(self, hook: str, error: Exception) -> tuple[str, list[str]]:
        """The message for a failed hook, and output to add to the backend's own.

        ``error`` is what pyproject_hooks raised (pypa/build passes it on): told apart by
        its type's name, so that kiln needs nothing of pyproject_hooks but through build.
        """
        kind = type(error).__name__
        if isinstance(error, _HookExited):
            return (
                f"build backend hook `{self.backend}.{hook}` failed for `{self.label}` "
                f"(exit status {error.returncode})",
                [],
            )
        if kind == "BackendUnavailable":
            detail, _, traceback = str(error).partition("\n\nTraceback:\n")
            return (
                f"cannot import build backend `{self.backend}` for `{self.label}`: {detail}",
                traceback.splitlines(),
            )
        if kind == "HookMissing":
            return f"build backend `{self.backend}` has no `{hook}` hook (project `{self.label}`)", []
        if kind == "UnsupportedOperation":
            return (
                f"build backend `{self.backend}` cannot run `{hook}` for `{self.label}`",
                str(getattr(error, "traceback", "")).splitlines(),
            )
        return f"build backend hook `{self.backend}.{hook}` failed for `{self.label}`: {error}", []


def _project_builder(
    source_dir: Path, env: BuildEnv | None, runner: _Runner, python: Path | str | None = None
) -> build.ProjectBuilder:
    """pypa/build's hook caller for ``source_dir``; its checks of ``[build-system]`` (on top
    of kiln's own) become a one-line error naming the file."""
    import build

    pyproject = source_dir / "pyproject.toml"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", build.TypoWarning)
        try:
            if env is None:
                return build.ProjectBuilder(
                    source_dir, python_executable=no_isolation_python(python), runner=runner
                )
            return build.ProjectBuilder.from_isolated_env(env, source_dir, runner=runner)
        except build.BuildSystemTableValidationError as exc:
            reason = exc.args[0] if exc.args else str(exc)
            typos = [str(w.message) for w in caught if issubclass(w.category, build.TypoWarning)]
            raise KilnError(
                f"`{pyproject}`: invalid `[build-system]` table: {reason}",
                hint="; ".join(typos) or "`[build-system]` takes `requires`, `build-backend` "
                "and `backend-path` only",
            ) from None
        except build.BuildException as exc:
            raise KilnError(f"cannot build `{source_dir}`: {exc}") from None


def build_subprocess(
    kind: Kind,
    source_dir: Path,
    out_dir: Path,
    build_system: BuildSystem,
    config_settings: ConfigSettings,
    *,
    envs: EnvProvider | None,
    python: str | None = None,
    constraints: Path | None,
    reporter: Reporter,
    label: str,
    requirements: ProjectRequirements | None = None,
) -> Path:
    """Build ``kind`` from ``source_dir`` into ``out_dir``; ``envs=None`` means no isolation.

    ``requirements`` lowers the build requirements with the project's sources (and applies
    its build constraints) before they are installed. Without isolation the backend runs
    in ``python`` (default: :func:`no_isolation_python`).
    """
    settings = dict(config_settings) or None
    env: BuildEnv | None = None

    def environment(requires: Sequence[str]) -> BuildEnv:
        assert envs is not None
        if requirements is None:
            return envs.get(requires, constraints)
        return requirements.environment(envs, requires)

    if envs is not None:
        env = environment(build_system.requires)
    session = HookSession(source_dir, build_system, env, reporter, label, python)
    if envs is not None:
        hook = f"get_requires_for_build_{kind}"
        extra = session.call(hook, lambda hooks: hooks.get_requires_for_build(kind, settings))
        known = set(normalize_requirements(build_system.requires))
        missing = [item for item in normalize_requirements(list(extra)) if item not in known]
        if missing:
            reporter.debug(f"`{hook}` asks for {', '.join(missing)}")
            env = environment([*build_system.requires, *missing])
            session = HookSession(source_dir, build_system, env, reporter, label, python)
    built = Path(session.call(f"build_{kind}", lambda hooks: hooks.build(kind, out_dir, settings)))
    if not built.is_file():
        raise BackendError(
            f"build backend `{build_system.backend}` reported `{built.name}` for `{label}`, but wrote no such file",
            output=session.runner.output,
        )
    return built
