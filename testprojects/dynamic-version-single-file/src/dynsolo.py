__version__ = "0.7.0rc1"

raise RuntimeError("the backend must not import the module")
