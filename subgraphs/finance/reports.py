"""The accounting reports as GraphQL types and as CSV downloads (finance staff only).

Each report is one service function (service/aging.py, ...) answered twice:
as a query for screens and as `GET /reports/<name>.csv` for spreadsheets,
with the same figures.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import strawberry
from starlette.responses import Response
from starlette.routing import Route
from strawberry.types import Info

from subgraphs.finance.service import aging
from subgraphs.finance.service.access import WORK_FINANCE
from subgraphs.kit.auth.request_viewer import problem, viewer_of
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from starlette.requests import Request

    from subgraphs.kit.context import Services


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


def _today(zone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


@strawberry.type
class ReportQueries:
    @strawberry.field(
        extensions=[allow(*WORK_FINANCE)],
        description="AR aging: every bucket sums to the total; also at /reports/ar-aging.csv.",
    )
    async def ar_aging(self, info: Info, as_of: date | None = None) -> ArAgingReport:
        day = as_of or _today(info.context.settings.operator_time_zone)
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


async def ar_aging_csv(request: Request) -> Response:
    services: Services = request.app.state.services
    viewer = await viewer_of(request, services)
    if viewer is None:
        return problem(401, "UNAUTHENTICATED", "Log in: a valid, current access token is needed.")
    if not viewer.has_any_role(*WORK_FINANCE):
        return problem(403, "FORBIDDEN", "Reports are for finance staff.")
    raw = request.query_params.get("asOf")
    try:
        day = date.fromisoformat(raw) if raw else _today(services.settings.operator_time_zone)
    except ValueError:
        return problem(400, "BAD_USER_INPUT", "asOf is a date.")
    async with services.sessions() as session:
        rows = await aging.ar_aging(session, day)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["client_id", "client", *aging.BUCKETS, "total"])
    for r in rows:
        writer.writerow(
            [r.client_id, r.client_name, *(r.amounts[b] for b in aging.BUCKETS), r.total]
        )
    sums = aging.totals(rows)
    writer.writerow(["", "TOTAL", *(sums[b] for b in aging.BUCKETS), sum(sums.values())])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="ar-aging-{day.isoformat()}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


routes = [Route("/reports/ar-aging.csv", ar_aging_csv, methods=["GET"])]
