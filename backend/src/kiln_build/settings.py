"""The ``[tool.kiln.build-backend]`` table (or uv's), validated into a typed value."""

from __future__ import annotations

from kiln_build._record import record
from kiln_build.diagnostics import warn
from kiln_build.errors import BuildBackendError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DATA_CATEGORIES: tuple[str, ...] = ("purelib", "platlib", "headers", "scripts", "data")

KNOWN_KEYS: tuple[str, ...] = (
    "module-root",
    "module-name",
    "namespace",
    "source-include",
    "source-exclude",
    "wheel-exclude",
    "default-excludes",
    "data",
    "respect-gitignore",
)


@record
class BackendSettings:
    table: str = "tool.kiln.build-backend"
    module_root: str = "src"
    #: None: derive from the project name. A list is kept as given (pruned later).
    module_name: tuple[str, ...] | None = None
    namespace: bool = False
    source_include: tuple[str, ...] = ()
    source_exclude: tuple[str, ...] = ()
    wheel_exclude: tuple[str, ...] = ()
    default_excludes: bool = True
    #: Category -> directory, in the fixed category order.
    data: dict[str, str] = {}  # noqa: RUF012 - never mutated; parse_settings passes its own
    respect_gitignore: bool = True

    def key(self, name: str) -> str:
        return f"{self.table}.{name}"


def _error(table: str, key: str, problem: str, hint: str | None = None) -> BuildBackendError:
    return BuildBackendError(f"`pyproject.toml`: `{table}.{key}` {problem}", hint=hint)


def _bool(table: str, values: dict[str, Any], key: str, default: bool) -> bool:
    value = values.get(key, default)
    if not isinstance(value, bool):
        raise _error(table, key, f"must be `true` or `false`, not {value!r}")
    return value


def _str_list(table: str, values: dict[str, Any], key: str) -> tuple[str, ...]:
    value = values.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _error(
            table,
            key,
            f"must be a list of strings, not {value!r}",
            hint=f'write `{key} = ["..."]`',
        )
    return tuple(value)


def parse_settings(values: dict[str, Any], table: str) -> BackendSettings:
    for key in values:
        if key not in KNOWN_KEYS:
            import difflib

            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            suggestion = f" (did you mean `{close[0]}`?)" if close else ""
            warn(f"`pyproject.toml`: unknown key `{table}.{key}` is ignored{suggestion}")

    module_root = values.get("module-root", "src")
    if not isinstance(module_root, str):
        raise _error(table, "module-root", f"must be a string path, not {module_root!r}")

    raw_name = values.get("module-name")
    module_name: tuple[str, ...] | None
    if raw_name is None:
        module_name = None
    elif isinstance(raw_name, str):
        module_name = (raw_name,)
    elif isinstance(raw_name, list) and all(isinstance(item, str) for item in raw_name):
        module_name = tuple(raw_name)
    else:
        raise _error(
            table, "module-name", f"must be a string or a list of strings, not {raw_name!r}"
        )

    data = values.get("data", {})
    if not isinstance(data, dict):
        raise _error(table, "data", f"must be a table, not {data!r}")
    for category, directory in data.items():
        if category not in DATA_CATEGORIES:
            choices = ", ".join(f"`{c}`" for c in DATA_CATEGORIES)
            raise _error(
                table, f"data.{category}", f"is not a wheel data category; use one of {choices}"
            )
        if not isinstance(directory, str):
            raise _error(table, f"data.{category}", f"must be a directory path, not {directory!r}")
    ordered_data = {c: data[c] for c in DATA_CATEGORIES if c in data}

    return BackendSettings(
        table=table,
        module_root=module_root,
        module_name=module_name,
        namespace=_bool(table, values, "namespace", False),
        source_include=_str_list(table, values, "source-include"),
        source_exclude=_str_list(table, values, "source-exclude"),
        wheel_exclude=_str_list(table, values, "wheel-exclude"),
        default_excludes=_bool(table, values, "default-excludes", True),
        data=ordered_data,
        respect_gitignore=_bool(table, values, "respect-gitignore", True),
    )
