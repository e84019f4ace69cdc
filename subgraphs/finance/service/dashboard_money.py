"""An agent's money figures for the dashboard: booked revenue and profit this month, non-card due.

- Booked revenue month to date: the accepted prices of the agent's charters
  booked this month (quote accepted from the first of the month, operator's
  time zone, until now) and still booked (not cancelled).
- Profit month to date: those charters' accepted prices less their
  vehicles' cost (vendor or fleet; an unknown cost counts as 0).
- Non-card money due: what is due now (instalments due by today not covered
  by payments, as `Charter.balance.due`) on the agent's booked charters
  whose client keeps no card on file: money the agent must chase because
  no card can be charged for it.

The first two are `service/revenue.py`'s month to date, the same function
that answers `Charter.profit` and the operator's `revenueMonthToDate`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from subgraphs.finance.models import CharterFact, SavedPaymentMethod
from subgraphs.finance.service import charter_money, revenue
from subgraphs.finance.service.charter_money import BOOKED, ZERO, CharterMoney

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class AgentMoney:
    booked_revenue: Decimal = ZERO
    profit: Decimal = ZERO
    non_card_due: Decimal = ZERO


def figures(
    charters: Iterable[CharterMoney],
    card_clients: set[uuid.UUID],
    now: datetime,
    zone: str,
) -> dict[uuid.UUID, AgentMoney]:
    today = now.astimezone(ZoneInfo(zone)).date()
    bookings: dict[uuid.UUID, list[revenue.Booking]] = {}
    due: dict[uuid.UUID, Decimal] = {}
    for c in charters:
        if c.sales_agent_id is None or c.status not in BOOKED:
            continue
        bookings.setdefault(c.sales_agent_id, []).append(
            revenue.Booking(c.status, c.owed, c.vehicle_cost, c.accepted_at)
        )
        due.setdefault(c.sales_agent_id, ZERO)
        if c.client_id not in card_clients:
            due[c.sales_agent_id] += charter_money.cover(c, today).due
    out: dict[uuid.UUID, AgentMoney] = {}
    for agent, mine in bookings.items():
        month = revenue.month_to_date(mine, now, zone)
        out[agent] = AgentMoney(month.price, month.profit, due[agent])
    return out


async def agent_money(
    session: AsyncSession, agents: Sequence[uuid.UUID], now: datetime, zone: str
) -> dict[uuid.UUID, AgentMoney]:
    """Every agent's figures in four statements, however many agents are asked for."""
    charters = await charter_money.load(
        session,
        CharterFact.sales_agent_id.in_(agents),
        CharterFact.status.in_(BOOKED),
        CharterFact.accepted_total.is_not(None),
    )
    clients = {c.client_id for c in charters if c.client_id is not None}
    card_clients = set(
        (
            await session.scalars(
                select(SavedPaymentMethod.client_id)
                .where(SavedPaymentMethod.client_id.in_(clients), SavedPaymentMethod.kind == "card")
                .distinct()
            )
        ).all()
    )
    found = figures(charters, card_clients, now, zone)
    return {agent: found.get(agent, AgentMoney()) for agent in agents}
