"""Checks of ``[build-system]`` that help authors keep their builds reproducible."""

from __future__ import annotations

from kiln_build.diagnostics import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BACKEND = "kiln_build"


def check_build_system(data: dict[str, Any], version: str, *, for_sdist: bool) -> None:
    system = data.get("build-system")
    if not isinstance(system, dict):
        return
    backend = system.get("build-backend")
    if backend != BACKEND:
        return  # e.g. an in-tree wrapper backend; nothing to say
    requires = system.get("requires", [])
    if not isinstance(requires, list) or not for_sdist:
        return
    if all("kiln" not in str(item) or "<" in str(item) or "==" in str(item) for item in requires):
        return  # bounded or unrelated: skip importing packaging
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import Version

    for item in requires:
        try:
            req = Requirement(str(item))
        except InvalidRequirement:
            continue
        if req.name.replace("_", "-").lower() != "kiln-build" or req.url:
            continue
        bounded = any(spec.operator in ("<", "<=", "==", "~=", "===") for spec in req.specifier)
        if not bounded:
            current = Version(version)
            warn(
                f'`build-system.requires = ["{item}"]` has no upper bound on `kiln-build`; '
                f"add one such as `<{current.major}.{current.minor + 1}` so this source "
                "distribution keeps building when a future kiln-build changes behaviour"
            )
