"""Pieces every pricing mutation module shares: ids from input, date ranges."""

from __future__ import annotations

import uuid
from datetime import date

import strawberry

from subgraphs.kit.ids import input_uuid

parse_id = input_uuid


def parse_ids(values: list[strawberry.ID] | None, field: str) -> list[uuid.UUID] | None:
    if values is None:
        return None
    return [parse_id(v, field) for v in values]


@strawberry.input(description="An inclusive range of local dates.")
class DateRangeInput:
    from_: date = strawberry.field(name="from")
    until: date


def ranges(given: list[DateRangeInput] | None) -> list[tuple[date, date]] | None:
    return None if given is None else [(r.from_, r.until) for r in given]


def stored_ranges(given: list[DateRangeInput] | None) -> list[dict[str, str]] | None:
    if given is None:
        return None
    return [{"from": r.from_.isoformat(), "until": r.until.isoformat()} for r in given]
