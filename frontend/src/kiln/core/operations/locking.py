"""``lock``: write the workspace's ``pylock.toml``, or say how it would change.

In order, each step only when the one before cannot decide:

1. the stamps of the existing lock (:mod:`kiln.core.lockfile.stamps`) all hold: the lock is
   current, and nothing else is read;
2. the lock's record of its inputs equals the inputs read now: the lock is current (its
   stamps are renewed when it is written);
3. one universal resolution of every member, extra and group (the existing lock's versions,
   else ``uv.lock``'s, tried first), and the lock it gives is compared with the existing one.

The lock is written atomically, and only when its text changes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from kiln.core.lockfile import LOCKFILE, stamps
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from kiln.core.lockfile.document import LockFile
    from kiln.core.lockfile.inputs import LockInputs
    from kiln.core.operations.options import Events, Settings
    from kiln.core.types import PackageSource
    from kiln.project.workspace import Project, Workspace

Mode = Literal["write", "check", "dry-run"]


class LockRequest(NamedTuple):
    """What ``kiln lock`` was asked to do (plain values: checking a lock that is current
    needs no more)."""

    mode: Mode = "write"
    no_sources: bool = False
    #: ``--no-sources-package``: ignore the sources of these packages.
    no_sources_packages: tuple[str, ...] = ()
    #: ``--upgrade``: prefer no locked version.
    upgrade: bool = False
    #: ``--upgrade-package NAME[==VERSION]``: prefer no locked version of these.
    upgrade_packages: tuple[str, ...] = ()
    #: ``--upgrade-group GROUP``: prefer no locked version of the packages the group
    #: requires directly.
    upgrade_groups: tuple[str, ...] = ()
    #: Every option that can change a resolution, by name, as given (plain values).
    options: tuple[tuple[str, object], ...] = ()
    #: ``--config-file`` and ``--no-config``.
    config_file: Path | None = None
    no_config: bool = False
    environ: Mapping[str, str] | None = None
    #: ``--script``: lock this PEP 723 script instead of the project.
    script: Path | None = None


class LockResult(NamedTuple):
    path: Path
    #: How the lock changes (or would change), one line each; empty when it is current.
    changes: tuple[str, ...] = ()
    written: bool = False
    #: Packages in the lock.
    packages: int = 0
    seconds: float = 0.0
    #: Whether a resolution was made.
    resolved: bool = False
    warnings: tuple[str, ...] = ()
    #: The lock's text: as it is, as written, or (``dry-run``, ``check``) as it would be.
    text: str | None = None
    #: There was no lock before: it is (or would be) created.
    created: bool = False


def quick_check(start: Path, request: LockRequest) -> LockResult | None:
    """The result when the stamps of the lock ``start`` belongs to all hold (step 1); None
    when they do not decide. Reads only the lock, the stamped files and the settings."""
    if request.upgrade or request.upgrade_packages or request.upgrade_groups:
        return None
    started = time.monotonic()
    found = locked_root(start, request)
    if found is None:
        return None
    path, nearest = found
    root = path.parent
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    tool = stamps.read_tool_table(text)
    if tool is None or not stamps.stamped(tool, nearest):
        return None
    if not stamps.current(root, text, tool, _settings_digest(request, root)):
        return None
    count = text.count("\n[[packages]]\n")
    return LockResult(path, packages=count, seconds=time.monotonic() - started, text=text)


def locked_root(start: Path, request: LockRequest) -> tuple[Path, str] | None:
    """The lock that the project at or above ``start`` (or ``request.script``) belongs to,
    and the file (relative to the lock's directory) it must stamp to be that one's; None
    when there is none, or it cannot be told without reading the project."""
    if request.script is not None:
        from kiln.core.lockfile import script_lock_name

        script = request.script.absolute()
        path = script.parent / script_lock_name(script.name)
        return (path, script.name) if path.is_file() else None
    found = stamps.find_locked_root(start.absolute(), LOCKFILE)
    if found is None:
        return None
    root, nearest = found
    return root / LOCKFILE, nearest


def target_project(start: Path, request: LockRequest) -> Project:
    """What ``request`` locks: ``request.script``, else the project at or above ``start``."""
    from kiln.project.workspace import discover, script_project

    if request.script is not None:
        return script_project(request.script)
    return discover(start)


def lock(
    start: Path, request: LockRequest, settings: Settings, events: Events | None = None
) -> LockResult:
    """Lock the workspace of the project at or above ``start`` (steps 2 and 3) with the
    index and resolution ``settings`` (which ``request.options`` are the values of)."""
    from kiln.core.lockfile import changes, document
    from kiln.core.lockfile.inputs import collect, record

    started = time.monotonic()
    project = target_project(start, request)
    workspace = project.workspace
    path = workspace.lockfile
    warnings: list[str] = []
    old: document.LockFile | None = None
    if workspace.script is not None:
        _check_script_lock(path, workspace.script.path)
    if request.upgrade_groups:
        request = request._replace(
            upgrade_packages=(*request.upgrade_packages, *group_packages(project, request))
        )
    existed = path.exists()
    if existed:
        try:
            old = document.read_lock(path)
        except document.LockfileError as exc:
            if request.mode != "write":
                raise
            warnings.append(f"{exc.message}; writing it anew")
    inputs = collect(
        workspace, no_sources=request.no_sources,
        no_sources_packages=request.no_sources_packages,
    )
    settings = _project_settings(settings, workspace, request)
    options = _options(request, settings)
    settings, options = _same_span(old, request, settings, options)
    projects = record(inputs)
    head = _head(inputs)
    edited = old is not None and _edited(old)
    if edited and old is not None:
        if request.mode != "write":
            raise document.LockfileError(
                f"`{path}` was changed since kiln wrote it",
                hint="run `kiln lock` to write it anew",
            )
        warnings.append(f"`{path}` was changed since kiln wrote it; writing it anew")
    if (
        old is not None and not edited and not request.upgrade and not request.upgrade_packages
        and not request.upgrade_groups
        and old.tool.get("projects") == projects and old.tool.get("options") == options
        and all(old.data.get(key) == value for key, value in head.items())
    ):
        # Step 2: the inputs are those the lock was made from.
        body = stamps.body_of(old.text)[:-1]
        text = _with_tool(body, inputs, request, start, options, projects)
        written = _write(path, old.text, text, request)
        return LockResult(
            path, packages=len(old.pylock.packages), written=written,
            seconds=time.monotonic() - started, warnings=tuple(warnings), text=text,
        )
    preferred = _preferences(old, workspace.root, request, options)
    inputs = _at_locked_commits(inputs, old, request)
    body_table, count, resolved_warnings = _resolve(
        inputs, request, settings, preferred, events, head
    )
    body = document.render(body_table)
    text = _with_tool(body, inputs, request, start, options, projects)
    lines = changes.describe(
        old.data if old is not None else None,
        {**body_table, "tool": {"kiln": {"projects": projects, "options": options}}},
    )
    if old is not None and old.text == text:
        lines = []
    elif not lines:
        lines = ["renew the stamps of `[tool.kiln]`"]
    if lines and request.mode == "check":
        raise KilnError(
            f"`{path}` is not up to date:\n" + "\n".join(f"  - {line}" for line in lines),
            hint="run `kiln lock` to update it",
        )
    written = _write(path, old.text if old is not None else None, text, request)
    return LockResult(
        path, changes=tuple(lines), written=written, packages=count,
        seconds=time.monotonic() - started, resolved=True,
        warnings=(*warnings, *resolved_warnings), text=text, created=old is None and not existed,
    )


# -- steps --------------------------------------------------------------------------------------


def _check_script_lock(path: Path, script: Path) -> None:
    """Refuse to take over ``path`` for the lock of ``script`` when it is another file (a
    lock kiln wrote for another script or exported with ``pip compile``, say)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError):
        text = ""
    tool = stamps.read_tool_table(text)
    projects = tool.get("projects") if tool is not None else None
    if isinstance(projects, list) and any(
        isinstance(entry, dict) and entry.get("script") == script.name for entry in projects
    ):
        return
    raise KilnError(
        f"`{path}` exists and is not the lock of the script `{script.name}`; kiln does not "
        "overwrite it",
        hint=f"move `{path.name}` away, or rename the script",
    )


def _edited(old: LockFile) -> bool:
    """Whether the body of ``old`` is not what kiln's stamp says it wrote (a lock that
    another tool wrote has no stamp: it is resolved again, without a warning)."""
    digest = old.tool.get("body-sha256")
    return digest is not None and bool(digest != stamps.sha256_text(stamps.body_of(old.text)))


def _head(inputs: LockInputs) -> dict[str, Any]:
    """The top-level keys of the lock, in the order they are written."""
    head: dict[str, Any] = {
        "lock-version": "1.0",
        "created-by": "kiln",
        "requires-python": str(inputs.requires_python),
    }
    if inputs.environments:
        head["environments"] = [str(marker) for marker in inputs.environments]
    head["extras"] = list(inputs.extras)
    head["dependency-groups"] = list(inputs.groups)
    head["default-groups"] = list(inputs.default_groups)
    return head


#: The recorded options whose change makes the locked versions no guide to the new
#: resolution (as in uv): the lock is made afresh, not from the versions it pins.
_STRATEGY_OPTIONS = (
    "resolution", "prerelease", "exclude-newer", "exclude-newer-package", "fork-strategy"
)


def _preferences(
    old: LockFile | None, root: Path, request: LockRequest, options: Mapping[str, Any]
) -> dict[NormalizedName, set[Version]]:
    from kiln.core.lockfile import preferences

    if request.upgrade:
        return {}
    if old is not None:
        before = old.tool.get("options")
        before = before if isinstance(before, dict) else {}
        if any(before.get(key) != options.get(key) for key in _STRATEGY_OPTIONS):
            return {}
    if old is not None:
        found = preferences.from_document(old.data)
    elif (root / LOCKFILE).exists():
        found = {}  # an unreadable lock guides nothing
    else:
        found = preferences.from_uv_lock(root / preferences.UV_LOCK)
    return preferences.without(found, [_upgrade_name(text) for text in request.upgrade_packages])


def _at_locked_commits(inputs: LockInputs, old: LockFile | None, request: LockRequest) -> LockInputs:
    """``inputs`` with git sources at the commits of the existing lock (not for the
    packages being upgraded)."""
    from kiln.core.lockfile import preferences
    from kiln.core.lockfile.inputs import with_locked_commits

    if old is None or request.upgrade:
        return inputs
    upgraded = {_upgrade_name(text) for text in request.upgrade_packages}
    document = {
        "packages": [
            entry for entry in old.data.get("packages", ())
            if not isinstance(entry, dict) or _canonical(entry.get("name")) not in upgraded
        ]
    }
    return with_locked_commits(inputs, preferences.locked_commits(document))


def _canonical(name: object) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name) if isinstance(name, str) else ""


def group_packages(project: Project, request: LockRequest) -> tuple[str, ...]:
    """The names of the packages that the groups ``request.upgrade_groups`` require
    directly (includes resolved), in any member or the workspace root: what
    ``--upgrade-group`` upgrades. A group that no project defines is an error."""
    from packaging.utils import canonicalize_name

    workspace = project.workspace
    if workspace.script is not None:
        raise KilnError(
            f"`--upgrade-group {request.upgrade_groups[0]}`: a script has no dependency groups",
            hint="name its packages with `--upgrade-package` instead",
        )
    pyprojects = [member.pyproject for member in workspace.members]
    if not workspace.pyproject.has_project:
        pyprojects.append(workspace.pyproject)
    names: dict[str, None] = {}
    for group in request.upgrade_groups:
        wanted = canonicalize_name(group)
        found = [p.dependency_groups[wanted] for p in pyprojects if wanted in p.dependency_groups]
        if not found:
            known = sorted({name for p in pyprojects for name in p.dependency_groups})
            raise KilnError(
                f"`--upgrade-group`: group `{group}` is not defined in any "
                "`[dependency-groups]` of the workspace",
                hint="defined groups: " + (", ".join(f"`{g}`" for g in known) or "none"),
            )
        for each in found:
            names.update((canonicalize_name(r.name), None) for r in each.requirements)
    return tuple(names)


def _upgrade_name(text: str) -> str:
    return _upgrade_requirement(text).name


def _upgrade_requirement(text: str) -> Requirement:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        requirement = None
    if (
        requirement is None or requirement.url or requirement.marker or requirement.extras
        or any(s.operator != "==" for s in requirement.specifier)
        or len(requirement.specifier) > 1
    ):
        raise KilnError(
            f"`--upgrade-package`: `{text}` is not a package name or `NAME==VERSION`",
            hint="e.g. `--upgrade-package requests` or `--upgrade-package requests==2.32.3`",
        )
    return requirement


def _resolve(
    inputs: LockInputs,
    request: LockRequest,
    settings: Settings,
    preferred: Mapping[NormalizedName, set[Version]],
    events: Events | None,
    head: Mapping[str, Any],
) -> tuple[dict[str, Any], int, tuple[str, ...]]:
    """Step 3: the body of the new lock, its package count and the resolver's warnings."""
    from kiln.core.lockfile.document import validate
    from kiln.core.lockfile.entries import EntryMaker, file_hasher
    from kiln.core.operations.filters import PolicySource
    from kiln.core.operations.session import Session, index_locations
    from kiln.core.requirements_file import RequirementsInput, RequirementSpec
    from kiln.core.resolver.environment import TargetEnvironment

    pins = [_upgrade_requirement(text) for text in request.upgrade_packages]
    requirements = RequirementsInput(
        requirements=[
            RequirementSpec(requirement, origin=f"{inputs.workspace.root}")
            for requirement in inputs.requirements
        ],
        constraints=[*inputs.constraints, *(p for p in pins if p.specifier)],
    )
    # The sources' index pins are the lock's own (by marker, extra and group, of every
    # member): the index settings' pins are left out, the members' indexes added.
    locations = index_locations(requirements, settings).with_indexes(inputs.member_indexes)
    settings = settings.replace(locations=locations._replace(pins={}))
    with Session(requirements, settings, TargetEnvironment.current(), events) as session:
        resolution = session.resolve_universal(
            inputs.floor,
            overrides=inputs.overrides,
            preferences=preferred,
            environments=inputs.resolver_space,
            index_pins=inputs.index_pins,
            required_environments=inputs.required_environments,
        )
        def dated(base: PackageSource) -> PolicySource:
            return PolicySource(
                base, exclude_newer=settings.exclude_newer,
                exclude_newer_packages=settings.exclude_newer_packages,
            )

        source = dated(session.source)
        maker = EntryMaker.for_lock(
            inputs, source, session.source.locations.all_indexes(), session.builder.built,
            file_hasher(session.source.download),
            routed=lambda routes: dated(session.routed_source(routes)),
        )
        packages = maker.entries(resolution.pins)
    body = {**head, "packages": packages}
    validate(body)
    return body, len(packages), resolution.warnings


def with_build_settings(settings: Settings, workspace: Workspace) -> Settings:
    """``settings`` with the build settings of the workspace root (or script), which hold
    for every sdist the lock or the sync builds, as in uv: its
    ``build-constraint-dependencies``, and its ``no-build``, ``no-binary``,
    ``no-build-isolation`` and ``config-settings`` keys (and their ``-package`` forms),
    added to the command line's (whose config settings win, key by key)."""
    from kiln.core.builder.packagesettings import PackageBuildSettings
    from kiln.core.types import BuildChoices

    table = workspace.pyproject.tool.build
    build = settings.build or PackageBuildSettings()
    packages = {
        name: {**table.config_settings_package.get(name, {}),
               **build.package_config_settings.get(name, {})}
        for name in {*table.config_settings_package, *build.package_config_settings}
    }
    build = build._replace(
        constraint_projects=(workspace.pyproject.path,),
        no_isolation=build.no_isolation or table.no_build_isolation,
        no_isolation_packages=build.no_isolation_packages | table.no_build_isolation_package,
        config_settings={**table.config_settings, **build.config_settings},
        package_config_settings=packages,
    )
    given = settings.choices
    choices = BuildChoices(
        no_binary_all=given.no_binary_all or table.no_binary,
        no_binary=given.no_binary | table.no_binary_package,
        no_build_all=given.no_build_all or table.no_build,
        no_build=given.no_build | table.no_build_package,
    )
    return settings.replace(build=build, choices=choices)


def _same_span(
    old: LockFile | None, request: LockRequest, settings: Settings, options: dict[str, Any]
) -> tuple[Settings, dict[str, Any]]:
    """A cutoff given as a span (`--exclude-newer "7 days"`) moves with every run; when the
    lock was made with the same span, its moment is kept, so the lock stays current and
    resolves again from the same cutoff (`--upgrade` starts from now, as uv does)."""
    from kiln.core.timestamps import parse_timestamp

    span = options.get("exclude-newer-span")
    before = old.tool.get("options") if old is not None and not request.upgrade else None
    if span is None or not isinstance(before, dict) or before.get("exclude-newer-span") != span:
        return settings, options
    moment = before.get("exclude-newer")
    try:
        kept = parse_timestamp(moment) if isinstance(moment, str) else None
    except ValueError:
        kept = None
    if kept is None:
        return settings, options
    return settings.replace(exclude_newer=kept), {**options, "exclude-newer": moment}


def _project_settings(settings: Settings, workspace: Workspace, request: LockRequest) -> Settings:
    """``settings`` reading the workspace root's indexes and index pins, and its resolver
    settings where the command line (``request.options``) leaves them unsaid."""
    given = dict(request.options)
    project = workspace.pyproject.tool.resolver
    settings = with_build_settings(settings, workspace)
    changes: dict[str, Any] = {"project": workspace.pyproject.path}
    if given.get("resolution") is None and project.resolution is not None:
        changes["resolution"] = project.resolution
    if given.get("prerelease") is None and project.prerelease is not None:
        changes["prerelease"] = project.prerelease
    if given.get("exclude_newer") is None and project.exclude_newer is not None:
        changes["exclude_newer"] = project.exclude_newer
        changes["exclude_newer_span"] = project.exclude_newer_span
    if given.get("fork_strategy") is None and project.fork_strategy is not None:
        changes["fork_strategy"] = project.fork_strategy
    # A package that `--prerelease-package` names takes the command line's mode.
    changes["prerelease_packages"] = {
        **workspace.pyproject.tool.prerelease_package, **settings.prerelease_packages
    }
    if project.exclude_newer_packages:
        # The command line's cutoffs win, package by package.
        changes["exclude_newer_packages"] = {
            **project.exclude_newer_packages, **settings.exclude_newer_packages
        }
    return settings.replace(**changes)


def _options(request: LockRequest, settings: Settings) -> dict[str, Any]:
    """The resolution options the lock records (plain values, no credentials)."""
    from kiln.core.index.redaction import strip_credentials
    from kiln.core.operations.session import index_locations
    from kiln.core.requirements_file import RequirementsInput
    from kiln.core.timestamps import format_span, format_timestamp

    # Every index the resolution may read, in order, wherever it was configured.
    locations = index_locations(RequirementsInput(), settings)
    found: dict[str, Any] = {
        "resolution": settings.resolution,
        "prerelease": settings.prerelease,
        "no-sources": request.no_sources,
    }
    if settings.exclude_newer is not None:
        found["exclude-newer"] = format_timestamp(settings.exclude_newer)
        if settings.exclude_newer_span is not None:
            found["exclude-newer-span"] = format_span(settings.exclude_newer_span)
    if settings.index.strategy is not None or locations.strategy != "first-index":
        found["index-strategy"] = locations.strategy
    found.update(settings.choices.record())
    if settings.exclude_newer_packages:
        found["exclude-newer-package"] = {
            str(name): False if date is None else format_timestamp(date)
            for name, date in sorted(settings.exclude_newer_packages.items())
        }
    if settings.prerelease_packages:
        found["prerelease-package"] = dict(sorted(settings.prerelease_packages.items()))
    if settings.fork_strategy != "requires-python":
        found["fork-strategy"] = settings.fork_strategy
    if request.no_sources_packages:
        found["no-sources-package"] = sorted(request.no_sources_packages)
    found["indexes"] = [strip_credentials(i.url) for i in locations.all_indexes()]
    return found


def _settings_digest(request: LockRequest, root: Path) -> str:
    """The settings stamp: the options, the index variables and the configuration files
    (found from the workspace root, wherever in it the command runs), pip's included: they
    say where packages come from when nothing of kiln's does."""
    from kiln.core.index.configfiles import discover
    from kiln.core.index.pipconfig import config_files

    environ = os.environ if request.environ is None else request.environ
    config = discover(
        root, environ, config_file=request.config_file, no_config=request.no_config
    )
    config += config_files(environ)
    options: dict[str, object] = dict(request.options)
    options["no-sources"] = request.no_sources
    return stamps.settings_digest(options, environ, config)


def _with_tool(
    body: str,
    inputs: LockInputs,
    request: LockRequest,
    cwd: Path,
    options: Mapping[str, Any],
    projects: Sequence[Mapping[str, Any]],
) -> str:
    """``body`` with ``[tool.kiln]``: the stamps, the options and the projects' record."""
    from kiln.core.lockfile.document import render_tool

    workspace = inputs.workspace
    files = [project.path for project in inputs.projects]
    files += [workspace.pyproject.path]
    for lowered in inputs.direct.values():
        source_path = getattr(lowered.source, "path", None)
        if isinstance(source_path, Path) and source_path.is_dir():
            files.append(source_path / "pyproject.toml")
    patterns = list(workspace.table.members) if workspace.table is not None else []
    scripts = [workspace.script.path] if workspace.script is not None else []
    tool: dict[str, Any] = stamps.make_stamps(
        workspace.root, body + "\n", files, patterns, _settings_digest(request, workspace.root),
        scripts=scripts,
    )
    tool["options"] = dict(options)
    tool["projects"] = list(projects)
    return body + "\n" + render_tool(tool, array_tables=("projects",))


def _write(path: Path, old: str | None, text: str, request: LockRequest) -> bool:
    """Write ``text`` to ``path`` (atomically) when it differs and the mode writes."""
    if old == text or request.mode != "write":
        return False
    from kiln.core.fileio import write_atomic

    try:
        write_atomic(path, text.encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise KilnError(f"cannot write `{path}`: {exc.strerror or exc}") from None
    return True
