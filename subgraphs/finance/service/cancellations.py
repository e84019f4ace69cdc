"""Cancellations with their fees: charters cancelled in a date range, what they kept.

A charter counts when charters says it is cancelled and when (`cancelled_at`,
its local date in the operator's time zone, inside the range). Each row
shows the price it had, the fee charged, what the client had paid (live
applications, refunds negative) and the reason. A cancellation known only
from events older than the cancellation facts has no date and is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from subgraphs.finance.models import CharterFact
from subgraphs.finance.service import charter_money
from subgraphs.finance.service.charter_money import ZERO, CharterMoney

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class CancellationTotals:
    count: int
    owed: Decimal
    fees: Decimal
    paid: Decimal


def cancelled_between(
    charters: Iterable[CharterMoney], zone: str, start: date, end: date
) -> list[CharterMoney]:
    tz = ZoneInfo(zone)
    rows = [
        c
        for c in charters
        if c.status == "cancelled"
        and c.cancelled_at is not None
        and start <= c.cancelled_at.astimezone(tz).date() <= end
    ]
    return sorted(rows, key=lambda c: (c.cancelled_at, c.reference or "", str(c.charter_id)))


def totals(rows: Iterable[CharterMoney]) -> CancellationTotals:
    rows = list(rows)
    return CancellationTotals(
        count=len(rows),
        owed=sum((r.owed for r in rows), ZERO),
        fees=sum((r.cancellation_fee or ZERO for r in rows), ZERO),
        paid=sum((r.paid for r in rows), ZERO),
    )


async def cancellations(
    session: AsyncSession, zone: str, start: date, end: date
) -> list[CharterMoney]:
    if start > end:
        raise ValueError("from is on or before to.")
    tz = ZoneInfo(zone)
    # A day wider on each side in UTC; the exact local-date test is `cancelled_between`.
    low = datetime.combine(start - timedelta(days=1), time(), tz)
    high = datetime.combine(end + timedelta(days=2), time(), tz)
    charters = await charter_money.load(
        session,
        CharterFact.status == "cancelled",
        CharterFact.cancelled_at >= low,
        CharterFact.cancelled_at < high,
    )
    return cancelled_between(charters, zone, start, end)
