"""Keeping secrets out of everything ``kiln publish`` shows (see :mod:`kiln.core.index.redaction`)."""

from __future__ import annotations

from kiln.core.index.redaction import MASK, scrub, split_userinfo
from kiln.core.index.redaction import redact as redact_url

__all__ = ["MASK", "redact_url", "scrub", "split_userinfo"]
