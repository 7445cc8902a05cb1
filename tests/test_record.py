"""`kiln.core.record`: the repr, equality, hash and changed copies of plain value classes."""

from __future__ import annotations

import pytest

from kiln.core.record import Record


class Pin(Record):
    __slots__ = ("index", "marker")
    _fields = ("index", "marker")

    def __init__(self, index: str, marker: str | None = None) -> None:
        self.index = index
        self.marker = marker


class OtherPin(Pin):
    __slots__ = ()


def test_a_record_shows_its_fields_and_equals_only_its_own_class() -> None:
    pin = Pin("cpu", "sys_platform == 'linux'")
    assert repr(pin) == "Pin(index='cpu', marker=\"sys_platform == 'linux'\")"
    assert pin == Pin("cpu", "sys_platform == 'linux'")
    assert hash(pin) == hash(Pin("cpu", "sys_platform == 'linux'"))
    assert pin != OtherPin("cpu", "sys_platform == 'linux'")
    assert pin != ("cpu", "sys_platform == 'linux'")


def test_replace_changes_the_named_fields_and_refuses_unknown_ones() -> None:
    pin = Pin("cpu", "sys_platform == 'linux'")
    assert pin.replace(index="gpu") == Pin("gpu", "sys_platform == 'linux'")
    assert pin == Pin("cpu", "sys_platform == 'linux'")
    with pytest.raises(TypeError, match="Pin has no field colour"):
        pin.replace(colour="blue")
