"""Core metadata (METADATA / PKG-INFO) and entry points from ``[project]``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from kiln_build import globs
from kiln_build._record import record
from kiln_build.diagnostics import warn
from kiln_build.errors import BuildBackendError
from kiln_build.modules import Layout, dist_name
from kiln_build.paths import check_name, is_absolute, os_error, strictly_relative
from kiln_build.pyproject import Project
from kiln_build.simple_metadata import Fields, render

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Used when ``project.license-files`` is absent (kiln goes beyond uv_build here).
DEFAULT_LICENSE_GLOBS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")
#: The same globs as plain prefixes (cheaper than fnmatch).
DEFAULT_LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")

_GROUP = re.compile(r"^[\w.]+$")
_SCRIPT = re.compile(r"^[\w.-]+$")
#: An email address: one ``@``, nothing an address list would split on or quote.
_EMAIL = re.compile(r'[^\s@<>()\[\],;:\\"]+@[^\s@<>()\[\],;:\\"]+')
#: The readme types the core metadata allows for ``Description-Content-Type``.
README_TYPES = ("text/plain", "text/x-rst", "text/markdown")
MARKDOWN_VARIANTS = ("GFM", "CommonMark")


@record
class CoreMetadata:
    name: str
    version: str
    dist_name: str
    metadata: bytes
    entry_points: bytes | None
    #: Project-relative paths of license files, sorted.
    license_files: list[str]
    readme: str | None
    #: Project-relative path of a legacy ``license = {file = ...}``.
    legacy_license_file: str | None

    @property
    def stem(self) -> str:
        """``<dist_name>-<version>``, the stem of every file name."""
        return f"{self.dist_name}-{self.version}"


def read_static_version(path: Path, project_root: Path) -> str:
    """The string assigned to ``__version__`` at the top level of a module, read without importing."""
    import ast

    shown = path.relative_to(project_root).as_posix()
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise os_error(shown, exc) from None
    try:
        tree = ast.parse(source, filename=shown)
    except SyntaxError as exc:
        raise BuildBackendError(
            f"`{shown}` cannot be parsed to read `__version__`: {exc.msg} (line {exc.lineno})"
        ) from None
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "__version__":
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return value.value
                raise BuildBackendError(
                    f"`{shown}`: `__version__` must be a plain string literal to be read statically",
                    hint='write `__version__ = "1.2.3"`, or set `project.version` in pyproject.toml',
                )
    raise BuildBackendError(
        f"`pyproject.toml`: `project.dynamic` lists `version`, but `{shown}` assigns no `__version__`",
        hint='add `__version__ = "0.1.0"` to the module, or set `project.version` and drop it from `dynamic`',
    )


def _version_source(project: Project, layout: Layout) -> Path:
    module = layout.modules[0] if layout.modules else None
    if module is None:
        raise BuildBackendError(
            "`pyproject.toml`: `project.dynamic` lists `version`, but there is no module to read it from"
        )
    base = layout.root.joinpath(*module.parts)
    if module.single_file:
        path = base.with_name(base.name + ".py")
    else:
        path = base / "__init__.py"
        for name in ("__init__.py", "__init__.pyi"):
            if (base / name).is_file():
                path = base / name
                break
    project.tree.resolve(path.relative_to(project.root).as_posix(), "project.dynamic")
    return path


def _default_license_files(project: Project) -> list[str]:
    """The root files matching the default licence globs, each checked like any path read."""
    try:
        with os.scandir(project.root) as entries:
            candidates = sorted(
                e.name for e in entries if e.name.startswith(DEFAULT_LICENSE_PREFIXES)
            )
    except OSError as exc:
        raise os_error("", exc) from None
    names = []
    for name in candidates:
        # A link out of the project, a broken link or a loop is an error here.
        if os.path.isfile(project.tree.resolve(name)):
            check_name(name)
            names.append(name)
    return names


def _license_files(project: Project, patterns: list[str]) -> list[str]:
    """The files ``project.license-files`` matches, found with the backend's own walk.

    Every pattern must match a file. The walk follows the links rule of
    :mod:`kiln_build.paths`, so a pattern never reads or walks outside the project.
    """
    from kiln_build.selection import Excludes, walk

    key = "project.license-files"
    matchers = []
    for pattern in patterns:
        globs.validate(pattern, key, escapes=False)
        if is_absolute(pattern):
            raise BuildBackendError(
                f"`pyproject.toml`: `{key}` pattern `{pattern}` is an absolute path",
                hint="license-files patterns are relative to the project directory",
            )
        matchers.append(globs.LicenseGlob(pattern))
    found: dict[str, list[str]] = {m.glob: [] for m in matchers}

    def keep(rel: str) -> bool:
        hits = [m for m in matchers if m.matches(rel)]
        for matcher in hits:
            found[matcher.glob].append(rel)
        return bool(hits)

    def descend(rel: str) -> bool:
        return any(m.may_contain(rel) for m in matchers)

    files = [
        rel
        for rel, _path, _executable in walk(
            project.tree, "", descend, Excludes([], False, None), keep, check_venv=False
        )
    ]
    for matcher in matchers:
        if not found[matcher.glob]:
            raise BuildBackendError(
                f"`pyproject.toml`: every pattern in `{key}` must match at least one file, "
                f"but `{matcher.glob}` matches none",
                hint="fix the pattern or remove it",
            )
    return sorted(set(files))


def _prepare_table(project: Project, layout: Layout) -> dict[str, Any]:
    table = dict(project.table)
    dynamic = table.get("dynamic", [])
    if not isinstance(dynamic, list):
        raise BuildBackendError("`pyproject.toml`: `project.dynamic` must be a list of field names")
    unsupported = [f for f in dynamic if f != "version"]
    if unsupported:
        raise BuildBackendError(
            f"`pyproject.toml`: `project.dynamic` lists {', '.join(f'`{f}`' for f in unsupported)}, "
            "but kiln_build can only read `version` dynamically",
            hint="write the value into `[project]`",
        )
    if "version" in dynamic:
        if "version" in table:
            raise BuildBackendError(
                "`pyproject.toml`: `project.version` is set but also listed in `project.dynamic`",
                hint="remove one of them",
            )
        table["version"] = read_static_version(_version_source(project, layout), project.root)
        table["dynamic"] = []
    license_files = table.get("license-files")
    found: list[str] = []
    if license_files is None:
        if not isinstance(table.get("license"), dict):
            found = _default_license_files(project)
    elif isinstance(license_files, list) and all(isinstance(p, str) for p in license_files):
        # pyproject-metadata is handed the files, not the patterns: its glob would
        # follow a link out of the project (and walk all of `/` behind a `**`).
        found = _license_files(project, license_files) if license_files else []
        table["license-files"] = []
    if found:
        import glob as _glob

        table["license-files"] = [_glob.escape(rel) for rel in found]
    _normalise_file_keys(project, table)
    return table


def _normalise_file_keys(project: Project, table: dict[str, Any]) -> None:
    """Check the files named by ``readme`` and ``license.file`` and name them normalised.

    Each must be a relative path that stays inside the project, links included;
    pyproject-metadata then reads exactly the file that was checked.
    """
    readme = table.get("readme")
    if isinstance(readme, str):
        table["readme"] = _checked_file(project, readme, "project.readme", "the readme")
    elif isinstance(readme, dict):
        readme = dict(readme)
        if isinstance(readme.get("file"), str):
            readme["file"] = _checked_file(project, readme["file"], "project.readme.file", "the readme")
        content_type = readme.get("content-type")
        if isinstance(content_type, str):
            _check_content_type(content_type)
        table["readme"] = readme
    license_value = table.get("license")
    if isinstance(license_value, dict) and isinstance(license_value.get("file"), str):
        license_value = dict(license_value)
        license_value["file"] = _checked_file(
            project, license_value["file"], "project.license.file", "the licence file"
        )
        table["license"] = license_value


def _checked_file(project: Project, value: str, key: str, what: str) -> str:
    rel = strictly_relative(value, key, what)
    path = project.tree.resolve(rel, key)
    if not os.path.isfile(path):
        raise BuildBackendError(
            f"`pyproject.toml`: `{key}` names `{value}`, which does not exist",
            hint="create the file, fix the path (it is relative to pyproject.toml), or remove the key",
        )
    check_name(rel)
    return rel


def _check_content_type(value: str) -> None:
    """``Description-Content-Type`` as the core metadata specification allows it."""
    key = "project.readme.content-type"
    kind, *params = (part.strip() for part in value.split(";"))
    if kind.lower() not in README_TYPES:
        raise BuildBackendError(
            f"`pyproject.toml`: `{key}` is `{value}`, which is not a readme type",
            hint="use " + ", ".join(f"`{t}`" for t in README_TYPES),
        )
    for param in params:
        name, _, given = param.partition("=")
        name, given = name.strip().lower(), given.strip().strip('"')
        if name == "charset" and given.upper() == "UTF-8":
            continue
        if name == "variant" and kind.lower() == "text/markdown" and given in MARKDOWN_VARIANTS:
            continue
        raise BuildBackendError(
            f"`pyproject.toml`: `{key}` has the parameter `{param}`, which the core metadata "
            "does not allow",
            hint="the only parameters are `charset=UTF-8` and, for `text/markdown`, "
            "`variant=GFM` or `variant=CommonMark`",
        )


def _check_fields(table: dict[str, Any]) -> None:
    """Checks stricter than pyproject-metadata's, matching uv_build's."""
    for key in ("authors", "maintainers"):
        people = table.get(key)
        if not isinstance(people, list):
            continue
        for index, person in enumerate(people):
            email = person.get("email") if isinstance(person, dict) else None
            if isinstance(email, str) and not _EMAIL.fullmatch(email):
                raise BuildBackendError(
                    f"`pyproject.toml`: `project.{key}[{index}].email` is not an email "
                    f"address: `{email}`",
                    hint="write one address such as `jane@example.com`; "
                    "list each person as a table of their own",
                )
    description = table.get("description")
    if isinstance(description, str) and "\n" in description:
        raise BuildBackendError(
            "`pyproject.toml`: `project.description` must be a single line",
            hint="it becomes the one-line `Summary`; put longer text in the readme",
        )
    for classifier in table.get("classifiers", []) or []:
        if isinstance(classifier, str):
            parts = classifier.split(" :: ")
            if len(parts) < 2 or not all(part.strip() for part in parts):
                raise BuildBackendError(
                    f"`pyproject.toml`: `project.classifiers` contains an invalid classifier: `{classifier}`",
                    hint="classifiers have at least two parts separated by ` :: `, e.g. `Typing :: Typed`",
                )
    extras = table.get("optional-dependencies")
    if isinstance(extras, dict):
        seen: dict[str, str] = {}
        for extra in extras:
            normal = re.sub(r"[-_.]+", "-", str(extra)).lower()
            if normal in seen:
                raise BuildBackendError(
                    f"`pyproject.toml`: `project.optional-dependencies` has `{seen[normal]}` and "
                    f"`{extra}`, which are the same extra (`{normal}`)",
                    hint="merge the two lists",
                )
            seen[normal] = str(extra)
    license_value = table.get("license")
    if isinstance(license_value, str):
        from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

        try:
            canonical = canonicalize_license_expression(license_value)
        except InvalidLicenseExpression as exc:
            raise BuildBackendError(
                f"`pyproject.toml`: `project.license` is not a valid SPDX license expression: `{license_value}`",
                hint=f"{exc}; see https://spdx.org/licenses/ for identifiers",
            ) from None
        if canonical != license_value:
            raise BuildBackendError(
                f"`pyproject.toml`: `project.license` is not in canonical SPDX form: `{license_value}`",
                hint=f"write `{canonical}`",
            )


def _standard_fields(project: Project, table: dict[str, Any]) -> Fields:
    """The metadata as pyproject-metadata validates and writes it (any table)."""
    import warnings

    from pyproject_metadata import ConfigurationError, StandardMetadata

    data = dict(project.data)
    data["project"] = table
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            meta = StandardMetadata.from_pyproject(data, project.root, allow_extra_keys=None)
            message = meta.as_rfc822()
        except ConfigurationError as exc:
            raise BuildBackendError(f"`pyproject.toml`: {exc}") from None
        except Exception as exc:  # ExceptionGroup on some versions
            errors = getattr(exc, "exceptions", None)
            if errors:
                raise BuildBackendError(
                    "`pyproject.toml`: " + "; ".join(str(e) for e in errors)
                ) from None
            raise
    for item in caught:
        warn(f"`pyproject.toml`: {item.message}")
    assert meta.version is not None
    _fix_email_only_people(message, table)
    return Fields(
        name=meta.name,
        version=str(meta.version),
        message=message.as_bytes(),
        classifiers=list(meta.classifiers),
        scripts=dict(meta.scripts),
        gui_scripts=dict(meta.gui_scripts),
        entrypoints={group: dict(entries) for group, entries in meta.entrypoints.items()},
        license_files=sorted({p.as_posix() for p in meta.license_files or []}),
    )


def _check_object_reference(value: str, where: str) -> None:
    """An entry point's value: ``module.path`` or ``module.path:object.attr``."""
    module, colon, attribute = value.partition(":")
    parts = module.strip().split(".")
    if colon:
        parts += attribute.strip().split(".")
    if not all(part.isidentifier() for part in parts):
        hint = "write `package.module:function` or `package.module:object.attribute`"
        if "[" in value:
            hint = "extras in entry points are deprecated and not accepted; " + hint
        raise BuildBackendError(
            f"`pyproject.toml`: `{where}` is not a valid object reference: `{value}`",
            hint=hint,
        )


def _check_entry_points(meta: Fields) -> None:
    for key, scripts in (("scripts", meta.scripts), ("gui-scripts", meta.gui_scripts)):
        for name, value in scripts.items():
            _check_object_reference(value, f"project.{key}.{name}")
    for group, entries in meta.entrypoints.items():
        for name, value in entries.items():
            where = f"project.entry-points.{group}.{name}"
            if (
                not name
                or "=" in name
                or name.startswith("[")
                or name != name.strip()
                or not name.isprintable()
            ):
                raise BuildBackendError(
                    f"`pyproject.toml`: entry point name `{name}` in "
                    f"`project.entry-points.{group}` is invalid",
                    hint="use letters, digits, `_`, `.` and `-`",
                )
            _check_object_reference(value, where)
    for group, _entries in meta.entrypoints.items():
        if group in ("console_scripts", "gui_scripts"):
            better = "scripts" if group == "console_scripts" else "gui-scripts"
            raise BuildBackendError(
                f"`pyproject.toml`: use `project.{better}` instead of `project.entry-points.{group}`"
            )
        if not _GROUP.match(group) or group[0] == ".":
            raise BuildBackendError(
                f"`pyproject.toml`: entry point group `{group}` in `project.entry-points` is invalid",
                hint="group names consist of letters, digits and underscores, separated by dots",
            )
    for key, scripts in (("scripts", meta.scripts), ("gui-scripts", meta.gui_scripts)):
        for name in scripts:
            if not _SCRIPT.match(name) or set(name) == {"."}:
                raise BuildBackendError(
                    f"`pyproject.toml`: script name `{name}` in `project.{key}` is invalid",
                    hint="script names use letters, digits, `.`, `_` and `-`, and not only dots",
                )


def _fix_email_only_people(message: Any, table: dict[str, Any]) -> None:
    """PEP 621: a person with only an email is listed by the address alone.

    pyproject-metadata names such people "Unknown"; rewrite the two email headers.
    """
    for key, header in (("authors", "Author-Email"), ("maintainers", "Maintainer-Email")):
        people = table.get(key) or []
        if not any(isinstance(p, dict) and "email" in p and "name" not in p for p in people):
            continue
        parts = []
        for person in people:
            email = person.get("email")
            if not email:
                continue
            name = person.get("name")
            parts.append(_format_address(name, email) if name else email)
        message.replace_header(header, ", ".join(parts))  # in place, as simple_metadata writes it


def _format_address(name: str, email: str) -> str:
    if re.search(r'[][\\()<>@,:;".]', name):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{email}>'
    return f"{name} <{email}>"


def entry_points_txt(meta: Fields) -> bytes | None:
    groups: list[tuple[str, dict[str, str]]] = []
    if meta.scripts:
        groups.append(("console_scripts", meta.scripts))
    if meta.gui_scripts:
        groups.append(("gui_scripts", meta.gui_scripts))
    groups.extend(sorted(meta.entrypoints.items()))
    if not groups:
        return None
    lines: list[str] = []
    for group, entries in groups:
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {value}" for name, value in sorted(entries.items()))
        lines.append("")
    return ("\n".join(lines) + "\n").encode()


def build_metadata(project: Project, layout: Layout) -> CoreMetadata:
    """The project's core metadata, validated and generated from ``[project]``."""
    table = _prepare_table(project, layout)
    _check_fields(table)
    meta = render(project.data, table, project.root) or _standard_fields(project, table)
    for classifier in meta.classifiers:
        if classifier.startswith("License :: "):
            warn(
                f"`pyproject.toml`: license classifier `{classifier}` is deprecated (PEP 639); "
                "use `project.license` and `project.license-files` instead"
            )
    _check_entry_points(meta)
    readme = table.get("readme")
    readme_path: str | None = None
    if isinstance(readme, str):
        readme_path = readme
    elif isinstance(readme, dict) and isinstance(readme.get("file"), str):
        readme_path = readme["file"]
    legacy = table.get("license")
    legacy_file = legacy.get("file") if isinstance(legacy, dict) else None
    return CoreMetadata(
        name=meta.name,
        version=meta.version,
        dist_name=dist_name(meta.name),
        metadata=meta.message,
        entry_points=entry_points_txt(meta),
        license_files=meta.license_files,
        readme=readme_path,
        legacy_license_file=legacy_file if isinstance(legacy_file, str) else None,
    )
