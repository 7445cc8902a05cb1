"""Plain classes that hold values: their repr, equality and hash, written once.

kiln's value records are ``typing.NamedTuple`` classes where they can be. Some cannot: a
field named like a tuple method (``index``), a ``cached_property``, a class that is one
variant of a union and must never equal another variant or a tuple, or an object that is
filled in after it is made. Those are plain classes with ``__slots__`` (where there is no
``cached_property``) and an explicit ``__init__``; they name their fields in ``_fields`` and
take what they need from here:

* :class:`Shown`: a repr in the form ``Name(field=value, ...)``, as a dataclass prints, and
  :meth:`~Shown.replace` for a changed copy (``_fields`` must then name every parameter of
  the constructor);
* :class:`Record`: that repr, and equality with an instance of exactly the same class whose
  fields are equal, and a hash of the fields (a class whose fields may be unhashable sets
  ``__hash__ = None``).

No ``dataclasses``: on Python 3.11, creating a dataclass costs about half a millisecond (its
methods are generated and compiled), and importing the module, which loads ``inspect`` and
``ast``, about seven, so a command that made the classes it meets dataclasses would start
tens of milliseconds later. The hottest classes (the solver's terms and ranges, the marker
algebra's values) keep their own comparisons, written for speed.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, cast

S = TypeVar("S", bound="Shown")


class Shown:
    """A repr of the fields named in ``_fields``, in that order."""

    __slots__ = ()
    #: The names of the fields, in the order of the constructor's parameters.
    _fields: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({values})"

    def replace(self: S, **changes: object) -> S:
        """A copy made by the constructor, with the fields named in ``changes`` set to
        their values (what ``dataclasses.replace`` does); an unknown name is a ``TypeError``.
        Cached properties are computed afresh for the copy."""
        unknown = changes.keys() - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(unknown))}")
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return cast(Any, type(self))(**values)  # type: ignore[no-any-return]


class Record(Shown):
    """Compared and hashed by the fields named in ``_fields``, and only with instances of
    exactly the same class (never a subclass, another record or a tuple of the same items)."""

    __slots__ = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))
