"""Vendor payables: billed, paid, owed and overdue by vendor, as a query and a CSV download.

Overdue is what overdue bills (by their status, which the daily job keeps)
still owe; owed is billed less paid over every bill, disputed ones included.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import Table, csv_route
from subgraphs.finance.service import bills
from subgraphs.finance.service.access import WORK_FINANCE
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer

ZERO = Decimal("0.00")
COLUMNS = ("billed", "paid", "owed", "overdue")


@strawberry.type
class VendorPayablesRow:
    vendor_id: strawberry.ID
    vendor_name: str
    billed: Money
    paid: Money
    owed: Money = strawberry.field(description="Billed less paid.")
    overdue: Money = strawberry.field(description="What overdue bills still owe.")


@strawberry.type(description="Every vendor's bills in four figures, with their sums.")
class VendorPayablesReport:
    rows: list[VendorPayablesRow]
    total_billed: Money
    total_paid: Money
    total_owed: Money
    total_overdue: Money
    csv_url: str


def _sums(rows: list[bills.VendorPayables]) -> dict[str, Decimal]:
    return {c: sum((getattr(r, c) for r in rows), ZERO) for c in COLUMNS}


@strawberry.type
class VendorPayablesQueries:
    @strawberry.field(
        extensions=[allow(*WORK_FINANCE)],
        description="Vendor payables by vendor; also at /reports/vendor-payables.csv.",
    )
    async def vendor_payables(self, info: Info) -> VendorPayablesReport:
        async with info.context.sessions() as session:
            rows = await bills.vendor_payables(session)
        sums = _sums(rows)
        return VendorPayablesReport(
            rows=[
                VendorPayablesRow(
                    vendor_id=strawberry.ID(str(r.vendor_id)),
                    vendor_name=r.vendor_name,
                    billed=Money(r.billed),
                    paid=Money(r.paid),
                    owed=Money(r.owed),
                    overdue=Money(r.overdue),
                )
                for r in rows
            ],
            total_billed=Money(sums["billed"]),
            total_paid=Money(sums["paid"]),
            total_owed=Money(sums["owed"]),
            total_overdue=Money(sums["overdue"]),
            csv_url="/reports/vendor-payables.csv",
        )


async def _vendor_payables_table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    rows = await bills.vendor_payables(session)
    sums = _sums(rows)
    return Table(
        filename="vendor-payables.csv",
        header=["vendor_id", "vendor", *COLUMNS],
        rows=[
            *([r.vendor_id, r.vendor_name, *(getattr(r, c) for c in COLUMNS)] for r in rows),
            ["", "TOTAL", *(sums[c] for c in COLUMNS)],
        ],
    )


routes = [csv_route("/reports/vendor-payables.csv", _vendor_payables_table)]
