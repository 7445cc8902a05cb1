"""The operations behind ``kiln pip``: compile, install, sync, uninstall and listings.

Library code only: nothing here prints; progress goes through
:class:`kiln.core.operations.options.Events` callbacks and failures are
:class:`kiln.errors.KilnError`.

This package imports nothing: import each name from the module that defines it
(``from kiln.core.operations.installing import install``), so that a command loads only
the operations it runs.
"""
