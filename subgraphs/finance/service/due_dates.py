"""Upcoming payment due dates: plan instalments falling due soon that payments do not cover.

An instalment is upcoming when it is due from today to `days` days ahead
(in the operator's calendar) and what the charter paid, spent on its
instalments in order, leaves part of it uncovered: that part is what to
collect. Only charters that owe (booked, an accepted price) are looked at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from subgraphs.finance.service import charter_money
from subgraphs.finance.service.charter_money import ZERO, CharterMoney, Due

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_DAYS = 14
MAX_DAYS = 366


@dataclass(frozen=True)
class UpcomingDue:
    charter: CharterMoney
    instalment: Due
    unpaid: Decimal


def upcoming(charters: Iterable[CharterMoney], today: date, days: int) -> list[UpcomingDue]:
    last = today + timedelta(days=days)
    rows = []
    for charter in charters:
        coverage = charter_money.cover(charter, today)
        for due, missing in zip(charter.instalments, coverage.missing, strict=True):
            if missing > 0 and today <= due.due_on <= last:
                rows.append(UpcomingDue(charter, due, missing))
    return sorted(
        rows,
        key=lambda r: (r.instalment.due_on, r.charter.reference or "", r.instalment.sequence),
    )


def total(rows: Iterable[UpcomingDue]) -> Decimal:
    return sum((r.unpaid for r in rows), ZERO)


async def upcoming_due_dates(session: AsyncSession, today: date, days: int) -> list[UpcomingDue]:
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"days is from 0 to {MAX_DAYS}.")
    return upcoming(
        await charter_money.load(session, *charter_money.booked_with_price()), today, days
    )
