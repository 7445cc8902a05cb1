"""The packages the solver reasons about: the root, real packages and extra proxies."""

from __future__ import annotations

from typing import NamedTuple

from packaging.utils import NormalizedName, canonicalize_name


class Package(NamedTuple):
    """A distribution name, or the virtual ``name[extra]`` that stands for one extra of it.

    ``name[extra]`` at version V depends on ``name==V`` and on the extra's requirements,
    so an extra always resolves to the same version as its base package. The root
    (the user's requirements) has an empty name.

    A named tuple: the solver uses packages as dictionary keys at every step, and a tuple
    hashes and compares in C. Packages only ever meet other packages.
    """

    name: NormalizedName
    extra: NormalizedName | None = None

    @property
    def is_root(self) -> bool:
        return not self.name

    @property
    def base(self) -> Package:
        return Package(self.name) if self.extra is not None else self

    def __str__(self) -> str:
        if self.is_root:
            return "your requirements"
        return self.name if self.extra is None else f"{self.name}[{self.extra}]"


ROOT = Package(NormalizedName(""))


def package(name: str, extra: str | None = None) -> Package:
    return Package(canonicalize_name(name), None if extra is None else canonicalize_name(extra))
