"""kiln: a Python packaging tool."""

__version__ = "0.1.0"
