"""Charters' report figures (issue 16 §2 and §4): the root fields reports and dashboards read.

Mounted into `Query` as `FleetCalendarQueries` is (a base class). Readers are
stated in `service/access.py`; windows are `[from, to)` instants.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from subgraphs.charters.service import qc_backlog, utilisation
from subgraphs.charters.service.access import QC_BACKLOG_READERS, UTILISATION_READERS
from subgraphs.charters.types_reports import QcBacklogConnection, VehicleUtilisation
from subgraphs.kit.cost import cost
from subgraphs.kit.errors import BadUserInputError, ServiceError
from subgraphs.kit.permissions import allow


@strawberry.type
class ReportQueries:
    @strawberry.field(
        extensions=[allow(*UTILISATION_READERS)],
        # a year of every vehicle's trips, merged per vehicle: priced as 50 objects
        directives=[cost(50)],
        description=(
            "Vehicle utilisation in [from, to) (at most 366 days): per active vehicle and per "
            "type, the hours its booked trips cover (booked, confirmed, in progress or "
            "completed charters; overlaps merged) over the window's hours less its type's "
            "blackout days (operator's time zone). Admins, managers and dispatch."
        ),
    )
    async def vehicle_utilisation(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> VehicleUtilisation:
        async with info.context.sessions() as session:
            try:
                figures = await utilisation.vehicle_utilisation(
                    session, from_, to, info.context.settings.operator_time_zone
                )
            except ServiceError as exc:
                problem = exc.problems[0]
                raise BadUserInputError(problem.message, field=problem.field) from exc
        return VehicleUtilisation.of(figures)

    @strawberry.field(
        extensions=[allow(*QC_BACKLOG_READERS)],
        description=(
            "The quality-control backlog, oldest first: open change cases (since created) and "
            "overdue open dispatch tasks (since overdue), each with its age in whole days and "
            "age bucket; `buckets` counts every kind and bucket. Admins, managers, dispatch "
            "and sales support."
        ),
    )
    async def qc_backlog(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> QcBacklogConnection:
        async with info.context.sessions() as session:
            page = await qc_backlog.backlog_page(
                session, first=first, after=after, now=datetime.now(UTC)
            )
        return QcBacklogConnection.of(page, after)
