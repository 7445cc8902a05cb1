"""Direct references (``name @ url``): the one file a URL names for a package, with its
metadata (read from a wheel, or obtained by building anything else). A package can come
from one URL only in a resolution."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from packaging.utils import InvalidWheelFilename, NormalizedName, parse_wheel_filename

from kiln.core.types import DistFile, PackageSource
from kiln.errors import KilnError

if TYPE_CHECKING:
    from packaging.metadata import Metadata

    from kiln.core.resolver.provider import MetadataBuilder


class DirectReference(NamedTuple):
    file: DistFile
    metadata: Metadata


class DirectReferences:
    """The direct references met so far, by name."""

    def __init__(self, source: PackageSource, builder: MetadataBuilder | None) -> None:
        self.source = source
        self.builder = builder
        self.by_name: dict[NormalizedName, DirectReference] = {}

    def __contains__(self, name: NormalizedName) -> bool:
        return name in self.by_name

    def get(self, name: NormalizedName) -> DirectReference | None:
        return self.by_name.get(name)

    def register(self, name: NormalizedName, url: str) -> tuple[DirectReference, bool]:
        """The reference of ``name`` to ``url``, and whether it is new. Raises
        :class:`KilnError` when ``name`` was already required from another URL."""
        direct = self.by_name.get(name)
        if direct is None:
            direct = self.by_name[name] = self._load(name, url)
            return direct, True
        if direct.file.url != url:
            raise KilnError(
                f"conflicting URLs for `{name}`: `{direct.file.url}` and `{url}`",
                hint="require each package from one URL only",
            )
        return direct, False

    def _load(self, name: NormalizedName, url: str) -> DirectReference:
        filename = url.split("#", 1)[0].rsplit("/", 1)[-1]
        if filename.endswith(".whl"):
            try:
                wheel_name, version, _, tags = parse_wheel_filename(filename)
            except InvalidWheelFilename as exc:
                raise KilnError(f"invalid wheel URL for `{name}`: {exc}") from None
            if wheel_name != name:
                raise KilnError(f"the wheel `{filename}` is for `{wheel_name}`, not for `{name}`")
            file = DistFile(name, version, filename, url, tags=tags)
            return DirectReference(file, self.source.metadata(file))
        if self.builder is None:
            raise KilnError(
                f"cannot read the metadata of `{name} @ {url}` without building it",
                hint="direct references to source archives, repositories and directories "
                "need a metadata builder",
            )
        file, metadata = self.builder.direct_reference(name, url)
        return DirectReference(file, metadata)
