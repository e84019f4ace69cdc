"""Unearned revenue: money received for trips not yet departed, by charter, with a total."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import Table, csv_route
from subgraphs.finance.service import unearned_revenue as service
from subgraphs.finance.service.access import READ_RECEIVABLES_REPORTS
from subgraphs.finance.types.payments import gid
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer
    from subgraphs.finance.service.charter_money import CharterMoney


@strawberry.type(description="A charter not yet departed and the money received for it.")
class UnearnedRow:
    charter_id: strawberry.ID
    reference: str | None
    client_id: strawberry.ID | None
    client_name: str
    pickup_at: datetime | None
    owed: Money = strawberry.field(description="The accepted price.")
    received: Money = strawberry.field(description="Applied to it so far, refunds negative.")

    @classmethod
    def of(cls, c: CharterMoney) -> UnearnedRow:
        return cls(
            charter_id=gid(c.charter_id),
            reference=c.reference,
            client_id=gid(c.client_id) if c.client_id else None,
            client_name=c.client_name,
            pickup_at=c.pickup_at,
            owed=c.owed,
            received=c.paid,
        )


@strawberry.type(description="Money received for charters picking up after `asOf`.")
class UnearnedRevenueReport:
    as_of: datetime
    rows: list[UnearnedRow]
    total: Money = strawberry.field(description="The sum of the rows' `received`.")
    csv_url: str


@strawberry.type
class UnearnedRevenueQueries:
    @strawberry.field(
        extensions=[allow(*READ_RECEIVABLES_REPORTS)],
        description="Unearned revenue now: received for charters not cancelled whose pickup is "
        "still ahead; also at /reports/unearned-revenue.csv. Finance staff only.",
    )
    async def unearned_revenue(self, info: Info) -> UnearnedRevenueReport:
        now = datetime.now(UTC)
        async with info.context.sessions() as session:
            rows = await service.unearned_revenue(session, now)
        return UnearnedRevenueReport(
            as_of=now,
            rows=[UnearnedRow.of(r) for r in rows],
            total=service.total(rows),
            csv_url="/reports/unearned-revenue.csv",
        )


async def _table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    now = datetime.now(UTC)
    rows = await service.unearned_revenue(session, now)
    return Table(
        filename=f"unearned-revenue-{now.date().isoformat()}.csv",
        header=["charter_id", "reference", "client_id", "client", "pickup_at", "owed", "received"],
        rows=[
            *(
                [
                    r.charter_id,
                    r.reference or "",
                    r.client_id or "",
                    r.client_name,
                    r.pickup_at.isoformat() if r.pickup_at else "",
                    r.owed,
                    r.paid,
                ]
                for r in rows
            ),
            ["", "TOTAL", "", f"{len(rows)} charters", "", "", service.total(rows)],
        ],
    )


routes = [csv_route("/reports/unearned-revenue.csv", _table, READ_RECEIVABLES_REPORTS)]
