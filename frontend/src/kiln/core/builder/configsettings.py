"""Parsing ``-C KEY=VALUE`` options into the PEP 517 ``config_settings`` dict."""

from __future__ import annotations

from collections.abc import Iterable

from kiln.errors import KilnError

ConfigSettings = dict[str, "str | list[str]"]


def parse_config_settings(items: Iterable[str]) -> ConfigSettings:
    """Split each item on its first ``=``; a key given more than once collects a list."""
    settings: ConfigSettings = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise KilnError(
                f"invalid config setting `{item}`: expected `KEY=VALUE`",
            )
        value = value.strip()
        previous = settings.get(key)
        if previous is None:
            settings[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            settings[key] = [previous, value]
    return settings
