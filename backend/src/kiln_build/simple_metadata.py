"""Core metadata of a plain ``[project]`` table, written without pyproject-metadata.

Importing pyproject-metadata (and with it ``packaging.requirements`` and the ``email``
package) costs more than the rest of a small build. Most projects use only fields whose
checks are cheap, so :func:`render` writes their METADATA directly and imports from
``packaging`` only the parts the table needs (versions, specifiers, requirements).

It never decides that a table is wrong: whenever a value is not one it fully handles
(a type it does not expect, an invalid version or requirement, a key it does not know,
anything pyproject-metadata would warn about), it returns None and the caller asks
pyproject-metadata, which reports the problem with its own message. What it writes is
byte for byte what pyproject-metadata writes for the same table; the tests compare the
two on every test project.
"""

from __future__ import annotations

import re
from pathlib import Path

from kiln_build._record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: ``[project]`` keys :func:`render` handles; any other key goes to pyproject-metadata.
KEYS = frozenset(
    {
        "name",
        "version",
        "description",
        "readme",
        "requires-python",
        "license",
        "license-files",
        "authors",
        "maintainers",
        "keywords",
        "classifiers",
        "urls",
        "dependencies",
        "optional-dependencies",
        "scripts",
        "gui-scripts",
        "entry-points",
        "dynamic",
    }
)
# Patterns, compiled (and cached by ``re``) only when a table needs them.
#: pyproject-metadata's rule for an entry-point group name.
_GROUP = r"\w+(\.\w+)*"
#: A valid project or extra name (PEP 508), as ``packaging.utils`` checks it.
_NAME = r"(?i)([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])"
_NEEDS_QUOTING = r'[][\\()<>@,:;".]'


@record
class Fields:
    """What the rest of the build needs from validated ``[project]`` metadata."""

    name: str
    version: str
    #: METADATA / PKG-INFO, exactly as written into the archives.
    message: bytes
    classifiers: list[str]
    scripts: dict[str, str]
    gui_scripts: dict[str, str]
    entrypoints: dict[str, dict[str, str]]
    #: Project-relative paths of the licence files pyproject-metadata was given.
    license_files: list[str]


class _Decline(Exception):
    """The table needs pyproject-metadata."""


def _text(value: object) -> str:
    """A string that goes into a header as it is: one printable line."""
    if not isinstance(value, str) or not value.isprintable():
        raise _Decline
    return value


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        raise _Decline
    return [_text(item) for item in value]


def _table(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Decline
    return {_text(key): _text(item) for key, item in value.items()}


def render(data: dict[str, Any], table: dict[str, Any], root: Path) -> Fields | None:
    """The metadata of ``table`` (the prepared ``[project]``), or None to use pyproject-metadata.

    ``data`` is the whole pyproject.toml, whose other tables pyproject-metadata type-checks too.
    """
    try:
        _check_other_tables(data)
        return _render(table, root)
    except _Decline:
        return None


def _check_other_tables(data: dict[str, Any]) -> None:
    if not isinstance(data.get("tool", {}), dict):
        raise _Decline
    system = data.get("build-system", {})
    if not isinstance(system, dict):
        raise _Decline
    if not isinstance(system.get("build-backend", ""), str):
        raise _Decline
    for key in ("requires", "backend-path"):
        if key in system:
            _string_list(system[key])
    groups = data.get("dependency-groups", {})
    if not isinstance(groups, dict):
        raise _Decline
    for items in groups.values():
        if not isinstance(items, list):
            raise _Decline
        for item in items:
            if isinstance(item, dict):
                if not isinstance(item.get("include-group", ""), str):
                    raise _Decline
            elif not isinstance(item, str):
                raise _Decline


def _string_list(value: object) -> None:
    """A list of strings, whatever they contain (they do not reach the metadata)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Decline


def _render(table: dict[str, Any], root: Path) -> Fields:
    if not KEYS.issuperset(table) or table.get("dynamic", []) != []:
        raise _Decline
    from packaging.version import InvalidVersion, Version

    name = _text(table["name"])
    try:
        version = str(Version(_text(table.get("version"))))
    except InvalidVersion:
        raise _Decline from None
    headers: list[tuple[str, str]] = []
    license_value = table.get("license")
    legacy = None
    if isinstance(license_value, dict):
        legacy = _legacy_license(license_value, root)
    elif license_value is not None:
        _text(license_value)
    license_files = None
    if "license-files" in table:
        if legacy is not None:
            raise _Decline  # pyproject-metadata refuses the two together
        license_files = _license_files(table["license-files"], root)
    spdx = isinstance(license_value, str) or license_files is not None
    headers.append(("Metadata-Version", "2.4" if spdx else "2.1"))
    headers.append(("Name", name))
    headers.append(("Version", version))
    description = table.get("description")
    if description is not None and _text(description):
        headers.append(("Summary", description))
    keywords = ",".join(_strings(table.get("keywords", [])))
    if keywords:
        headers.append(("Keywords", keywords))
    for key, header in (("authors", "Author"), ("maintainers", "Maintainer")):
        names, emails = _people(table.get(key, []))
        if names:
            headers.append((header, ", ".join(names)))
        if emails:
            headers.append((f"{header}-Email", ", ".join(emails)))
    if legacy is not None:
        headers.append(("License", legacy))
    elif license_value is not None:
        headers.append(("License-Expression", license_value))
    headers.extend(("License-File", rel) for rel in license_files or [])
    classifiers = _strings(table.get("classifiers", []))
    if any(c.startswith("License ::") for c in classifiers):
        raise _Decline  # pyproject-metadata warns or fails, and kiln warns
    headers.extend(("Classifier", c) for c in classifiers)
    for label, url in _table(table.get("urls", {})).items():
        if len(label) > 32:
            raise _Decline
        headers.append(("Project-URL", f"{label}, {url}"))
    requires_python = table.get("requires-python")
    if requires_python is not None:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            specifiers = SpecifierSet(_text(requires_python))
        except InvalidSpecifier:
            raise _Decline from None
        if specifiers:
            headers.append(("Requires-Python", str(specifiers)))
    headers.extend(_requirements(table))
    body = _readme(table.get("readme"), root, headers)
    scripts = _table(table.get("scripts", {}))
    gui_scripts = _table(table.get("gui-scripts", {}))
    entrypoints = _entry_points(table.get("entry-points", {}))
    text = "".join(f"{header}: {value}\n" for header, value in headers) + "\n" + body
    return Fields(
        name=name,
        version=version,
        message=text.encode("utf-8"),
        classifiers=classifiers,
        scripts=scripts,
        gui_scripts=gui_scripts,
        entrypoints=entrypoints,
        license_files=sorted(set(license_files or [])),
    )


def _license_files(value: object, root: Path) -> list[str]:
    """The files kiln found for ``license-files`` (escaped names), ordered as pyproject-metadata
    orders them: as paths, not as strings."""
    import glob

    names = _strings(value)
    found = set()
    for escaped in names:
        rel = escaped
        if glob.has_magic(escaped):
            rel = re.sub(r"\[(.)\]", r"\1", escaped)
            if glob.escape(rel) != escaped:
                raise _Decline
        if not (root / rel).is_file():
            raise _Decline
        found.add(Path(rel))
    return [p.as_posix() for p in sorted(found)]


def _legacy_license(value: dict[str, Any], root: Path) -> str:
    """The ``License`` header of ``license = {text = ...}`` or ``{file = ...}``: every line
    after the first indented under the header name, as pyproject-metadata writes it."""
    if len(value) != 1:
        raise _Decline
    text: object = None
    if "text" in value:
        text = value["text"]
    elif "file" in value and isinstance(value["file"], str) and value["file"]:
        try:
            text = (root / value["file"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise _Decline from None
    else:
        raise _Decline
    if not isinstance(text, str) or not text or not text.replace("\n", "").isprintable():
        raise _Decline
    return text.replace("\n", "\n" + " " * len("License: "))


def _people(value: object) -> tuple[list[str], list[str]]:
    """The ``Author`` names (people without an email) and the ``Author-Email`` addresses."""
    if not isinstance(value, list):
        raise _Decline
    names, emails = [], []
    for person in value:
        if not isinstance(person, dict) or not person or not {"name", "email"}.issuperset(person):
            raise _Decline
        name = _text(person["name"]) if "name" in person else None
        email = _text(person["email"]) if "email" in person else None
        if name == "" or email == "":
            raise _Decline
        if email is None:
            assert name is not None
            names.append(name)
        elif name is None:
            emails.append(email)  # PEP 621: an email alone is listed as the bare address
        elif re.search(_NEEDS_QUOTING, name):
            escaped = name.replace("\\", "\\\\").replace('"', '\\"')
            emails.append(f'"{escaped}" <{email}>')
        else:
            emails.append(f"{name} <{email}>")
    return names, emails


def _requirements(table: dict[str, Any]) -> list[tuple[str, str]]:
    dependencies = _strings(table.get("dependencies", []))
    extras = table.get("optional-dependencies", {})
    if not isinstance(extras, dict):
        raise _Decline
    if not dependencies and not extras:
        return []
    from packaging.markers import Marker
    from packaging.requirements import InvalidRequirement, Requirement

    headers: list[tuple[str, str]] = []
    try:
        headers.extend(("Requires-Dist", str(Requirement(d))) for d in dependencies)
        for extra, items in extras.items():
            if not re.fullmatch(_NAME, extra):
                raise _Decline  # pyproject-metadata warns about the name
            normal = extra.replace(".", "-").replace("_", "-").lower()
            headers.append(("Provides-Extra", normal))
            for item in _strings(items):
                requirement = Requirement(item)
                marker = f"extra == {normal!r}"
                if requirement.marker is not None:
                    # Combined as pyproject-metadata combines them: in brackets when
                    # the requirement's own marker has a top-level `or`.
                    parts = getattr(requirement.marker, "_markers", None)
                    if not isinstance(parts, list):
                        raise _Decline
                    own = f"({requirement.marker})" if "or" in parts else str(requirement.marker)
                    marker = f"{own} and {marker}"
                requirement.marker = Marker(marker)
                headers.append(("Requires-Dist", str(requirement)))
    except InvalidRequirement:
        raise _Decline from None
    return headers


def _readme(value: object, root: Path, headers: list[tuple[str, str]]) -> str:
    """The readme's text (the message body); adds its ``Description-Content-Type``."""
    if value is None:
        return ""
    filename: object
    text: object
    if isinstance(value, str):
        filename, text = value, None
        if filename.endswith(".md"):
            content_type = "text/markdown"
        elif filename.endswith(".rst"):
            content_type = "text/x-rst"
        else:
            raise _Decline
    elif isinstance(value, dict) and {"file", "text", "content-type"}.issuperset(value):
        content_type = _text(value.get("content-type"))
        filename, text = value.get("file"), value.get("text")
        if (filename is None) == (text is None):
            raise _Decline
        if text is not None and (not isinstance(text, str) or not text):
            raise _Decline
    else:
        raise _Decline
    if filename is not None:
        if not isinstance(filename, str) or not filename:
            raise _Decline
        try:
            text = (root / filename).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise _Decline from None
    assert isinstance(text, str)
    headers.append(("Description-Content-Type", _text(content_type)))
    # The email generator's line endings: "\r\n" and "\r" become "\n".
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _entry_points(value: object) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        raise _Decline
    groups = {}
    for group, entries in value.items():
        if not re.fullmatch(_GROUP, group):
            raise _Decline
        groups[group] = _table(entries)
    return groups
