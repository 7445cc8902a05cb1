"""Installing wheels into environments, listing and uninstalling them.

This package imports nothing: import each name from the module that defines it
(``from kiln.core.install.installer import install_wheels``), so that listing installed
distributions loads no installer.
"""
