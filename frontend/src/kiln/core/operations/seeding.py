"""Seed packages of a new virtual environment (``kiln venv --seed``), from the indexes."""

from __future__ import annotations

from kiln.core.install.environment import Environment
from kiln.core.operations.installing import install
from kiln.core.operations.options import Events, Settings
from kiln.core.operations.report import InstallReport
from kiln.core.requirements_file import RequirementsInput, parse_requirement


def seed_packages(env: Environment) -> list[str]:
    """What ``--seed`` installs: pip, and for Python before 3.12 (whose ``venv`` still
    bundled them) setuptools and wheel too."""
    if tuple(env.interpreter.version[:2]) >= (3, 12):
        return ["pip"]
    return ["pip", "setuptools", "wheel"]


def seed(env: Environment, settings: Settings, events: Events | None = None) -> InstallReport:
    """Install the newest release of each seed package into ``env`` from the indexes of
    ``settings``, as ``kiln pip install`` would."""
    inputs = RequirementsInput()
    inputs.requirements = [parse_requirement(name) for name in seed_packages(env)]
    return install(env, inputs, settings, events)
