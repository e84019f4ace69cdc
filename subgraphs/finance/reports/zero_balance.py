"""Zero-balance charters: the booked charters paid in full, as a query and a CSV."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.charter_payment_status import (
    HEADER,
    CharterPaymentRow,
    CharterPaymentTotals,
    table_rows,
)
from subgraphs.finance.reports.common import Table, csv_route, today
from subgraphs.finance.service import charter_payment_status as service
from subgraphs.finance.service.access import READ_RECEIVABLES_REPORTS
from subgraphs.kit.permissions import allow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer


@strawberry.type(description="Booked charters that have paid at least their accepted price.")
class ZeroBalanceReport:
    as_of: date
    rows: list[CharterPaymentRow]
    totals: CharterPaymentTotals
    csv_url: str


@strawberry.type
class ZeroBalanceQueries:
    @strawberry.field(
        extensions=[allow(*READ_RECEIVABLES_REPORTS)],
        description="Charters paid in full (the PAID class of charterPaymentStatus); also at "
        "/reports/zero-balance-charters.csv. Finance staff only.",
    )
    async def zero_balance_charters(self, info: Info) -> ZeroBalanceReport:
        day = today(info.context.settings.operator_time_zone)
        async with info.context.sessions() as session:
            rows = await service.zero_balance(session, day)
        return ZeroBalanceReport(
            as_of=day,
            rows=[CharterPaymentRow.of(r) for r in rows],
            totals=CharterPaymentTotals.of(rows),
            csv_url="/reports/zero-balance-charters.csv",
        )


async def _table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    day = today(request.app.state.services.settings.operator_time_zone)
    rows = await service.zero_balance(session, day)
    return Table(
        filename=f"zero-balance-charters-{day.isoformat()}.csv",
        header=HEADER,
        rows=table_rows(rows),
    )


routes = [csv_route("/reports/zero-balance-charters.csv", _table, READ_RECEIVABLES_REPORTS)]
