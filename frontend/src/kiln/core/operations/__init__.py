"""The operations behind ``kiln pip``: compile, install, sync, uninstall and listings.

Library code only: nothing here prints; progress goes through :class:`Events` callbacks
and failures are :class:`kiln.errors.KilnError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._lazy import lazy_exports

if TYPE_CHECKING:
    from kiln.core.operations.auditing import Change, InstallReport, audit
    from kiln.core.operations.compiling import CompileResult, compile_requirements
    from kiln.core.operations.environment import find_environment, target_of
    from kiln.core.operations.installing import install, sync
    from kiln.core.operations.options import Events, Settings
    from kiln.core.operations.uninstalling import UninstallReport, uninstall_packages

if not TYPE_CHECKING:  # the type checker reads the imports above instead
    #: Where each public name lives: imported on first use, so a command loads only the operations it runs.
    __getattr__ = lazy_exports(__name__, {
        "Change": "kiln.core.operations.auditing",
        "CompileResult": "kiln.core.operations.compiling",
        "Events": "kiln.core.operations.options",
        "InstallReport": "kiln.core.operations.auditing",
        "Settings": "kiln.core.operations.options",
        "UninstallReport": "kiln.core.operations.uninstalling",
        "audit": "kiln.core.operations.auditing",
        "compile_requirements": "kiln.core.operations.compiling",
        "find_environment": "kiln.core.operations.environment",
        "install": "kiln.core.operations.installing",
        "sync": "kiln.core.operations.installing",
        "target_of": "kiln.core.operations.environment",
        "uninstall_packages": "kiln.core.operations.uninstalling",
    })

__all__ = [
    "Change",
    "CompileResult",
    "Events",
    "InstallReport",
    "Settings",
    "UninstallReport",
    "audit",
    "compile_requirements",
    "find_environment",
    "install",
    "sync",
    "target_of",
    "uninstall_packages",
]
