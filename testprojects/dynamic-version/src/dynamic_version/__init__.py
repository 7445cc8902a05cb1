"""Docstring first."""

import os

__version__ = "2.3.4"

if os.environ.get("NEVER_SET_BY_TESTS"):
    raise RuntimeError("the backend must not import the module")
