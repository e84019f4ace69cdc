"""Values read late: row-backed types read a field on first access; pages encode and count late."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry

from subgraphs.kit.pagination import (
    KeysetEdge,
    PageInfo,
    UncountedConnection,
    decode_cursor,
    encode_cursor,
)
from subgraphs.kit.row_views import RowBacked, back_by_rows
from subgraphs.kit.schema import build_schema


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@dataclass
class Row:
    id: int
    name: str
    shade: str
    note: str | None


@strawberry.type
class Paint(RowBacked):
    id: strawberry.ID
    name: str
    shade: Shade
    note: str | None
    _row: strawberry.Private[Any]

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


CONVERTED: list[str] = []


def _id(row: Row) -> str:
    CONVERTED.append("id")
    return f"Paint:{row.id}"


back_by_rows(Paint, {"id": _id, "shade": lambda row: Shade(row.shade)})


@strawberry.type
class Query:
    @strawberry.field
    def paints(self) -> list[Paint]:
        return [
            Paint.of_row(Row(1, "ochre", "light", None)),
            Paint.of_row(Row(2, "umber", "dark", "x")),
        ]


SCHEMA = build_schema(Query)


def test_a_field_is_converted_on_first_read_and_kept() -> None:
    CONVERTED.clear()
    paint = Paint.of_row(Row(7, "ochre", "dark", None))
    assert CONVERTED == []  # nothing converted until asked for
    assert paint.id == "Paint:7"
    assert paint.id == "Paint:7"
    assert CONVERTED == ["id"]  # once
    assert paint.shade is Shade.DARK
    assert paint.name == "ochre"
    assert paint.note is None


def test_it_equals_the_same_object_built_by_its_init() -> None:
    row = Row(3, "sienna", "light", "warm")
    built = Paint(id="Paint:3", name="sienna", shade=Shade.LIGHT, note="warm", _row=row)
    assert Paint.of_row(row) == built


def test_a_name_that_is_neither_a_column_nor_converted_is_an_attribute_error() -> None:
    paint = Paint.of_row(Row(1, "a", "light", None))
    with pytest.raises(AttributeError, match="no attribute 'colour'"):
        _ = paint.colour  # type: ignore[attr-defined]
    assert not hasattr(paint, "colour")


def test_conversions_must_name_plain_fields() -> None:
    with pytest.raises(ValueError, match=r"no plain fields \['shout'\]"):
        back_by_rows(Paint, {"shout": lambda row: row.name})


async def test_a_row_backed_type_answers_through_the_schema() -> None:
    result = await SCHEMA.execute("{ paints { id name shade note shout } }")
    assert result.errors is None
    assert result.data == {
        "paints": [
            {"id": "Paint:1", "name": "ochre", "shade": "LIGHT", "note": None, "shout": "OCHRE"},
            {"id": "Paint:2", "name": "umber", "shade": "DARK", "note": "x", "shout": "UMBER"},
        ]
    }


def test_a_keyset_edge_encodes_its_cursor_when_read() -> None:
    edge = KeysetEdge("node", ("2026-12-01T10:00:00+00:00", 5))
    assert edge.node == "node"
    assert edge.cursor == encode_cursor(["2026-12-01T10:00:00+00:00", 5])
    assert decode_cursor(edge.cursor, 2) == ["2026-12-01T10:00:00+00:00", 5]


def test_a_page_read_without_its_count_refuses_to_make_one_up() -> None:
    page = UncountedConnection(
        [KeysetEdge("node", (1,))],
        PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None),
    )
    assert [edge.node for edge in page.edges] == ["node"]
    with pytest.raises(RuntimeError, match="without its count"):
        _ = page.total_count
