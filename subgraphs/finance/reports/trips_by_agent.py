"""Departed trips by sales agent and month: count, revenue, cost and profit, with totals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import BadParameter, Table, csv_route, date_param, today
from subgraphs.finance.service import trips_by_agent as service
from subgraphs.finance.service.access import READ_RECEIVABLES_REPORTS
from subgraphs.finance.types.dashboard import User
from subgraphs.finance.types.payments import gid
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer


@strawberry.type(description="One agent's departed trips in one month (pickup's local month).")
class AgentMonthRow:
    agent_id: strawberry.ID | None = strawberry.field(
        description="The charters' sales agent; null for charters sold by nobody."
    )
    month: str = strawberry.field(description="YYYY-MM in the operator's time zone.")
    trips: int
    revenue: Money = strawberry.field(description="The accepted prices.")
    cost: Money = strawberry.field(description="The vehicles' cost (vendor or fleet).")
    profit: Money = strawberry.field(description="Revenue less cost.")
    uncosted: int = strawberry.field(description="Trips whose cost is unknown (counted as 0).")

    @strawberry.field(description="The agent, for its name (identity's User).")
    def agent(self) -> User | None:
        return User(id=self.agent_id) if self.agent_id else None

    @classmethod
    def of(cls, row: service.AgentMonth) -> AgentMonthRow:
        return cls(
            agent_id=gid(row.agent_id) if row.agent_id else None,
            month=row.month,
            trips=row.trips,
            revenue=row.revenue,
            cost=row.cost,
            profit=row.profit,
            uncosted=row.uncosted,
        )


@strawberry.type(description="Trips departed from `from` to `to`; `totals` sums the rows.")
class DepartedTripsReport:
    from_: date = strawberry.field(name="from")
    to: date
    rows: list[AgentMonthRow]
    totals: AgentMonthRow
    csv_url: str


def _range(start: date | None, end: date | None, day: date) -> tuple[date, date]:
    end = end or day
    return start or end.replace(month=1, day=1), end


@strawberry.type
class TripsByAgentQueries:
    @strawberry.field(
        extensions=[allow(*READ_RECEIVABLES_REPORTS)],
        description="Departed trips (pickup passed, not cancelled) by agent and month, pickups "
        "from `from` to `to` (default this year to date); also at "
        "/reports/departed-trips.csv. Finance staff only.",
    )
    async def departed_trips_by_agent(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> DepartedTripsReport:
        zone = info.context.settings.operator_time_zone
        start, end = _range(from_, to, today(zone))
        try:
            async with info.context.sessions() as session:
                rows = await service.departed_trips(session, datetime.now(UTC), zone, start, end)
        except ValueError as exc:
            raise BadUserInputError(str(exc)) from exc
        return DepartedTripsReport(
            from_=start,
            to=end,
            rows=[AgentMonthRow.of(r) for r in rows],
            totals=AgentMonthRow.of(service.totals(rows)),
            csv_url=f"/reports/departed-trips.csv?from={start.isoformat()}&to={end.isoformat()}",
        )


async def _table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    zone = request.app.state.services.settings.operator_time_zone
    end = date_param(request, "to", today(zone))
    start = date_param(request, "from", end.replace(month=1, day=1))
    try:
        rows = await service.departed_trips(session, datetime.now(UTC), zone, start, end)
    except ValueError as exc:
        raise BadParameter(str(exc)) from exc
    t = service.totals(rows)
    return Table(
        filename=f"departed-trips-{start.isoformat()}-{end.isoformat()}.csv",
        header=["agent_id", "month", "trips", "revenue", "cost", "profit", "uncosted"],
        rows=[
            *(
                [r.agent_id or "", r.month, r.trips, r.revenue, r.cost, r.profit, r.uncosted]
                for r in rows
            ),
            ["TOTAL", "", t.trips, t.revenue, t.cost, t.profit, t.uncosted],
        ],
    )


routes = [csv_route("/reports/departed-trips.csv", _table, READ_RECEIVABLES_REPORTS)]
