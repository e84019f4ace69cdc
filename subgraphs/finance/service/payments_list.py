"""The payments received in a window, newest first: the payments report's rows.

A payment records the day it was received (`received_on`, the operator's
calendar day; `changePaymentDate` corrects it), not an instant, so a window
`[from, to)` of instants takes the days whose start (operator's midnight)
lies in it: a window from one midnight to another is exactly those days,
and a payment is never counted in two adjacent windows. Refunds are listed
too (negative amounts, so a column's sum nets them); failed card charges
brought in no money and are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from subgraphs.finance.models import Payment
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Without `from`, the window is the 30 days to now.
DEFAULT_DAYS = 30
#: Newest first: the received day, then when it was recorded; the id makes the order total.
NEWEST_FIRST = KeysetOrder((Payment.received_on, Payment.created_at, Payment.id), descending=True)


def first_day_from(instant: datetime, zone: str) -> date:
    """The first operator day whose midnight is at or after `instant`."""
    tz = ZoneInfo(zone)
    day = instant.astimezone(tz).date()
    return day if datetime.combine(day, time(), tz) >= instant else day + timedelta(days=1)


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The asked window with its defaults; ValueError (naming the argument) when empty."""
    end = end or now
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise ValueError("to: the window's end comes after its start.")
    return start, end


def received_between(
    start: datetime, end: datetime, zone: str, methods: Sequence[str] | None = None
) -> Select[Any]:
    """Payments and refunds whose received day starts in `[start, end)`, failed charges aside."""
    stmt = select(Payment).where(
        Payment.received_on >= first_day_from(start, zone),
        Payment.received_on < first_day_from(end, zone),
        Payment.provider_status != "failed",
    )
    if methods:
        stmt = stmt.where(Payment.method.in_(list(methods)))
    return stmt


async def payments_received(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    zone: str,
    methods: Sequence[str] | None = None,
    *,
    first: int | None = None,
    after: str | None = None,
    to_node: Callable[[Payment], Any] = lambda row: row,
) -> Connection[Any]:
    """One page of them (two statements: the page and the count)."""
    return await paginate(
        session,
        received_between(start, end, zone, methods),
        NEWEST_FIRST,
        first=first,
        after=after,
        to_node=to_node,
    )
