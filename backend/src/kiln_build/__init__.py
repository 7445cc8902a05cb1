"""kiln_build: a declarative PEP 517/660 build backend for pure-Python projects.

The hooks import their machinery lazily, so a frontend that only asks for build
requirements pays almost nothing.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, TypeVar

    ConfigSettings = Optional[dict[str, Any]]
    T = TypeVar("T")

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "list_files",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]


def _warn_settings(config_settings: ConfigSettings) -> None:
    if config_settings:
        from kiln_build.diagnostics import warn

        keys = ", ".join(f"`{k}`" for k in config_settings)
        warn(f"kiln_build takes no config settings; ignoring {keys}")


def _call(function: Callable[..., T], *args: Any, settings: ConfigSettings = None) -> T:
    """Run a builder as one hook call (its warnings are printed afresh). An error of the
    file system that no check turned into a ``BuildBackendError`` still becomes one,
    naming its file, never a traceback."""
    from kiln_build.diagnostics import in_hook_call

    def run() -> T:
        _warn_settings(settings)
        try:
            return function(*args)
        except OSError as exc:
            if exc.filename is None:
                raise
            import os

            from kiln_build.paths import os_error

            raise os_error(os.fsdecode(exc.filename), exc, "access") from None

    return in_hook_call(run)


def _cwd() -> Any:
    from pathlib import Path

    return Path.cwd()


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> list[str]:
    return []


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> list[str]:
    return []


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> list[str]:
    return []


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    from pathlib import Path

    from kiln_build.builders import build_sdist as build

    return _call(build, _cwd(), Path(sdist_directory), settings=config_settings)


def build_wheel(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    from pathlib import Path

    from kiln_build.builders import build_wheel as build

    return _call(
        build, _cwd(), Path(wheel_directory), metadata_directory, settings=config_settings
    )


def build_editable(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    from pathlib import Path

    from kiln_build.builders import build_editable as build

    return _call(
        build, _cwd(), Path(wheel_directory), metadata_directory, settings=config_settings
    )


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: ConfigSettings = None
) -> str:
    from pathlib import Path

    from kiln_build.builders import prepare_metadata

    return _call(prepare_metadata, _cwd(), Path(metadata_directory), settings=config_settings)


def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: ConfigSettings = None
) -> str:
    return prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def list_files(source_dir: Any = ".") -> tuple[list[str], list[str]]:
    """The sdist and wheel member paths that building ``source_dir`` would write."""
    from pathlib import Path

    from kiln_build.builders import list_files as list_

    return _call(list_, Path(source_dir).absolute())
