"""The agent dashboard's lead figures: many agents in one statement.

A manager's cross-agent table asks for every agent's dashboard at once, so
the figures are computed for a set of agents together (one GROUP BY over
the leads, conditional counts), never one query per agent.

The day and the month are the operator's (`settings.operator_time_zone`):
"today" runs from local midnight to local midnight. Follow-ups due today
and overdue count open leads only (a converted or lost lead has nothing to
follow up), split at the start of today exactly as `Query.followUpsDue`
does. The hot rule is `leads.is_hot`, said here in SQL (`hot_clause`);
tests hold the two to the same answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from subgraphs.sales.models import LEAD_STATUSES, Lead, SalesAgent
from subgraphs.sales.service.leads import HOT_MIN_PASSENGERS, HOT_WITHIN_DAYS, operator_today
from subgraphs.sales.states import OPEN_LEAD_STATUSES

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Figures:
    """One agent's lead figures (zero everywhere for an agent without leads)."""

    leads_today: int = 0
    leads_this_month: int = 0
    follow_ups_due_today: int = 0
    follow_ups_overdue: int = 0
    hot_leads: int = 0
    #: Leads per status, every status present (zero if none).
    pipeline: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEAD_STATUSES, 0))


@dataclass(frozen=True)
class Window:
    """The operator-local day and month that hold `now`, as UTC-comparable instants."""

    today: date
    day_start: datetime
    day_end: datetime
    month_start: datetime
    month_end: datetime

    @classmethod
    def at(cls, now: datetime, zone: str) -> Window:
        tz = ZoneInfo(zone)
        today = operator_today(zone, now)
        tomorrow = today + timedelta(days=1)
        first = today.replace(day=1)
        next_first = (first + timedelta(days=32)).replace(day=1)
        return cls(
            today=today,
            day_start=datetime(today.year, today.month, today.day, tzinfo=tz),
            day_end=datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=tz),
            month_start=datetime(first.year, first.month, 1, tzinfo=tz),
            month_end=datetime(next_first.year, next_first.month, 1, tzinfo=tz),
        )


def hot_clause(today: date) -> Any:
    """`leads.is_hot` as a SQL condition over `leads` (the same rule, stated for SQL)."""
    return and_(
        Lead.status.in_(sorted(OPEN_LEAD_STATUSES)),
        or_(
            Lead.marked_hot.is_(True),
            and_(
                Lead.trip_date >= today,
                Lead.trip_date <= today + timedelta(days=HOT_WITHIN_DAYS),
                func.coalesce(Lead.passengers, 0) >= HOT_MIN_PASSENGERS,
            ),
        ),
    )


async def figures(
    session: AsyncSession, agent_ids: Iterable[uuid.UUID], *, now: datetime, zone: str
) -> dict[uuid.UUID, Figures]:
    """Each agent's figures at `now`, in one statement; agents without leads get zeros."""
    agents = sorted(set(agent_ids))
    if not agents:
        return {}
    w = Window.at(now, zone)
    is_open = Lead.status.in_(sorted(OPEN_LEAD_STATUSES))

    def count(*conditions: Any) -> Any:
        return func.count().filter(and_(*conditions))

    columns = [
        count(Lead.created_at >= w.day_start, Lead.created_at < w.day_end).label("today"),
        count(Lead.created_at >= w.month_start, Lead.created_at < w.month_end).label("month"),
        count(
            is_open, Lead.next_follow_up_at >= w.day_start, Lead.next_follow_up_at < w.day_end
        ).label("due_today"),
        count(is_open, Lead.next_follow_up_at < w.day_start).label("overdue"),
        count(hot_clause(w.today)).label("hot"),
        *(count(Lead.status == s).label(f"status_{s}") for s in LEAD_STATUSES),
    ]
    stmt = select(Lead.agent_id, *columns).where(Lead.agent_id.in_(agents)).group_by(Lead.agent_id)
    found = {
        row.agent_id: Figures(
            leads_today=row.today,
            leads_this_month=row.month,
            follow_ups_due_today=row.due_today,
            follow_ups_overdue=row.overdue,
            hot_leads=row.hot,
            pipeline={s: getattr(row, f"status_{s}") for s in LEAD_STATUSES},
        )
        for row in (await session.execute(stmt)).all()
    }
    return {agent: found.get(agent, Figures()) for agent in agents}


async def team(session: AsyncSession) -> list[uuid.UUID]:
    """The known, active sales agents by name: the rows of a manager's cross-agent table."""
    rows = await session.scalars(
        select(SalesAgent.user_id)
        .where(SalesAgent.is_sales_agent.is_(True), SalesAgent.active.is_(True))
        .order_by(func.lower(SalesAgent.name), SalesAgent.user_id)
    )
    return list(rows.all())
