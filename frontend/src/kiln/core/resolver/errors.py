"""The resolver's error prose: the user-facing failure, the reasons that make one version
of a package unusable, and the warning for a version passed over.

A reason reads after the version it is about, in the solver's explanation
(``foo==2.0`` + ``was yanked``); :mod:`~kiln.core.resolver.formatting` words the ranges
and :mod:`~kiln.core.resolver.pubgrub.report` the chain of reasoning around them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version


class ResolutionError(KilnError):
    """No set of versions satisfies the requirements; ``explanation`` says why."""

    def __init__(self, explanation: str, *, hint: str | None = None) -> None:
        indented = "\n".join(f"  {line}" if line else "" for line in explanation.splitlines())
        super().__init__(f"no solution found when resolving dependencies:\n{indented}", hint=hint)
        self.explanation = explanation


class Excluded(Exception):
    """A version's requirement rules the version out; ``args[0]`` is the reason."""


# -- why a version cannot be used -------------------------------------------------------------


def yanked(reason: str | None) -> str:
    """Every file of the version was yanked (``reason`` is the first one given)."""
    return f"was yanked (reason: {reason})" if reason else "was yanked"


def python_unsupported(requires_python: SpecifierSet | None, python: Version) -> str:
    return f"requires Python {requires_python} (the target Python is {python})"


def no_compatible_file() -> str:
    return "has no wheel compatible with the target environment and no source distribution"


def no_file_for_required(environment: str) -> str:
    """No wheel of the version serves a required environment, and it has no sdist."""
    return (f"has neither a wheel for the required environment `{environment}` nor a "
            "source distribution")


def building_disabled() -> str:
    """The version has source distributions only, and the settings forbid building it."""
    return (
        "has no usable wheel, and building it from source is disabled "
        "(`--no-build`, `--only-binary` or `--no-build-package`)"
    )


def wheels_disabled() -> str:
    """The version has wheels only, and the settings forbid using them."""
    return (
        "has no source distribution, and using wheels is disabled "
        "(`--no-binary` or `--no-binary-package`)"
    )


def unusable_metadata(error: KilnError, *, sdist_only: bool) -> str:
    """The metadata of the version's file could not be had or read."""
    if sdist_only:
        return f"has only a source distribution, whose metadata failed: {error}"
    return f"has unusable metadata: {error}"


def conflicts_with_itself(requirement: str) -> str:
    """The version requires ``requirement`` on its own name, which it does not meet."""
    return f"depends on {requirement} (a conflict with itself)"


def outside_constraints(
    wanted: str, allowed: str, *, user: bool
) -> ResolutionError | Excluded:
    """A requirement (``wanted``) that no version the constraints allow (``allowed``)
    meets: the user's own cannot be met at all; a package's rules out that version."""
    if user:
        return ResolutionError(
            f"Because you require {wanted} and the constraints allow only {allowed}, "
            "we can conclude that your requirements are unsatisfiable."
        )
    return Excluded(f"depends on {wanted}, but the constraints allow only {allowed}")


# -- warnings ---------------------------------------------------------------------------------


def skipped(name: str, version: object, error: KilnError) -> str:
    """The warning for a version passed over because of ``error``."""
    return f"skipping `{name} {version}`: {error}"
