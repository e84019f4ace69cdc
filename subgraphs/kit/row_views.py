"""Object types whose plain fields are read from their row when first asked for.

A page of fifty charters converted every column of every charter (an id
encoded, enums looked up, a local time formatted) although a board reads
one or two of them: 8 % of the board request's CPU (issue 18). A row-backed
object is made from its row alone; a field is converted on first read and
kept, so it reads the same as an attribute set in `__init__` (resolvers,
equality and `repr` see the same values).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from strawberry.types.private import is_private


class RowBacked:
    """Mixin for a Strawberry type built with `of_row(row)` instead of its `__init__`.

    `_columns` names the plain fields that are the row's own columns, and
    `_conversions` says how each other plain field is made from the row.
    """

    _columns: ClassVar[frozenset[str]] = frozenset()
    _conversions: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}

    @classmethod
    def of_row(cls, row: Any) -> Self:
        view = cls.__new__(cls)
        view.__dict__["_row"] = row
        return view

    def __getattr__(self, name: str) -> Any:
        # Only reached for a name not set on the instance or its class.
        row = self.__dict__.get("_row")
        if row is None:
            raise AttributeError(name)
        cls = type(self)
        convert = cls._conversions.get(name)
        if convert is not None:
            value = convert(row)
        elif name in cls._columns:
            value = getattr(row, name)
        else:
            raise AttributeError(f"{cls.__name__!r} object has no attribute {name!r}")
        self.__dict__[name] = value
        return value


def back_by_rows(cls: type[RowBacked], conversions: Mapping[str, Callable[[Any], Any]]) -> None:
    """Set a Strawberry type's conversions; its other plain fields are the row's columns."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    plain = {
        field.python_name
        for field in definition.fields
        if field.base_resolver is None and not is_private(field.type)
    }
    unknown = set(conversions) - plain
    if unknown:
        raise ValueError(f"{cls.__name__} has no plain fields {sorted(unknown)}")
    cls._conversions = dict(conversions)
    cls._columns = frozenset(plain - set(conversions))
