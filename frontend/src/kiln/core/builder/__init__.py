"""Building sdists and wheels: the library behind ``kiln build``.

``frontend.build_project`` is the entry point. It reads ``[build-system]``
(``project``), calls kiln_build in-process when it can (``fastpath``) and
otherwise runs the backend in an isolated environment (``isolated``) taken from a
cache of reusable build environments (``envcache``). Nothing here prints: progress
goes to a ``Reporter`` and failures are raised as ``KilnError``.
"""
