"""Running a PEP 517 backend in a subprocess via ``pyproject_hooks``.

With isolation the backend runs in a build environment holding
``build-system.requires`` plus whatever ``get_requires_for_build_*`` asks for;
without it, in the active virtual environment (``VIRTUAL_ENV``) or kiln's own
interpreter, with nothing installed and no ``get_requires_for_build_*`` call.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from kiln.core.builder.configsettings import ConfigSettings
from kiln.core.builder.envcache import BuildEnv, EnvProvider, normalize_requirements
from kiln.core.builder.errors import BackendError
from kiln.core.builder.installer import env_python
from kiln.core.builder.report import Reporter
from kiln.project.buildsystem import BuildSystem

if TYPE_CHECKING:
    from kiln.core.builder.requirements import ProjectRequirements

T = TypeVar("T")
HINT = "build failures usually come from the project or its build requirements; rerun with `-v` to see all backend output"


class _HookExited(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


class _Runner:
    """A ``pyproject_hooks`` subprocess runner that captures and forwards output."""

    def __init__(self, environ: Mapping[str, str] | None, reporter: Reporter) -> None:
        self.environ = dict(environ or {})
        self.reporter = reporter
        self.output: list[str] = []

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ.copy()
        environ.update(self.environ)
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


def no_isolation_python() -> str:
    """The active virtual environment's interpreter, else kiln's own."""
    active = os.environ.get("VIRTUAL_ENV")
    if active and env_python(Path(active)).is_file():
        return str(env_python(Path(active)))
    return sys.executable


class HookSession:
    """The hooks of one backend for one source tree, in one environment."""

    def __init__(
        self,
        source_dir: Path,
        build_system: BuildSystem,
        python: str,
        environ: Mapping[str, str] | None,
        reporter: Reporter,
        label: str,
    ) -> None:
        from pyproject_hooks import BuildBackendHookCaller

        self.runner = _Runner(environ, reporter)
        self.backend = build_system.backend
        self.label = label
        self.caller = BuildBackendHookCaller(
            str(source_dir),
            build_system.backend,
            backend_path=list(build_system.backend_path) if build_system.backend_path else None,
            runner=self.runner,
            python_executable=python,
        )

    def call(self, hook: str, function: Callable[[], T]) -> T:
        from pyproject_hooks import BackendUnavailable, HookMissing

        self.runner.output = []
        try:
            return function()
        except _HookExited as exc:
            message = f"build backend hook `{self.backend}.{hook}` failed for `{self.label}` (exit status {exc.returncode})"
        except BackendUnavailable as exc:
            message = f"cannot import build backend `{self.backend}` for `{self.label}`"
            detail = getattr(exc, "message", None) or str(exc)
            if detail:
                message += f": {detail}"
        except HookMissing:
            message = (
                f"build backend `{self.backend}` has no `{hook}` hook (project `{self.label}`)"
            )
        raise BackendError(message, output=self.runner.output, hint=HINT)


def build_subprocess(
    kind: Literal["sdist", "wheel"],
    source_dir: Path,
    out_dir: Path,
    build_system: BuildSystem,
    config_settings: ConfigSettings,
    *,
    envs: EnvProvider | None,
    constraints: Path | None,
    reporter: Reporter,
    label: str,
    requirements: ProjectRequirements | None = None,
) -> Path:
    """Build ``kind`` from ``source_dir`` into ``out_dir``; ``envs=None`` means no isolation.

    ``requirements`` lowers the build requirements with the project's sources (and applies
    its build constraints) before they are installed.
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
    python = env.python_executable if env else no_isolation_python()
    environ = env.make_extra_environ() if env else None
    session = HookSession(source_dir, build_system, python, environ, reporter, label)
    if envs is not None:
        hook = f"get_requires_for_build_{kind}"
        if kind == "sdist":
            extra = session.call(
                hook, lambda: session.caller.get_requires_for_build_sdist(settings)
            )
        else:
            extra = session.call(
                hook, lambda: session.caller.get_requires_for_build_wheel(settings)
            )
        known = set(normalize_requirements(build_system.requires))
        missing = [item for item in normalize_requirements(extra) if item not in known]
        if missing:
            reporter.debug(f"`{hook}` asks for {', '.join(missing)}")
            env = environment([*build_system.requires, *missing])
            session = HookSession(
                source_dir,
                build_system,
                env.python_executable,
                env.make_extra_environ(),
                reporter,
                label,
            )
    directory = str(out_dir)
    if kind == "sdist":
        name = session.call("build_sdist", lambda: session.caller.build_sdist(directory, settings))
    else:
        name = session.call("build_wheel", lambda: session.caller.build_wheel(directory, settings))
    built = out_dir / name
    if not built.is_file():
        raise BackendError(
            f"build backend `{build_system.backend}` reported `{name}` for `{label}`, but wrote no such file",
            output=session.runner.output,
        )
    return built
