"""Departed trips by sales agent and month: how many, revenue, cost and profit.

A trip departed when its pickup is before `now` and it was booked and not
cancelled (status booked, confirmed, in progress or completed). Its month
is the pickup's month in the operator's time zone; the range filters the
pickup's local date. Revenue is the accepted price, cost the vehicles'
cost (vendor or fleet, from charters; unknown counts as 0 and is said so
by `uncosted`), profit revenue less cost.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from subgraphs.finance.models import CharterFact
from subgraphs.finance.service import charter_money
from subgraphs.finance.service.charter_money import BOOKED, ZERO, CharterMoney

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass
class AgentMonth:
    agent_id: uuid.UUID | None
    month: str
    trips: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    #: Trips whose vehicles' cost is not known (counted as 0).
    uncosted: int = 0

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost


def departed(charter: CharterMoney, now: datetime) -> bool:
    return (
        charter.status in BOOKED
        and charter.cancelled_at is None
        and charter.pickup_at is not None
        and charter.pickup_at < now
    )


def by_agent_and_month(
    charters: Iterable[CharterMoney], now: datetime, zone: str, start: date, end: date
) -> list[AgentMonth]:
    tz = ZoneInfo(zone)
    found: dict[tuple[uuid.UUID | None, str], AgentMonth] = {}
    for charter in charters:
        if charter.pickup_at is None or not departed(charter, now):
            continue
        local = charter.pickup_at.astimezone(tz).date()
        if not start <= local <= end:
            continue
        month = f"{local.year:04d}-{local.month:02d}"
        row = found.setdefault(
            (charter.sales_agent_id, month), AgentMonth(charter.sales_agent_id, month)
        )
        row.trips += 1
        row.revenue += charter.owed
        row.cost += charter.vehicle_cost or ZERO
        row.uncosted += charter.vehicle_cost is None
    return sorted(found.values(), key=lambda r: (str(r.agent_id or ""), r.month))


def totals(rows: Iterable[AgentMonth]) -> AgentMonth:
    out = AgentMonth(None, "")
    for row in rows:
        out.trips += row.trips
        out.revenue += row.revenue
        out.cost += row.cost
        out.uncosted += row.uncosted
    return out


async def departed_trips(
    session: AsyncSession, now: datetime, zone: str, start: date, end: date
) -> list[AgentMonth]:
    if start > end:
        raise ValueError("from is on or before to.")
    charters = await charter_money.load(
        session,
        CharterFact.status.in_(BOOKED),
        CharterFact.cancelled_at.is_(None),
        CharterFact.pickup_at < now,
    )
    return by_agent_and_month(charters, now, zone, start, end)
