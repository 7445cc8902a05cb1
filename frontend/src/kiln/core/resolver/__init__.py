"""Dependency resolution: PubGrub over PEP 440 versions, for one target environment or,
with :func:`kiln.core.resolver.universal.resolve_universal`, for all of them at once.

The entry point is :func:`kiln.core.resolver.driver.resolve`;
:func:`kiln.core.requirements_output.render_requirements_txt` turns its result into a
``requirements.txt``. Nothing here prints.

This package imports nothing: import each name from the module that defines it, so that a
command that resolves nothing loads no solver.
"""
