"""Validating distribution files before anything is sent, as `twine check` does and more.

Every file is read completely: the archive must be readable, its core metadata must
parse and validate (``packaging.metadata``), its name and version must match the file
name, and its long description must render for its content type.
"""

from __future__ import annotations

from packaging.metadata import Metadata, RawMetadata, parse_email
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.publish.archive import ArchiveError, read_metadata
from kiln.publish.description import check_description
from kiln.publish.files import DistFilename


class CheckedFile:
    """What validating one file found; a plain class, as ``check_file`` fills it in bit by bit."""

    __slots__ = ("dist", "errors", "metadata", "warnings")

    def __init__(
        self,
        dist: DistFilename,
        metadata: RawMetadata | None = None,
        errors: list[str] | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.dist = dist
        #: The parsed core metadata; None when it could not be read at all.
        self.metadata = metadata
        self.errors: list[str] = [] if errors is None else errors
        self.warnings: list[str] = [] if warnings is None else warnings

    @property
    def ok(self) -> bool:
        return not self.errors


def check_file(dist: DistFilename) -> CheckedFile:
    result = CheckedFile(dist)
    source = "METADATA" if dist.is_wheel else "PKG-INFO"
    try:
        text = read_metadata(dist.path, is_wheel=dist.is_wheel)
    except ArchiveError as exc:
        result.errors.append(str(exc))
        return result
    raw, unparsed = parse_email(text)
    for key in sorted(unparsed):
        result.errors.append(f"{source}: field `{key}` is unknown or malformed")
    result.errors.extend(f"{source}: {message}" for message in _validation_errors(raw))
    result.errors.extend(_identity_errors(dist, raw, source))
    description = check_description(raw.get("description"), raw.get("description_content_type"))
    result.errors.extend(description.errors)
    result.warnings.extend(description.warnings)
    result.metadata = raw
    return result


def _validation_errors(raw: RawMetadata) -> list[str]:
    try:
        Metadata.from_raw(raw, validate=True)
    except Exception as exc:  # packaging raises an ExceptionGroup of InvalidMetadata
        inner = getattr(exc, "exceptions", None)
        if isinstance(inner, (list, tuple)):
            return [str(e) for e in inner]
        return [str(exc)]
    return []


def _identity_errors(dist: DistFilename, raw: RawMetadata, source: str) -> list[str]:
    name, version = raw.get("name"), raw.get("version")
    if not name or not version:
        return []  # already reported as missing by the validation
    errors: list[str] = []
    if canonicalize_name(name) != dist.name:
        errors.append(
            f"the file name says the project is `{dist.name}` but {source} says `Name: {name}`"
        )
    try:
        same_version = Version(version) == dist.version
    except InvalidVersion:
        return errors  # already reported by the validation
    if not same_version:
        errors.append(
            f"the file name says version `{dist.version}` but {source} says `Version: {version}`"
        )
    return errors
