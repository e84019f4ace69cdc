"""The Strawberry scalars every subgraph shares: exact money and unambiguous time.

What each accepts is the wire's rule (`protocol/scalars.py`), shared with the
router, which checks a client's inputs with the same functions; how each is
written back (always UTC, always two decimals) is the subgraphs' own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from protocol.scalars import CENT, parse_date, parse_datetime, parse_money


def serialize_money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the wire; store timestamptz")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


#: Annotate amounts as `Money`; plain `datetime` and `date` use ours via the map.
Money = NewType("Money", Decimal)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    Money: strawberry.scalar(
        name="Money",
        description="An exact amount of money with two decimal places, as a string.",
        serialize=serialize_money,
        parse_value=parse_money,
    ),
    datetime: strawberry.scalar(
        name="DateTime",
        description="An ISO 8601 instant with an offset; answered in UTC.",
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    ),
    date: strawberry.scalar(
        name="Date",
        description="An ISO 8601 calendar date.",
        serialize=date.isoformat,
        parse_value=parse_date,
    ),
}
