"""The index client: configuration, Simple API pages, metadata, downloads and caching.

Library code only; it never prints. Start from
:func:`kiln.core.index.locations.resolve_locations` and
:class:`kiln.core.index.source.IndexPackageSource`.

This package imports nothing: import each name from the module that defines it, so that a
command without an index loads no HTTP client code.
"""
