"""The build service: turning a source into an sdist, a wheel or a wheel's metadata.

One service for every caller — ``kiln build``, the installer, the resolver's metadata step
and build requirements that come from sources: :class:`~.service.Builder`, a
:class:`~.service.BuildContext`. It fetches sources through one index client
(:mod:`.fetch`), calls kiln_build in-process when it can (:mod:`.fastpath`) and otherwise
runs the backend's PEP 517 hooks through pypa/build (:mod:`.hooks`) in an isolated
environment taken from a cache of reusable build environments (:mod:`.envcache`).
:mod:`.sourcebuilder` is the face the resolver and the installer see.

The package sits above the index client, the sources and the project model, and below
``kiln.core.operations``: kiln's own installer of build requirements is an operation, and
reaches the service as an :data:`~.installer.InstallerFactory`. Nothing here prints:
progress goes to a :class:`~.report.Reporter` and failures are raised as ``KilnError``.

This package imports nothing: import each name from the module that defines it.
"""
