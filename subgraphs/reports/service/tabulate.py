"""From the graph's rows to a report's table: columns, groups, exact aggregates, totals.

Money arrives as strings (the `Money` scalar) and is summed as `Decimal`,
never as floats, so a report's totals agree with the ledger to the cent.
When a template groups, the groups are the rows (group columns, then one
column per aggregation); totals are always over every row, never over the
groups (an average of averages would be wrong).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

FUNCTIONS = ("sum", "count", "average", "min", "max")
CENTS = Decimal("0.01")
#: Averages of plain numbers keep more places than money's cents (rates, ratios).
NUMBER_PLACES = Decimal("0.0001")
_KEY = re.compile(r"^(\w+)\((.*)\)$")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    format: str = "text"

    def as_json(self) -> dict[str, str]:
        return {"key": self.key, "label": self.label, "format": self.format}


@dataclass(slots=True)
class Table:
    """What a run keeps: JSON-ready columns, rows (lists in column order) and totals by key."""

    columns: list[Column]
    rows: list[list[Any]]
    totals: dict[str, Any] = field(default_factory=dict)


def aggregate_key(function: str, column: str) -> str:
    return f"{function.lower()}({column})"


def split_aggregate_key(key: str) -> tuple[str, str] | None:
    """(function, column) of an aggregate's key; None for a plain column's key."""
    found = _KEY.match(key)
    if found is None or found[1] not in FUNCTIONS:
        return None
    return found[1], found[2]


def value_at(row: Any, path: str) -> Any:
    """The value at a dot path, `None` where anything on the way is missing.

    A list on the way (a nested list field) maps the rest of the path over
    its items, so the cell holds their values as a list.
    """
    value = row
    parts = path.split(".") if path else []
    for i, part in enumerate(parts):
        if value is None:
            return None
        if isinstance(value, list):
            rest = ".".join(parts[i:])
            return [value_at(item, rest) for item in value]
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def as_decimal(value: Any) -> Decimal | None:
    """An exact number of a cell, or None for a null or anything not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _out(number: Decimal | None, money: bool, textual: bool) -> Any:
    """A Decimal as JSON: money as a 2-place string; other numbers exact where they came as text."""
    if number is None:
        return None
    if money:
        return str(number.quantize(CENTS, rounding=ROUND_HALF_UP))
    if textual:
        return str(number)
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def aggregate(function: str, values: Iterable[Any], money: bool) -> Any:
    """One aggregate over a column's cells; nulls count for nothing (COUNT counts non-nulls)."""
    function = function.lower()
    cells = [v for v in values if v is not None]
    if function == "count":
        return len(cells)
    numbers = [n for n in (as_decimal(v) for v in cells) if n is not None]
    textual = any(isinstance(v, str) for v in cells)
    if function == "sum":
        return _out(sum(numbers, Decimal(0)), money, textual)
    if not numbers:
        return None
    if function == "min":
        return _out(min(numbers), money, textual)
    if function == "max":
        return _out(max(numbers), money, textual)
    if function == "average":
        mean = sum(numbers, Decimal(0)) / len(numbers)
        places = CENTS if money else NUMBER_PLACES
        return _out(mean.quantize(places, rounding=ROUND_HALF_UP), money, textual)
    raise ValueError(f"unknown aggregation function {function!r}")


def _group_key(values: Sequence[Any]) -> str:
    return json.dumps(list(values), sort_keys=True, default=str)


def tabulate(
    rows: Sequence[Any],
    columns: Sequence[Mapping[str, Any]],
    group_by: Sequence[str] = (),
    aggregations: Sequence[Mapping[str, Any]] = (),
) -> Table:
    """The table of a template's rows (`columns`, `group_by`, `aggregations` as the template stores them)."""
    defined = [
        Column(str(c["path"]), str(c.get("label") or c["path"]), str(c.get("format") or "text"))
        for c in columns
    ]
    by_key = {c.key: c for c in defined}
    cells = [[value_at(row, c.key) for c in defined] for row in rows]
    index = {c.key: i for i, c in enumerate(defined)}

    def column_values(members: Sequence[list[Any]], key: str) -> list[Any]:
        if key in index:
            return [m[index[key]] for m in members]
        return [value_at(row, key) for row in rows]  # not a column: read from the rows

    aggs = [(str(a["function"]).lower(), str(a["column"])) for a in aggregations]
    agg_columns = []
    for function, column in aggs:
        source = by_key.get(column, Column(column, column))
        fmt = "number" if function == "count" else source.format
        agg_columns.append(
            Column(aggregate_key(function, column), f"{source.label} ({function})", fmt)
        )

    def money(column: str) -> bool:
        return by_key.get(column, Column(column, column)).format == "money"

    totals = {
        aggregate_key(function, column): aggregate(
            function, column_values(cells, column), money(column)
        )
        for function, column in aggs
    }
    if not group_by:
        return Table(columns=defined, rows=cells, totals=totals)

    groups: dict[str, list[list[Any]]] = {}
    heads: dict[str, list[Any]] = {}
    for row in cells:
        head = [row[index[g]] if g in index else None for g in group_by]
        key = _group_key(head)
        if key not in groups:
            groups[key] = []
            heads[key] = head
        groups[key].append(row)
    group_columns = [by_key.get(g, Column(g, g)) for g in group_by]
    table_rows = [
        [
            *heads[key],
            *(
                aggregate(function, [m[index[column]] for m in members], money(column))
                if column in index
                else None
                for function, column in aggs
            ),
        ]
        for key, members in groups.items()
    ]
    return Table(columns=[*group_columns, *agg_columns], rows=table_rows, totals=totals)


def totals_row(columns: Sequence[Mapping[str, Any]], totals: Mapping[str, Any]) -> list[Any]:
    """The "Total" line under a table, one cell per column; both downloads print this one.

    A grouped table's aggregate columns carry their own totals; an ungrouped
    table's totals sit under the column they aggregate (several on one
    column: "sum 10.00; average 2.50").
    """
    cells: list[Any] = [None] * len(columns)
    for i, column in enumerate(columns):
        key = str(column["key"])
        if key in totals:
            cells[i] = totals[key]
            continue
        under = [
            (parts[0], value)
            for total_key, value in totals.items()
            if (parts := split_aggregate_key(total_key)) is not None and parts[1] == key
        ]
        if len(under) == 1:
            cells[i] = under[0][1]
        elif under:
            cells[i] = "; ".join(f"{fn} {'' if v is None else v}" for fn, v in under)
    if cells and cells[0] is None:
        cells[0] = "Total"
    return cells
