"""``[tool.kiln.sources]``: where a requirement comes from (path, git, URL, index, workspace).

The core never prints; failures are :class:`kiln.errors.KilnError`.
"""
