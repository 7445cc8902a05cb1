"""How the sdists and direct references of a ``kiln pip``/``kiln lock`` run are built,
package by package: ``-C`` and ``--config-settings-package``, ``--no-build-isolation`` and
``--no-build-isolation-package``, ``--build-constraints``, and whether building is allowed
at all (``--no-build``, ``--only-binary``, ``--no-build-package``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.builder.configsettings import ConfigSettings, parse_config_settings
from kiln.core.types import BuildChoices
from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.core.builder.service import BuildOptions
    from kiln.core.index.locations import IndexLocations


class PackageBuildSettings(NamedTuple):
    """The build settings of one run; :meth:`options` gives those of one package."""

    #: ``-C KEY=VALUE``: passed to every build backend.
    #: (Mappings, not dicts: a named tuple's defaults are shared by every instance.)
    config_settings: Mapping[str, str | list[str]] = MappingProxyType({})
    #: ``--config-settings-package NAME:KEY=VALUE``: added for one package (its keys win).
    package_config_settings: Mapping[NormalizedName, ConfigSettings] = MappingProxyType({})
    #: ``--no-build-isolation``: every backend runs in ``python``, installing nothing.
    no_isolation: bool = False
    #: ``--no-build-isolation-package``: these packages' backends do.
    no_isolation_packages: frozenset[NormalizedName] = frozenset()
    #: The interpreter of builds without isolation (None: the active environment's).
    python: Path | None = None
    #: ``--build-constraints``: a constraints file for build requirements.
    constraints: Path | None = None
    #: ``pyproject.toml`` files whose ``build-constraint-dependencies`` apply to every build.
    constraint_projects: tuple[Path, ...] = ()
    #: Whether a package may be built at all.
    choices: BuildChoices = BuildChoices()
    #: ``--require-build-hashes``: what build environments install must match a ``--hash``
    #: of ``constraints``.
    require_hashes: bool = False
    #: The packages whose builds the packages of this run are built for, outermost first:
    #: building one of them again would never end (a build dependency cycle).
    building: tuple[NormalizedName, ...] = ()

    def options(self, name: NormalizedName, index: IndexLocations | None) -> BuildOptions:
        """The build service's options for building a wheel of ``name``."""
        from kiln.core.builder.service import BuildOptions

        isolated = not (self.no_isolation or name in self.no_isolation_packages)
        return BuildOptions(
            wheel=True,
            config_settings=self.settings_for(name),
            constraints=self.constraints,
            constraint_projects=self.constraint_projects,
            isolation=isolated,
            python=None if isolated or self.python is None else str(self.python),
            index=index,
            require_hashes=self.require_hashes,
            building=(*self.building, name),
        )

    def settings_for(self, name: NormalizedName) -> ConfigSettings:
        extra = self.package_config_settings.get(name)
        return {**self.config_settings, **extra} if extra else dict(self.config_settings)

    def check_buildable(self, name: NormalizedName, what: str) -> None:
        """Refuse to build ``what`` (a label of ``name``'s source) when building ``name``
        is disabled, or when ``name`` is being built already (a build dependency cycle)."""
        if name in self.building:
            chain = " -> ".join(f"`{n}`" for n in (*self.building, name))
            raise KilnError(
                f"build dependency cycle: {chain}: building `{what}` from source needs "
                f"`{name}` in its build environment",
                hint=f"allow a wheel of `{name}` (drop `--no-binary` or "
                f"`--no-binary-package {name}`), or use a wheel of it",
            )
        if not self.choices.builds_allowed(name):
            raise KilnError(
                f"building `{what}` from source is disabled "
                "(`--no-build`, `--only-binary` or `--no-build-package`)",
                hint=f"allow building `{name}` (e.g. `--no-binary {name}` or "
                "`--only-binary :none:`), or use a wheel of it",
            )


def parse_package_config_settings(items: Iterable[str]) -> dict[NormalizedName, ConfigSettings]:
    """``--config-settings-package NAME:KEY=VALUE`` items, by package."""
    grouped: dict[NormalizedName, list[str]] = {}
    for item in items:
        name, sep, setting = item.partition(":")
        if not sep or not name.strip() or "=" not in setting:
            raise KilnError(
                f"invalid package config setting `{item}`: expected `PACKAGE:KEY=VALUE`"
            )
        grouped.setdefault(canonicalize_name(name.strip()), []).append(setting)
    return {name: parse_config_settings(values) for name, values in grouped.items()}
