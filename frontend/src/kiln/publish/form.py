"""The text fields of a legacy-API upload (``:action=file_upload``), from core metadata.

Every core metadata field is sent under the upload API's name for it: the
``packaging.metadata`` key, with the plural list keys made singular (``platform``,
``supported_platform``, ``license_file``), ``keywords`` joined with commas and each
project URL as ``Label, URL``.
"""

from __future__ import annotations

from collections.abc import Mapping

from packaging.metadata import RawMetadata

from kiln.publish.files import DistFilename

_FIELD_NAMES = {
    "platforms": "platform",
    "supported_platforms": "supported_platform",
    "license_files": "license_file",
}


def form_fields(
    dist: DistFilename, metadata: RawMetadata, digests: Mapping[str, str]
) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("filetype", dist.filetype),
        ("pyversion", dist.pyversion),
    ]
    fields.extend((f"{algorithm}_digest", value) for algorithm, value in sorted(digests.items()))
    for key, value in metadata.items():
        name = _FIELD_NAMES.get(key, key)
        if key == "keywords" and isinstance(value, list):
            fields.append((name, ",".join(value)))
        elif key == "project_urls" and isinstance(value, dict):
            fields.extend((name, f"{label}, {url}") for label, url in value.items())
        elif isinstance(value, list):
            fields.extend((name, str(item)) for item in value)
        elif isinstance(value, str):
            fields.append((name, value))
    if "requires_python" not in metadata:
        fields.append(("requires_python", ""))  # some servers (GitLab) require the field
    return fields
