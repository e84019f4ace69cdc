"""What the custom scalars accept on the wire: exact money and unambiguous time.

Money travels as a string so no JSON parser turns it into a float; a value
with more than two decimal places is refused rather than silently rounded.
DateTime requires an explicit offset: a naive time is ambiguous for a
business that crosses time zones.

The subgraphs' Strawberry scalars (`subgraphs/kit/scalars.py`) parse with
these functions, and the router checks a client's inputs with the same ones
(`INPUT_RULES`), so both refuse exactly the same values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_MONEY_RE = re.compile(r"^-?\d{1,10}(\.\d{1,2})?$")
CENT = Decimal("0.01")


def parse_money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | Decimal):
        raise ValueError('Money must be a string such as "1250.00", not a number.')
    text = str(value).strip()
    if not _MONEY_RE.match(text):
        raise ValueError(f"Money {text!r} is not an amount with at most two decimal places.")
    try:
        return Decimal(text).quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - the regex rules it out
        raise ValueError(f"Money {text!r} is not a number.") from exc


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string with an offset.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"DateTime {value!r} is not ISO 8601.") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"DateTime {value!r} needs an offset such as Z or +02:00.")
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError("Date must be an ISO 8601 string such as 2026-05-31.")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"Date {value!r} is not an ISO 8601 date.") from exc


#: Each wire scalar's input rule by its GraphQL name, for whoever checks inputs
#: before a subgraph sees them (the router validates the client's document and
#: variables with them, so an error points into the client's own document).
INPUT_RULES: dict[str, Callable[[Any], object]] = {
    "Money": parse_money,
    "DateTime": parse_datetime,
    "Date": parse_date,
}
