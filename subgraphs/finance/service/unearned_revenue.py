"""Unearned revenue: money received for trips that have not departed yet.

A charter's money is unearned until its pickup: every charter that is not
cancelled, picks up after `now` and has received money (live applications,
refunds negative) counts with what it received. A cancelled charter's money
is a fee or a refund, not revenue to earn: the cancellations report shows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from subgraphs.finance.models import CharterFact
from subgraphs.finance.service import charter_money
from subgraphs.finance.service.charter_money import ZERO, CharterMoney

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def unearned(charters: Iterable[CharterMoney], now: datetime) -> list[CharterMoney]:
    """The charters holding unearned money, earliest pickup first."""
    rows = [
        c
        for c in charters
        if c.status != "cancelled" and c.pickup_at is not None and c.pickup_at > now and c.paid > 0
    ]
    return sorted(rows, key=lambda c: (c.pickup_at, c.reference or "", str(c.charter_id)))


def total(rows: Iterable[CharterMoney]) -> Decimal:
    return sum((r.paid for r in rows), ZERO)


async def unearned_revenue(session: AsyncSession, now: datetime) -> list[CharterMoney]:
    return unearned(
        await charter_money.load(
            session, CharterFact.status != "cancelled", CharterFact.pickup_at > now
        ),
        now,
    )
