"""Keeping secrets out of everything ``kiln publish`` shows (see :mod:`kiln.core.index.redact`)."""

from __future__ import annotations

from kiln.core.index.redact import MASK, scrub, split_userinfo
from kiln.core.index.redact import redact as redact_url

__all__ = ["MASK", "redact_url", "scrub", "split_userinfo"]
