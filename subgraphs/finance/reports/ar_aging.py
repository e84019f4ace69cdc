"""AR aging: open invoices by client and days past due, as a query and `/reports/ar-aging.csv`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import Table, csv_route, date_param, today
from subgraphs.finance.service import aging
from subgraphs.finance.service.access import WORK_FINANCE
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer


@strawberry.type(description="Amounts by days past due.")
class AgingBuckets:
    current: Money
    days_1_to_30: Money
    days_31_to_60: Money
    days_61_to_90: Money
    days_91_to_120: Money
    over_120: Money
    total: Money

    @classmethod
    def of(cls, amounts: dict[str, Decimal]) -> AgingBuckets:
        return cls(
            current=amounts["current"],
            days_1_to_30=amounts["1-30"],
            days_31_to_60=amounts["31-60"],
            days_61_to_90=amounts["61-90"],
            days_91_to_120=amounts["91-120"],
            over_120=amounts["over_120"],
            total=sum(amounts.values(), Decimal("0.00")),
        )


@strawberry.type
class AgingClientRow:
    client_id: strawberry.ID
    client_name: str
    buckets: AgingBuckets


@strawberry.type(description="Open invoices by client and by days past due on `asOf`.")
class ArAgingReport:
    as_of: date
    rows: list[AgingClientRow]
    totals: AgingBuckets
    csv_url: str


@strawberry.type
class ArAgingQueries:
    @strawberry.field(
        extensions=[allow(*WORK_FINANCE)],
        description="AR aging: every bucket sums to the total; also at /reports/ar-aging.csv.",
    )
    async def ar_aging(self, info: Info, as_of: date | None = None) -> ArAgingReport:
        day = as_of or today(info.context.settings.operator_time_zone)
        async with info.context.sessions() as session:
            rows = await aging.ar_aging(session, day)
        return ArAgingReport(
            as_of=day,
            rows=[
                AgingClientRow(
                    client_id=strawberry.ID(str(r.client_id)),
                    client_name=r.client_name,
                    buckets=AgingBuckets.of(r.amounts),
                )
                for r in rows
            ],
            totals=AgingBuckets.of(aging.totals(rows)),
            csv_url=f"/reports/ar-aging.csv?asOf={day.isoformat()}",
        )


def aging_table(kind: str, party: str, rows: list[aging.AgingRow], day: date) -> Table:
    """An aging report as a spreadsheet: one row per party, its buckets and total, then TOTAL."""
    sums = aging.totals(rows)
    return Table(
        filename=f"{kind}-{day.isoformat()}.csv",
        header=[f"{party}_id", party, *aging.BUCKETS, "total"],
        rows=[
            *(
                [r.client_id, r.client_name, *(r.amounts[b] for b in aging.BUCKETS), r.total]
                for r in rows
            ),
            ["", "TOTAL", *(sums[b] for b in aging.BUCKETS), sum(sums.values())],
        ],
    )


async def _ar_aging_table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    day = date_param(request, "asOf", today(request.app.state.services.settings.operator_time_zone))
    return aging_table("ar-aging", "client", await aging.ar_aging(session, day), day)


routes = [csv_route("/reports/ar-aging.csv", _ar_aging_table)]
