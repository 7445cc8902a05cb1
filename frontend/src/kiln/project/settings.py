"""kiln's settings in one ``pyproject.toml``: ``[tool.kiln]``, else ``[tool.uv]``.

The rule, for each setting on its own: when ``[tool.kiln]`` has the key, that value is used
and ``[tool.uv]``'s is ignored entirely; otherwise ``[tool.uv]``'s value is used. The two are
never merged, and messages name the table that was read (``tool.uv.sources.foo``). So a
project written for uv works unchanged, and one can move to ``[tool.kiln]`` a key at a time.

Every value is checked when it is first asked for (commands read only what they use), and
:meth:`ToolSettings.validate` checks all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from kiln.errors import KilnError
from kiln.project.groups import parse_requirement
from kiln.project.toml import (
    expect_bool,
    expect_strings,
    expect_table,
    reject_unknown_keys,
    where,
)

if TYPE_CHECKING:
    from kiln.core.index.config import Index, IndexStrategy
    from kiln.core.index.keyring import KeyringProvider
    from kiln.core.resolver.universal import ForkStrategy
    from kiln.core.sources.model import ProjectSources
    from kiln.core.timestamps import Cutoff
    from kiln.core.types import PrereleaseMode, ResolutionMode

Owner = Literal["kiln", "uv"]
OWNERS: tuple[Owner, ...] = ("kiln", "uv")

#: Every key this module reads (``build-backend`` is the backend's own).
KEYS = (
    "index",
    "sources",
    "workspace",
    "package",
    "managed",
    "default-groups",
    "dev-dependencies",
    "dependency-groups",
    "conflicts",
    "environments",
    "required-environments",
    "constraint-dependencies",
    "override-dependencies",
    "build-constraint-dependencies",
    "resolution",
    "prerelease",
    "exclude-newer",
    "exclude-newer-package",
    "fork-strategy",
    "index-strategy",
    "no-build",
    "no-binary",
    "no-build-package",
    "no-binary-package",
    "no-build-isolation",
    "no-build-isolation-package",
    "config-settings",
    "config-settings-package",
    "prerelease-package",
    "keyring-provider",
)

#: The default of the mapping fields below: a record's default is one object shared by every
#: instance, so it must be one that cannot be changed.
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


class ResolverSettings(NamedTuple):
    """The resolver settings a project may set for `kiln lock` and `kiln sync` (each None
    when the project leaves it to the command line and its defaults)."""

    resolution: ResolutionMode | None = None
    prerelease: PrereleaseMode | None = None
    exclude_newer: datetime | None = None
    exclude_newer_span: timedelta | None = None
    #: (None: exempt from ``exclude-newer``, written ``false``).
    exclude_newer_packages: Mapping[NormalizedName, datetime | None] = _EMPTY
    fork_strategy: ForkStrategy | None = None


class BuildTable(NamedTuple):
    """How a project's dependencies may be built, for `kiln lock` and `kiln sync`: uv's
    ``no-build``, ``no-binary`` (and their ``-package`` lists), ``no-build-isolation`` (and
    ``-package``), ``config-settings`` and ``config-settings-package``."""

    no_build: bool = False
    no_binary: bool = False
    no_build_package: frozenset[NormalizedName] = frozenset()
    no_binary_package: frozenset[NormalizedName] = frozenset()
    no_build_isolation: bool = False
    no_build_isolation_package: frozenset[NormalizedName] = frozenset()
    config_settings: Mapping[str, str | list[str]] = _EMPTY
    config_settings_package: Mapping[NormalizedName, Mapping[str, str | list[str]]] = _EMPTY


class WorkspaceTable(NamedTuple):
    """``[tool.kiln.workspace]`` (else ``[tool.uv.workspace]``)."""

    members: tuple[str, ...]
    exclude: tuple[str, ...]
    #: ``tool.kiln.workspace`` or ``tool.uv.workspace``: the table that was read.
    key: str

    @property
    def owner(self) -> Owner:
        return "uv" if self.key.startswith("tool.uv.") else "kiln"


class ConflictItem(NamedTuple):
    """One entry of a ``conflicts`` set: an extra or a group (of ``package``, else the project)."""

    extra: NormalizedName | None = None
    group: NormalizedName | None = None
    package: NormalizedName | None = None


def parse_specifier(value: object, path: Path, key: str) -> SpecifierSet:
    if not isinstance(value, str):
        raise KilnError(f"{where(path, key)} must be a version specifier string like `>=3.10`")
    try:
        return SpecifierSet(value)
    except InvalidSpecifier as exc:
        raise KilnError(f"{where(path, key)}: invalid version specifier `{value}`: {exc}") from None


def parse_marker(value: object, path: Path, key: str) -> Marker:
    if not isinstance(value, str):
        raise KilnError(f"{where(path, key)} must be a marker string")
    try:
        return Marker(value)
    except InvalidMarker as exc:
        raise KilnError(f"{where(path, key)}: invalid marker `{value}`: {exc}") from None


class ToolSettings:
    """The ``[tool.kiln]``/``[tool.uv]`` settings of the ``pyproject.toml`` at ``path``."""

    def __init__(self, data: Mapping[str, Any], path: Path) -> None:
        self.data = data
        self.path = path

    @cached_property
    def _tables(self) -> dict[Owner, Mapping[str, Any]]:
        tool = expect_table(self.data.get("tool", {}), self.path, "tool")
        return {
            owner: expect_table(tool[owner], self.path, f"tool.{owner}")
            for owner in OWNERS
            if owner in tool
        }

    def owner(self, key: str) -> Owner | None:
        """The table whose ``key`` is read: ``kiln`` when it has it, else ``uv``, else None."""
        for owner in OWNERS:
            if key in self._tables.get(owner, {}):
                return owner
        return None

    def key(self, key: str) -> str:
        """The full name of ``key`` as read (``tool.uv.sources``), for messages."""
        return f"tool.{self.owner(key) or 'kiln'}.{key}"

    def raw(self, key: str) -> Any:
        """The value of ``key`` as written, or None."""
        owner = self.owner(key)
        return None if owner is None else self._tables[owner][key]

    def _where(self, key: str) -> str:
        return where(self.path, self.key(key))

    # -- workspace and project kind ------------------------------------------------------------

    @cached_property
    def workspace(self) -> WorkspaceTable | None:
        raw = self.raw("workspace")
        if raw is None:
            return None
        key = self.key("workspace")
        table = expect_table(raw, self.path, key)
        reject_unknown_keys(table, where(self.path, key), ("members", "exclude"))
        globs = {
            name: expect_strings(table.get(name, []), self.path, f"{key}.{name}", what="glob strings")
            for name in ("members", "exclude")
        }
        for name, patterns in globs.items():
            for pattern in patterns:
                parts = pattern.replace("\\", "/").split("/")
                if not pattern or pattern.startswith("/") or ".." in parts or ":" in parts[0]:
                    raise KilnError(
                        f"{where(self.path, f'{key}.{name}')}: `{pattern}` must be a relative "
                        "path inside the workspace root",
                        hint="members are directories below the root `pyproject.toml`",
                    )
        return WorkspaceTable(globs["members"], globs["exclude"], key)

    @cached_property
    def package(self) -> bool | None:
        """``package``: None when not set (then ``[build-system]`` decides)."""
        raw = self.raw("package")
        return None if raw is None else expect_bool(raw, self.path, self.key("package"))

    @cached_property
    def managed(self) -> bool:
        raw = self.raw("managed")
        return True if raw is None else expect_bool(raw, self.path, self.key("managed"))

    # -- dependency groups ---------------------------------------------------------------------

    @cached_property
    def default_groups(self) -> tuple[NormalizedName, ...] | Literal["all"] | None:
        """``default-groups``: names, ``"all"``, or None when not set."""
        raw = self.raw("default-groups")
        if raw is None:
            return None
        if raw == "all":
            return "all"
        key = self.key("default-groups")
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise KilnError(f'{where(self.path, key)} must be a list of group names or `"all"`')
        return tuple(canonicalize_name(name) for name in raw)

    @cached_property
    def dev_dependencies(self) -> tuple[Requirement, ...]:
        """The legacy ``dev-dependencies`` list (merged into group ``dev``)."""
        return self._requirements("dev-dependencies")

    @cached_property
    def group_requires_python(self) -> dict[NormalizedName, SpecifierSet]:
        """``requires-python`` of each ``[tool.kiln.dependency-groups.<group>]`` table."""
        raw = self.raw("dependency-groups")
        if raw is None:
            return {}
        key = self.key("dependency-groups")
        found: dict[NormalizedName, SpecifierSet] = {}
        for group, value in expect_table(raw, self.path, key).items():
            group_key = f"{key}.{group}"
            table = expect_table(value, self.path, group_key)
            reject_unknown_keys(table, where(self.path, group_key), ("requires-python",))
            if "requires-python" in table:
                found[canonicalize_name(group)] = parse_specifier(
                    table["requires-python"], self.path, f"{group_key}.requires-python"
                )
        return found

    # -- resolution settings (read by the project commands) ------------------------------------

    @cached_property
    def conflicts(self) -> tuple[tuple[ConflictItem, ...], ...]:
        """``conflicts``: sets of extras or groups that are never installed together."""
        raw = self.raw("conflicts")
        if raw is None:
            return ()
        key = self.key("conflicts")
        if not isinstance(raw, list):
            raise KilnError(f"{where(self.path, key)} must be a list of lists of tables")
        sets: list[tuple[ConflictItem, ...]] = []
        for number, items in enumerate(raw):
            set_key = f"{key}[{number}]"
            if not isinstance(items, list) or len(items) < 2:
                raise KilnError(
                    f"{where(self.path, set_key)} must be a list of at least two tables",
                    hint='e.g. `[{ extra = "cpu" }, { extra = "gpu" }]`',
                )
            sets.append(tuple(self._conflict_item(item, f"{set_key}[{i}]") for i, item in enumerate(items)))
        return tuple(sets)

    def _conflict_item(self, value: object, key: str) -> ConflictItem:
        table = expect_table(value, self.path, key)
        reject_unknown_keys(table, where(self.path, key), ("extra", "group", "package"))
        names: dict[str, NormalizedName] = {}
        for name in ("extra", "group", "package"):
            if name in table:
                if not isinstance(table[name], str) or not table[name]:
                    raise KilnError(f"{where(self.path, f'{key}.{name}')} must be a non-empty string")
                names[name] = canonicalize_name(table[name])
        if ("extra" in names) == ("group" in names):
            raise KilnError(f"{where(self.path, key)}: an entry needs one of `extra` or `group`")
        return ConflictItem(names.get("extra"), names.get("group"), names.get("package"))

    @cached_property
    def environments(self) -> tuple[Marker, ...]:
        """``environments``: the only environments the lockfile is made for."""
        return self._markers("environments")

    @cached_property
    def required_environments(self) -> tuple[Marker, ...]:
        """``required-environments``: environments that must have a wheel of every package."""
        return self._markers("required-environments")

    @cached_property
    def constraint_dependencies(self) -> tuple[Requirement, ...]:
        return self._requirements("constraint-dependencies")

    @cached_property
    def override_dependencies(self) -> tuple[Requirement, ...]:
        return self._requirements("override-dependencies")

    @cached_property
    def build_constraint_dependencies(self) -> tuple[Requirement, ...]:
        """Version limits for build requirements: names with version specifiers only."""
        key = self.key("build-constraint-dependencies")
        found = self._requirements("build-constraint-dependencies")
        for number, requirement in enumerate(found):
            if requirement.url is not None or requirement.extras:
                raise KilnError(
                    f"{self.path}: `{key}[{number}]`: a constraint is a name with version "
                    f"specifiers, not `{requirement}`"
                )
        return found

    @cached_property
    def prerelease_package(self) -> dict[NormalizedName, PrereleaseMode]:
        """``prerelease-package``: the pre-release mode of each package named, like
        ``--prerelease-package`` (``{ numpy = "allow" }``)."""
        from kiln.core.types import PRERELEASE_VALUES, prerelease_mode

        raw = self.raw("prerelease-package")
        if raw is None:
            return {}
        key = self.key("prerelease-package")
        table = expect_table(raw, self.path, key)
        found: dict[NormalizedName, PrereleaseMode] = {}
        for name, value in table.items():
            mode = prerelease_mode(value) if isinstance(value, str) else None
            if mode is None:
                raise KilnError(
                    f"{where(self.path, f'{key}.{name}')} must be one of "
                    + ", ".join(f"`{v}`" for v in PRERELEASE_VALUES),
                )
            try:
                found[canonicalize_name(name, validate=True)] = mode
            except InvalidName:
                raise KilnError(
                    f"{where(self.path, key)}: `{name}` is not a valid package name"
                ) from None
        return found

    def _requirements(self, name: str) -> tuple[Requirement, ...]:
        raw = self.raw(name)
        if raw is None:
            return ()
        key = self.key(name)
        if not isinstance(raw, list):
            raise KilnError(f"{where(self.path, key)} must be a list of requirement strings")
        return tuple(
            parse_requirement(value, self.path, f"{key}[{number}]")
            for number, value in enumerate(raw)
        )

    def _markers(self, name: str) -> tuple[Marker, ...]:
        raw = self.raw(name)
        if raw is None:
            return ()
        key = self.key(name)
        values = [raw] if isinstance(raw, str) else raw
        if not isinstance(values, list):
            raise KilnError(f"{where(self.path, key)} must be a marker string or a list of them")
        return tuple(
            parse_marker(value, self.path, key if isinstance(raw, str) else f"{key}[{number}]")
            for number, value in enumerate(values)
        )

    @cached_property
    def resolver(self) -> ResolverSettings:
        """``resolution``, ``prerelease``, ``exclude-newer``, ``exclude-newer-package`` and
        ``fork-strategy``: how `kiln lock` resolves when the command line does not say."""
        from kiln.core.resolver.universal import FORK_STRATEGIES
        from kiln.core.types import PRERELEASE_VALUES, RESOLUTION_MODES, prerelease_mode

        packages: dict[NormalizedName, datetime | None] = {}
        raw = self.raw("exclude-newer-package")
        if raw is not None:
            key = self.key("exclude-newer-package")
            table = expect_table(raw, self.path, key)
            for name, value in table.items():
                packages[canonicalize_name(name)] = (
                    None if value is False else self._cutoff(value, f"{key}.{name}", span=False).moment
                )
        cutoff = (
            None if self.raw("exclude-newer") is None
            else self._cutoff(self.raw("exclude-newer"), self.key("exclude-newer"))
        )
        return ResolverSettings(
            resolution=cast("ResolutionMode | None", self._choice("resolution", RESOLUTION_MODES)),
            prerelease=prerelease_mode(self._choice("prerelease", PRERELEASE_VALUES) or ""),
            exclude_newer=cutoff.moment if cutoff is not None else None,
            exclude_newer_span=cutoff.span if cutoff is not None else None,
            exclude_newer_packages=packages,
            fork_strategy=cast("ForkStrategy | None", self._choice("fork-strategy", FORK_STRATEGIES)),
        )

    @cached_property
    def build(self) -> BuildTable:
        """The build settings of :class:`BuildTable` (each else its ``[tool.uv]`` key)."""
        packages = {}
        for name in ("no-build-package", "no-binary-package", "no-build-isolation-package"):
            raw = self.raw(name)
            found = expect_strings(raw, self.path, self.key(name), what="package names") if (
                raw is not None) else ()
            packages[name] = frozenset(self._package_name(n, name) for n in found)
        flags = {}
        for name in ("no-build", "no-binary", "no-build-isolation"):
            raw = self.raw(name)
            flags[name] = False if raw is None else expect_bool(raw, self.path, self.key(name))
        per_package: dict[NormalizedName, Mapping[str, str | list[str]]] = {}
        raw = self.raw("config-settings-package")
        if raw is not None:
            key = self.key("config-settings-package")
            for name, table in expect_table(raw, self.path, key).items():
                per_package[self._package_name(name, "config-settings-package")] = (
                    self._config_settings(table, f"{key}.{name}")
                )
        raw = self.raw("config-settings")
        return BuildTable(
            no_build=flags["no-build"],
            no_binary=flags["no-binary"],
            no_build_package=packages["no-build-package"],
            no_binary_package=packages["no-binary-package"],
            no_build_isolation=flags["no-build-isolation"],
            no_build_isolation_package=packages["no-build-isolation-package"],
            config_settings=(
                {} if raw is None
                else self._config_settings(raw, self.key("config-settings"))
            ),
            config_settings_package=per_package,
        )

    def _package_name(self, name: str, key: str) -> NormalizedName:
        try:
            return canonicalize_name(name, validate=True)
        except InvalidName:
            raise KilnError(
                f"{self._where(key)}: `{name}` is not a valid package name"
            ) from None

    def _config_settings(self, raw: object, key: str) -> dict[str, str | list[str]]:
        """A table of build backend settings: each value a string or a list of strings."""
        found: dict[str, str | list[str]] = {}
        for name, value in expect_table(raw, self.path, key).items():
            if isinstance(value, str):
                found[name] = value
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                found[name] = list(value)
            else:
                raise KilnError(
                    f"{where(self.path, f'{key}.{name}')} must be a string or a list of strings"
                )
        return found

    @cached_property
    def index_strategy(self) -> IndexStrategy | None:
        """``index-strategy``: how versions are picked across the indexes."""
        from kiln.core.index.config import STRATEGIES

        return cast("IndexStrategy | None", self._choice("index-strategy", STRATEGIES))

    def _choice(self, name: str, choices: Collection[str]) -> str | None:
        raw = self.raw(name)
        if raw is None or (isinstance(raw, str) and raw in choices):
            return raw
        raise KilnError(
            f"{self._where(name)}: `{raw}` is not one of the allowed values",
            hint="use one of " + ", ".join(f"`{choice}`" for choice in choices),
        )

    def _cutoff(self, raw: object, key: str, *, span: bool = True) -> Cutoff:
        """An ``exclude-newer`` value (``span``: it may be a span before now)."""
        from kiln.core.timestamps import CUTOFF_FORMS, parse_cutoff

        try:
            return parse_cutoff(raw, span=span)
        except ValueError as exc:
            raise KilnError(f"{where(self.path, key)}: {exc}", hint=CUTOFF_FORMS) from None

    # -- indexes and sources -------------------------------------------------------------------

    @cached_property
    def indexes(self) -> tuple[Index, ...]:
        """``[[tool.kiln.index]]`` (else ``[[tool.uv.index]]``), in order."""
        from kiln.core.index.config import parse_index_entry

        raw = self.raw("index")
        if raw is None:
            return ()
        key = self.key("index")
        if not isinstance(raw, list):
            raise KilnError(f"{where(self.path, key)} must be an array of tables (`[[{key}]]`)")
        return tuple(
            parse_index_entry(entry, where(self.path, f"{key}[{number}]"), self.path.parent, str(self.path))
            for number, entry in enumerate(raw)
        )

    @cached_property
    def keyring_provider(self) -> KeyringProvider | None:
        """``keyring-provider`` (:mod:`kiln.core.index.keyring`), if set."""
        from kiln.core.index.keyring import check_provider

        raw = self.raw("keyring-provider")
        if raw is None:
            return None
        where_ = self._where("keyring-provider")
        if not isinstance(raw, str):
            raise KilnError(f"{where_} must be a string")
        return check_provider(raw, where_)

    def sources(self, index_names: Collection[str] | None = None) -> ProjectSources:
        """``[tool.kiln.sources]`` (else ``[tool.uv.sources]``); ``index = "..."`` must name one
        of ``index_names`` (None: not checked)."""
        key = None if index_names is None else frozenset(index_names)
        cache = self._sources
        if key not in cache:
            from kiln.core.sources.parse import parse_sources

            cache[key] = parse_sources(self.data, self.path, index_names=index_names)
        return cache[key]

    @cached_property
    def _sources(self) -> dict[frozenset[str] | None, ProjectSources]:
        return {}

    def validate(self) -> None:
        """Check every setting this module reads."""
        for name in (
            "workspace", "package", "managed", "default_groups", "dev_dependencies",
            "group_requires_python", "conflicts", "environments", "required_environments",
            "constraint_dependencies", "override_dependencies", "build_constraint_dependencies",
            "indexes", "resolver", "index_strategy", "prerelease_package", "keyring_provider",
            "build",
        ):
            getattr(self, name)
        self.sources(None)
