"""AP aging: what the operator owes vendors by days past due, as a query and `/reports/ap-aging.csv`.

The same buckets as AR aging, counted by the same function (`aging.age`);
every unpaid bill counts, a disputed one included (it is owed until resolved).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.ar_aging import AgingBuckets, aging_table
from subgraphs.finance.reports.common import Table, csv_route, date_param, today
from subgraphs.finance.service import aging, bills
from subgraphs.finance.service.access import WORK_FINANCE
from subgraphs.kit.permissions import allow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer


@strawberry.type
class AgingVendorRow:
    vendor_id: strawberry.ID
    vendor_name: str
    buckets: AgingBuckets


@strawberry.type(description="Unpaid vendor bills by vendor and by days past due on `asOf`.")
class ApAgingReport:
    as_of: date
    rows: list[AgingVendorRow]
    totals: AgingBuckets
    csv_url: str


@strawberry.type
class ApAgingQueries:
    @strawberry.field(
        extensions=[allow(*WORK_FINANCE)],
        description="AP aging: every bucket sums to the total; also at /reports/ap-aging.csv.",
    )
    async def ap_aging(self, info: Info, as_of: date | None = None) -> ApAgingReport:
        day = as_of or today(info.context.settings.operator_time_zone)
        async with info.context.sessions() as session:
            rows = await bills.ap_aging(session, day)
        return ApAgingReport(
            as_of=day,
            rows=[
                AgingVendorRow(
                    vendor_id=strawberry.ID(str(r.client_id)),
                    vendor_name=r.client_name,
                    buckets=AgingBuckets.of(r.amounts),
                )
                for r in rows
            ],
            totals=AgingBuckets.of(aging.totals(rows)),
            csv_url=f"/reports/ap-aging.csv?asOf={day.isoformat()}",
        )


async def _ap_aging_table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    day = date_param(request, "asOf", today(request.app.state.services.settings.operator_time_zone))
    return aging_table("ap-aging", "vendor", await bills.ap_aging(session, day), day)


routes = [csv_route("/reports/ap-aging.csv", _ap_aging_table)]
