"""Dates and times as indexes, lockfiles and the command line write them (ISO 8601 /
RFC 3339), always compared in UTC."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 date and time (``Z`` or an offset; none means UTC), in UTC; ValueError
    when it is not one."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class Cutoff(NamedTuple):
    """An ``exclude-newer`` cutoff: a moment, and the span before now it was computed from
    when it was given as one (``7 days``), so that a lock can tell "a week before each run"
    from one fixed moment."""

    moment: datetime
    span: timedelta | None = None

    @property
    def key(self) -> str:
        """What identifies the cutoff across runs: the span, else the moment."""
        return format_span(self.span) if self.span is not None else format_timestamp(self.moment)


#: Units of a friendly span, in seconds; months and years vary in length and are refused.
_UNITS = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 604800),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
}
_CALENDAR = {
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "years"),
    **dict.fromkeys(("mo", "mos", "month", "months"), "months"),
}
_FRIENDLY = re.compile(r"\s*(\d+)\s*([a-z]+)\s*,?")
_ISO = re.compile(
    r"p(?:(\d+)w|(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:t(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?)?)"
)


def parse_span(text: str) -> timedelta | None:
    """A span before now, as uv takes it: friendly (``7 days``, ``24h``, ``1 week 2 days``,
    ``3 days ago``) or ISO 8601 (``P7D``, ``PT12H``, ``P1W``); None when ``text`` is not
    written as a span. ValueError for months or years, which have no fixed length."""
    value = text.strip().lower()
    if value.startswith("p"):
        match = _ISO.fullmatch(value)
        if match is None or not any(match.groups()):
            return None
        weeks, years, months, days, hours, minutes, seconds = (
            int(group) if group else 0 for group in match.groups()
        )
        if years or months:
            unit = "years" if years else "months"
            raise ValueError(f"`{text}` uses {unit}, which vary in length; use days instead")
        return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    value = value.removesuffix("ago").rstrip()
    total, position = 0, 0
    while position < len(value):
        match = _FRIENDLY.match(value, position)
        if match is None:
            return None
        number, unit = int(match.group(1)), match.group(2)
        if unit in _CALENDAR:
            raise ValueError(
                f"`{text}` uses {_CALENDAR[unit]}, which vary in length; use days instead"
            )
        if unit not in _UNITS:
            return None
        total += number * _UNITS[unit]
        position = match.end()
    return timedelta(seconds=total) if position else None


def format_span(span: timedelta) -> str:
    """``span`` in ISO 8601 (``P7D``, ``P1DT12H``)."""
    days, rest = divmod(int(span.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days or not clock else "") + (f"T{clock}" if clock else "")


#: What an ``exclude-newer`` value may be, for hints.
CUTOFF_FORMS = (
    "write a date (`2024-05-01`, the start of that day in UTC), a date-time "
    "(`2024-05-01T12:00:00Z`) or a span before now (`7 days`, `P7D`)"
)


def parse_cutoff(raw: object, now: datetime | None = None, *, span: bool = True) -> Cutoff:
    """An ``exclude-newer`` cutoff: a date (``2024-05-01``, the start of that day in UTC), a
    date-time (also a TOML one), or, with ``span``, a span before ``now``
    (:func:`parse_span`). ValueError, with a message for the user, when it is none of those
    (a package's cutoff, ``span=False``, is never a span)."""
    if isinstance(raw, datetime):
        return Cutoff(parse_timestamp(raw.isoformat()))
    text = raw if isinstance(raw, str) else ""
    found = parse_span(text)
    if found is not None:
        if not span:
            raise ValueError(f"`{raw}` is a span: a package's cutoff is a date or a date-time")
        return Cutoff((now or datetime.now(timezone.utc)) - found, found)
    value = text.strip()
    try:
        return Cutoff(parse_timestamp(value + ("T00:00:00Z" if len(value) == 10 else "")))
    except ValueError:
        raise ValueError(
            f"`{raw}` is not a date, a date-time" + (" or a span before now" if span else "")
        ) from None


def format_timestamp(value: datetime) -> str:
    """A date-time in UTC as TOML and RFC 3339 write it: ``2024-05-01T12:00:00.25Z``."""
    utc = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"
