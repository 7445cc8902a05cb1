"""Dates and times as indexes, lockfiles and the command line write them (ISO 8601 /
RFC 3339), always compared in UTC."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 date and time (``Z`` or an offset; none means UTC), in UTC; ValueError
    when it is not one."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def parse_cutoff(text: str) -> datetime:
    """An ``exclude-newer`` cutoff: a date (``2024-05-01``, the start of that day in UTC) or
    a date-time; ValueError when it is neither."""
    value = text.strip()
    return parse_timestamp(value + ("T00:00:00Z" if len(value) == 10 else ""))


def format_timestamp(value: datetime) -> str:
    """A date-time in UTC as TOML and RFC 3339 write it: ``2024-05-01T12:00:00.25Z``."""
    utc = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"
