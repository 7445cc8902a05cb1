"""Installing wheels into environments, listing and uninstalling them.

The public API; the modules hold one concept each.
"""

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
from kiln.core.install.uninstall import Removal, uninstall
from kiln.core.install.wheel import UnpackedWheel, WheelError, unpack_wheel

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
