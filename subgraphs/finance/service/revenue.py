"""Booked price, vehicle cost and profit of a set of charters: one definition for every figure.

An agent's `bookedRevenueMonthToDate` and `profitMonthToDate`, one charter's
`Charter.profit` and the operator's `revenueMonthToDate` are the same sums
over different sets of charters, so a dashboard's total and a report's rows
cannot disagree:

- a charter counts when it is booked or later (not cancelled, not a quote)
  with an accepted price;
- its price is the accepted total (pricing's accepted quote);
- its cost is its vehicles' cost (vendor or fleet); an unknown cost counts as 0;
- profit is price less cost; the margin is profit / price (4 places, half
  up), null when the price is 0;
- month to date: accepted from the 1st of the month (operator's time zone,
  midnight) until now.

`collected` is the money side of the operator's month: payments received
since the 1st, refunds netted (a refund is a negative payment), failed card
charges not counted (no money came in).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from subgraphs.finance.models import CharterFact, Payment
from subgraphs.finance.service.charter_money import BOOKED, ZERO
from subgraphs.kit.figures import ratio

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Booking:
    """What the figures read of one charter (finance's `charter_facts`)."""

    status: str
    price: Decimal | None
    cost: Decimal | None = None
    accepted_at: datetime | None = None

    @classmethod
    def of_fact(cls, fact: Any) -> Booking:
        return cls(fact.status, fact.accepted_total, fact.vehicle_cost, fact.accepted_at)


@dataclass(frozen=True)
class Revenue:
    price: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def profit(self) -> Decimal:
        return self.price - self.cost

    @property
    def margin(self) -> Decimal | None:
        return ratio(self.profit, self.price)


def counts(booking: Booking) -> bool:
    return booking.status in BOOKED and booking.price is not None


def revenue(bookings: Iterable[Booking]) -> Revenue:
    """The sums over the charters that count; the others add nothing."""
    price, cost = ZERO, ZERO
    for b in bookings:
        if counts(b):
            price += b.price or ZERO
            cost += b.cost or ZERO
    return Revenue(price, cost)


def of_charter(booking: Booking | None) -> Revenue | None:
    """One charter's figures; None for one not booked (a quote, cancelled, no price)."""
    if booking is None or not counts(booking):
        return None
    return revenue([booking])


def month_start(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_to_date(bookings: Iterable[Booking], now: datetime, zone: str) -> Revenue:
    """The charters accepted from the 1st (operator's midnight) until `now`."""
    start = month_start(now, zone)
    return revenue(
        b for b in bookings if b.accepted_at is not None and start <= b.accepted_at <= now
    )


@dataclass(frozen=True)
class MonthFigures:
    since: datetime
    booked: Revenue
    collected: Decimal


async def operator_month(session: AsyncSession, now: datetime, zone: str) -> MonthFigures:
    """The operator's month to date in two statements: the month's bookings, the money in."""
    since = month_start(now, zone)
    rows = (
        await session.execute(
            select(
                CharterFact.status,
                CharterFact.accepted_total,
                CharterFact.vehicle_cost,
                CharterFact.accepted_at,
            ).where(
                CharterFact.accepted_at >= since,
                CharterFact.accepted_at <= now,
                CharterFact.status.in_(BOOKED),
                CharterFact.accepted_total.is_not(None),
            )
        )
    ).all()
    booked = month_to_date((Booking(*row) for row in rows), now, zone)
    return MonthFigures(since, booked, await collected(session, since.date(), now, zone))


async def collected(session: AsyncSession, first_day: date, now: datetime, zone: str) -> Decimal:
    """Payments received from `first_day` to today (operator's days), refunds netted."""
    today = now.astimezone(ZoneInfo(zone)).date()
    total = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.received_on >= first_day,
            Payment.received_on <= today,
            Payment.provider_status != "failed",
        )
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class CharterProfit:
    """A charter's agent (who may read its figures) and its figures (None: not booked)."""

    sales_agent_id: uuid.UUID | None
    figures: Revenue | None


async def charter_profits(
    session: AsyncSession, charter_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CharterProfit]:
    """Each charter's figures in one statement; a charter finance never heard of is absent."""
    rows = await session.scalars(select(CharterFact).where(CharterFact.charter_id.in_(charter_ids)))
    return {
        fact.charter_id: CharterProfit(fact.sales_agent_id, of_charter(Booking.of_fact(fact)))
        for fact in rows
    }
