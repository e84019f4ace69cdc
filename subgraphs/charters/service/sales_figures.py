"""Charters' part of the sales agent dashboard: open quotes and coming departures.

Sales owns `User.salesDashboard`, but these figures are charters' facts, so
charters contributes them to the same `User` entity (issue 10, section 6).
Each figure is one GROUP BY over `sales_agent_id` for every agent asked
about, so a manager's cross-agent table costs the same for 2 agents or 50.

- open quotes: the agent's charters still in QUOTE status whose pickup has
  not passed (a quote for a trip already gone can no longer be booked;
  the same notion as `Query.openQuotes`);
- upcoming departures: the agent's BOOKED or CONFIRMED charters picking up
  from now until `days` days from now.

Templates are not trips and count nowhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, select

from subgraphs.charters.models import Charter

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Statuses of a sold trip that will still leave.
DEPARTING = ("booked", "confirmed")
#: `upcomingDepartureCount(days:)` bounds; 7 is the dashboard's default.
DEFAULT_DAYS = 7
MIN_DAYS, MAX_DAYS = 1, 31


async def _count_by_agent(
    session: AsyncSession, agent_ids: Iterable[uuid.UUID], *conditions: ColumnElement[bool]
) -> dict[uuid.UUID, int]:
    agents = sorted(set(agent_ids))
    if not agents:
        return {}
    rows = await session.execute(
        select(Charter.sales_agent_id, func.count())
        .where(Charter.sales_agent_id.in_(agents), Charter.is_template.is_(False), *conditions)
        .group_by(Charter.sales_agent_id)
    )
    found = {agent: int(n) for agent, n in rows.all() if agent is not None}
    return {agent: found.get(agent, 0) for agent in agents}


async def open_quote_counts(
    session: AsyncSession, agent_ids: Iterable[uuid.UUID], *, now: datetime
) -> dict[uuid.UUID, int]:
    """Each agent's open quotes at `now`."""
    return await _count_by_agent(
        session, agent_ids, Charter.status == "quote", Charter.pickup_at >= now
    )


async def upcoming_departure_counts(
    session: AsyncSession, agent_ids: Iterable[uuid.UUID], *, now: datetime, days: int
) -> dict[uuid.UUID, int]:
    """Each agent's booked or confirmed charters picking up in [now, now + days)."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"days must be between {MIN_DAYS} and {MAX_DAYS}")
    return await _count_by_agent(
        session,
        agent_ids,
        Charter.status.in_(DEPARTING),
        Charter.pickup_at >= now,
        Charter.pickup_at < now + timedelta(days=days),
    )
