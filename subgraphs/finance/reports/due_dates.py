"""Upcoming payment due dates: uncovered plan instalments due in the next N days."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import BadParameter, Table, csv_route, today
from subgraphs.finance.service import due_dates as service
from subgraphs.finance.service.access import READ_RECEIVABLES_REPORTS
from subgraphs.finance.types.payments import gid
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer


@strawberry.type(description="One plan instalment falling due soon, and what of it is unpaid.")
class UpcomingDueRow:
    charter_id: strawberry.ID
    reference: str | None
    client_id: strawberry.ID | None
    client_name: str
    pickup_at: datetime | None
    kind: str = strawberry.field(description="deposit, balance or instalment.")
    due_on: date
    amount: Money = strawberry.field(description="The instalment's amount.")
    unpaid: Money = strawberry.field(description="What payments leave uncovered of it.")

    @classmethod
    def of(cls, row: service.UpcomingDue) -> UpcomingDueRow:
        c = row.charter
        return cls(
            charter_id=gid(c.charter_id),
            reference=c.reference,
            client_id=gid(c.client_id) if c.client_id else None,
            client_name=c.client_name,
            pickup_at=c.pickup_at,
            kind=row.instalment.kind,
            due_on=row.instalment.due_on,
            amount=row.instalment.amount,
            unpaid=row.unpaid,
        )


@strawberry.type(description="Instalments due from `from` to `to` not yet paid; `total` sums them.")
class UpcomingDueDatesReport:
    from_: date = strawberry.field(name="from")
    to: date
    rows: list[UpcomingDueRow]
    total: Money
    csv_url: str


@strawberry.type
class DueDatesQueries:
    @strawberry.field(
        extensions=[allow(*READ_RECEIVABLES_REPORTS)],
        description="Unpaid plan instalments due from today to `days` days ahead (0 to "
        f"{service.MAX_DAYS}); also at /reports/upcoming-due-dates.csv. Finance staff only.",
    )
    async def upcoming_due_dates(
        self, info: Info, days: int = service.DEFAULT_DAYS
    ) -> UpcomingDueDatesReport:
        day = today(info.context.settings.operator_time_zone)
        try:
            async with info.context.sessions() as session:
                rows = await service.upcoming_due_dates(session, day, days)
        except ValueError as exc:
            raise BadUserInputError(str(exc)) from exc
        return UpcomingDueDatesReport(
            from_=day,
            to=date.fromordinal(day.toordinal() + days),
            rows=[UpcomingDueRow.of(r) for r in rows],
            total=service.total(rows),
            csv_url=f"/reports/upcoming-due-dates.csv?days={days}",
        )


async def _table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    day = today(request.app.state.services.settings.operator_time_zone)
    raw = request.query_params.get("days") or str(service.DEFAULT_DAYS)
    try:
        rows = await service.upcoming_due_dates(session, day, int(raw))
    except ValueError as exc:
        raise BadParameter(f"days is a whole number from 0 to {service.MAX_DAYS}.") from exc
    return Table(
        filename=f"upcoming-due-dates-{day.isoformat()}.csv",
        header=[
            "due_on",
            "charter_id",
            "reference",
            "client_id",
            "client",
            "kind",
            "amount",
            "unpaid",
        ],
        rows=[
            *(
                [
                    r.instalment.due_on,
                    r.charter.charter_id,
                    r.charter.reference or "",
                    r.charter.client_id or "",
                    r.charter.client_name,
                    r.instalment.kind,
                    r.instalment.amount,
                    r.unpaid,
                ]
                for r in rows
            ),
            ["", "", "TOTAL", "", f"{len(rows)} instalments", "", "", service.total(rows)],
        ],
    )


routes = [csv_route("/reports/upcoming-due-dates.csv", _table, READ_RECEIVABLES_REPORTS)]
