"""Installing wheels into environments, listing and uninstalling them.

The public API; the modules hold one concept each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._lazy import lazy_exports

if TYPE_CHECKING:
    from kiln.core.install.environment import Environment, Scheme, venv_scheme
    from kiln.core.install.installed import (
        InstalledDistribution,
        find_installed,
        installed_distributions,
    )
    from kiln.core.install.installer import (
        InstallRequest,
        InstallResult,
        compile_files,
        install_wheel,
        install_wheels,
    )
    from kiln.core.install.linking import LinkMode
    from kiln.core.install.plan import Desired, Plan, apply_plan, plan_changes
    from kiln.core.install.removal import Removal, uninstall
    from kiln.core.install.wheel import UnpackedWheel, WheelError, unpack_wheel

if not TYPE_CHECKING:  # the type checker reads the imports above instead
    #: Where each public name lives: imported on first use, so listing installed distributions loads no installer.
    __getattr__ = lazy_exports(__name__, {
        "Desired": "kiln.core.install.plan",
        "Environment": "kiln.core.install.environment",
        "InstallRequest": "kiln.core.install.installer",
        "InstallResult": "kiln.core.install.installer",
        "InstalledDistribution": "kiln.core.install.installed",
        "LinkMode": "kiln.core.install.linking",
        "Plan": "kiln.core.install.plan",
        "Removal": "kiln.core.install.removal",
        "Scheme": "kiln.core.install.environment",
        "UnpackedWheel": "kiln.core.install.wheel",
        "WheelError": "kiln.core.install.wheel",
        "apply_plan": "kiln.core.install.plan",
        "compile_files": "kiln.core.install.installer",
        "find_installed": "kiln.core.install.installed",
        "install_wheel": "kiln.core.install.installer",
        "install_wheels": "kiln.core.install.installer",
        "installed_distributions": "kiln.core.install.installed",
        "plan_changes": "kiln.core.install.plan",
        "uninstall": "kiln.core.install.removal",
        "unpack_wheel": "kiln.core.install.wheel",
        "venv_scheme": "kiln.core.install.environment",
    })

__all__ = [
    "Desired",
    "Environment",
    "InstallRequest",
    "InstallResult",
    "InstalledDistribution",
    "LinkMode",
    "Plan",
    "Removal",
    "Scheme",
    "UnpackedWheel",
    "WheelError",
    "apply_plan",
    "compile_files",
    "find_installed",
    "install_wheel",
    "install_wheels",
    "installed_distributions",
    "plan_changes",
    "uninstall",
    "unpack_wheel",
    "venv_scheme",
]
