"""Outstanding receivables by client, as a query and `/reports/outstanding-receivables.csv`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import Table, csv_route, today
from subgraphs.finance.service import outstanding_receivables as service
from subgraphs.finance.service.access import READ_RECEIVABLES_REPORTS
from subgraphs.finance.types.payments import gid
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer


@strawberry.type(description="What one client's booked charters owe, have paid and have late.")
class ClientReceivablesRow:
    client_id: strawberry.ID | None
    client_name: str
    charters: int = strawberry.field(description="Its booked charters with an accepted price.")
    owed: Money = strawberry.field(description="Their accepted prices.")
    paid: Money = strawberry.field(description="Applied to them, refunds negative.")
    outstanding: Money = strawberry.field(description="Owed less paid; a credit is negative.")
    overdue: Money = strawberry.field(
        description="The part of outstanding in instalments due before today."
    )

    @classmethod
    def of(cls, row: service.ClientReceivables) -> ClientReceivablesRow:
        return cls(
            client_id=gid(row.client_id) if row.client_id else None,
            client_name=row.client_name,
            charters=row.charters,
            owed=row.owed,
            paid=row.paid,
            outstanding=row.outstanding,
            overdue=row.overdue,
        )


@strawberry.type(description="Clients with money outstanding or overdue; totals sum the rows.")
class OutstandingReceivablesReport:
    as_of: date
    rows: list[ClientReceivablesRow]
    totals: ClientReceivablesRow
    csv_url: str


@strawberry.type
class OutstandingReceivablesQueries:
    @strawberry.field(
        extensions=[allow(*READ_RECEIVABLES_REPORTS)],
        description="Outstanding receivables by client today (operator's time zone); also at "
        "/reports/outstanding-receivables.csv. Finance staff only.",
    )
    async def outstanding_receivables(self, info: Info) -> OutstandingReceivablesReport:
        day = today(info.context.settings.operator_time_zone)
        async with info.context.sessions() as session:
            rows = await service.outstanding_receivables(session, day)
        return OutstandingReceivablesReport(
            as_of=day,
            rows=[ClientReceivablesRow.of(r) for r in rows],
            totals=ClientReceivablesRow.of(service.totals(rows)),
            csv_url="/reports/outstanding-receivables.csv",
        )


async def _table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    day = today(request.app.state.services.settings.operator_time_zone)
    rows = await service.outstanding_receivables(session, day)
    t = service.totals(rows)
    return Table(
        filename=f"outstanding-receivables-{day.isoformat()}.csv",
        header=["client_id", "client", "charters", "owed", "paid", "outstanding", "overdue"],
        rows=[
            *(
                [
                    r.client_id or "",
                    r.client_name,
                    r.charters,
                    r.owed,
                    r.paid,
                    r.outstanding,
                    r.overdue,
                ]
                for r in rows
            ),
            ["", "TOTAL", t.charters, t.owed, t.paid, t.outstanding, t.overdue],
        ],
    )


routes = [csv_route("/reports/outstanding-receivables.csv", _table, READ_RECEIVABLES_REPORTS)]
