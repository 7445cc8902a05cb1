"""Build constraints: the ``--build-constraint`` file plus ``build-constraint-dependencies``.

``[tool.kiln] build-constraint-dependencies`` (else ``[tool.uv]``) of the project and of its
workspace root restrict the versions of build requirements, like a constraints file given with
``--build-constraint``. Constraints never add packages.

The merged set is handed to the installer as one file (the command-line file is included with
``-c``, so its relative ``-r``/``-c`` lines keep working) and is checked here against the
versions of build requirements that kiln builds or picks itself (sources and index pins), which
the installer cannot explain well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.errors import KilnError

KEY = "build-constraint-dependencies"


class Constraint(NamedTuple):
    requirement: Requirement
    #: Where it was written, for messages: a file and line, or a ``pyproject.toml`` key.
    origin: str


class BuildConstraints(NamedTuple):
    """The constraints that apply to one build, and the file to give the installer."""

    constraints: tuple[Constraint, ...] = ()
    #: None when there are no constraints.
    file: Path | None = None

    def for_name(self, name: NormalizedName) -> list[Constraint]:
        return [c for c in self.constraints if canonicalize_name(c.requirement.name) == name]

    def excluding(self, name: NormalizedName, version: Version) -> list[Constraint]:
        """The constraints on ``name`` that ``version`` does not satisfy."""
        return [
            c
            for c in self.for_name(name)
            if not c.requirement.specifier.contains(version, prereleases=True)
        ]


def read_constraint_dependencies(pyproject: Path) -> list[Constraint]:
    """``build-constraint-dependencies`` of ``pyproject`` (``tool.kiln``, else ``tool.uv``)."""
    from kiln.project.pyproject import load_pyproject

    if not pyproject.is_file():
        return []
    settings = load_pyproject(pyproject).tool
    origin = f"`{settings.key(KEY)}` in `{pyproject}`"
    return [Constraint(requirement, origin) for requirement in settings.build_constraint_dependencies]


def _read_file(path: Path) -> list[Constraint]:
    from kiln.core.requirements_file import read_requirements

    try:
        parsed = read_requirements(path, constraints=True)
    except KilnError:
        # The installer reads the file too and reports what it cannot use.
        return []
    return [Constraint(c, f"`{path}`") for c in parsed.constraints]


def merge_constraints(
    cli_file: Path | None, pyprojects: Iterable[Path], scratch: Path
) -> BuildConstraints:
    """The command-line constraints file plus the ``pyprojects``' constraint dependencies.

    When the projects add nothing, the installer gets ``cli_file`` itself (so the build
    environment cache key stays what it was); otherwise a file in ``scratch`` that includes it.
    """
    from_projects: list[Constraint] = []
    seen: set[Path] = set()
    for pyproject in pyprojects:
        if pyproject.resolve() in seen:
            continue
        seen.add(pyproject.resolve())
        from_projects += read_constraint_dependencies(pyproject)
    from_file = _read_file(cli_file) if cli_file is not None else []
    constraints = (*from_file, *from_projects)
    if not from_projects:
        return BuildConstraints(constraints, cli_file)
    lines: list[str] = []
    if cli_file is not None:
        lines.append(f"-c {cli_file.absolute()}")
    lines += [str(c.requirement) for c in from_projects]
    text = "\n".join(lines) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    scratch.mkdir(parents=True, exist_ok=True)
    merged = scratch / f"build-constraints-{digest}.txt"
    merged.write_text(text, encoding="utf-8")
    return BuildConstraints(constraints, merged)


def explain_excluded(
    name: str,
    label: str,
    offered: Sequence[tuple[Version, str]],
    requirement: Requirement | None,
    constraints: BuildConstraints,
) -> KilnError | None:
    """An error when no offered version of ``name`` passes its requirement and constraints.

    ``offered`` pairs each version with where it comes from. The message walks through the
    derivation: what is available, and which requirement or constraint rules out each version.
    """
    canonical = canonicalize_name(name)
    lines: list[str] = []
    usable = False
    for version, where in offered:
        reasons: list[str] = []
        if requirement is not None and not requirement.specifier.contains(
            version, prereleases=True
        ):
            reasons.append(f"`build-system.requires` asks for `{requirement}`")
        reasons += [
            f"the build constraint `{c.requirement}` (from {c.origin}) excludes it"
            for c in constraints.excluding(canonical, version)
        ]
        if not reasons:
            usable = True
            continue
        lines.append(f"`{name}` {version} comes from {where}, but " + " and ".join(reasons))
    if usable or not offered:
        return None
    only = "the only version" if len(offered) == 1 else "every version"
    return KilnError(
        f"no version of build requirement `{name}` of `{label}` can be used:\n"
        + "\n".join(lines)
        + f"\nso {only} of `{name}` is ruled out, and `{label}` cannot be built",
        hint="relax the constraint or the requirement, or point the source at another version",
    )
