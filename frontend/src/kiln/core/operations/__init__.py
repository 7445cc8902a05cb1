"""The operations behind ``kiln pip``: compile, install, sync, uninstall and listings.

Library code only: nothing here prints; progress goes through :class:`Events` callbacks
and failures are :class:`kiln.errors.KilnError`.
"""

from __future__ import annotations

from kiln.core.operations.compiling import CompileResult, compile_requirements
from kiln.core.operations.installing import Change, InstallReport, install, sync
from kiln.core.operations.options import Events, Settings
from kiln.core.operations.target import find_environment, target_of
from kiln.core.operations.uninstalling import UninstallReport, uninstall_packages

__all__ = [
    "Change",
    "CompileResult",
    "Events",
    "InstallReport",
    "Settings",
    "UninstallReport",
    "compile_requirements",
    "find_environment",
    "install",
    "sync",
    "target_of",
    "uninstall_packages",
]
