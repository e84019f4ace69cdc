"""Charter payment status: each booked charter paid, partially paid, unpaid or overdue.

A query (`charterPaymentStatus`, optionally one class) and
`/reports/charter-payment-status.csv?status=overdue`, the same figures.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import BadParameter, Table, csv_route, today
from subgraphs.finance.service import charter_payment_status as service
from subgraphs.finance.service.access import READ_RECEIVABLES_REPORTS
from subgraphs.finance.types.payments import gid
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer


@strawberry.enum(description="Where a booked charter's money stands (see charterPaymentStatus).")
class CharterPaymentStatus(Enum):
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    UNPAID = "unpaid"
    OVERDUE = "overdue"


@strawberry.type(description="One booked charter's money on the report's day.")
class CharterPaymentRow:
    charter_id: strawberry.ID
    reference: str | None
    client_id: strawberry.ID | None
    client_name: str
    pickup_at: datetime | None
    status: CharterPaymentStatus
    owed: Money = strawberry.field(description="The accepted price.")
    paid: Money = strawberry.field(description="Live applications to it, refunds negative.")
    outstanding: Money = strawberry.field(description="Owed less paid.")
    due: Money = strawberry.field(description="Instalments due by today not covered.")
    overdue: Money = strawberry.field(description="Instalments due before today not covered.")

    @classmethod
    def of(cls, row: service.StatusRow) -> CharterPaymentRow:
        c = row.charter
        return cls(
            charter_id=gid(c.charter_id),
            reference=c.reference,
            client_id=gid(c.client_id) if c.client_id else None,
            client_name=c.client_name,
            pickup_at=c.pickup_at,
            status=CharterPaymentStatus(row.status),
            owed=c.owed,
            paid=c.paid,
            outstanding=c.outstanding,
            due=row.due,
            overdue=row.overdue,
        )


@strawberry.type(description="The sums of the report's rows.")
class CharterPaymentTotals:
    count: int
    owed: Money
    paid: Money
    outstanding: Money
    due: Money
    overdue: Money

    @classmethod
    def of(cls, rows: list[service.StatusRow]) -> CharterPaymentTotals:
        t = service.totals(rows)
        return cls(
            count=t.count,
            owed=t.owed,
            paid=t.paid,
            outstanding=t.outstanding,
            due=t.due,
            overdue=t.overdue,
        )


@strawberry.type(description="How many charters are in each class (of all, whatever the filter).")
class CharterPaymentCounts:
    paid: int
    partially_paid: int
    unpaid: int
    overdue: int


@strawberry.type(
    description="Every booked charter with an accepted price in exactly one payment class."
)
class CharterPaymentStatusReport:
    as_of: date
    counts: CharterPaymentCounts
    rows: list[CharterPaymentRow]
    totals: CharterPaymentTotals
    csv_url: str


@strawberry.type
class CharterPaymentStatusQueries:
    @strawberry.field(
        extensions=[allow(*READ_RECEIVABLES_REPORTS)],
        description="Charter payment status today (operator's time zone), optionally one class; "
        "also at /reports/charter-payment-status.csv. Finance staff only.",
    )
    async def charter_payment_status(
        self, info: Info, status: CharterPaymentStatus | None = None
    ) -> CharterPaymentStatusReport:
        day = today(info.context.settings.operator_time_zone)
        async with info.context.sessions() as session:
            every = await service.payment_status(session, day)
        rows = [r for r in every if status is None or r.status == status.value]
        counts = service.counts(every)
        query = f"?status={status.value}" if status else ""
        return CharterPaymentStatusReport(
            as_of=day,
            counts=CharterPaymentCounts(**counts),
            rows=[CharterPaymentRow.of(r) for r in rows],
            totals=CharterPaymentTotals.of(rows),
            csv_url=f"/reports/charter-payment-status.csv{query}",
        )


HEADER = [
    "charter_id",
    "reference",
    "client_id",
    "client",
    "pickup_at",
    "status",
    "owed",
    "paid",
    "outstanding",
    "due",
    "overdue",
]


def table_rows(rows: list[service.StatusRow]) -> list[list[Any]]:
    t = service.totals(rows)
    return [
        *(
            [
                r.charter.charter_id,
                r.charter.reference or "",
                r.charter.client_id or "",
                r.charter.client_name,
                r.charter.pickup_at.isoformat() if r.charter.pickup_at else "",
                r.status,
                r.charter.owed,
                r.charter.paid,
                r.charter.outstanding,
                r.due,
                r.overdue,
            ]
            for r in rows
        ),
        [
            "",
            "TOTAL",
            "",
            f"{t.count} charters",
            "",
            "",
            t.owed,
            t.paid,
            t.outstanding,
            t.due,
            t.overdue,
        ],
    ]


async def _table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    status = request.query_params.get("status") or None
    if status is not None and status not in service.STATUSES:
        raise BadParameter(f"status is one of {', '.join(service.STATUSES)}.")
    day = today(request.app.state.services.settings.operator_time_zone)
    rows = await service.payment_status(session, day, status)
    return Table(
        filename=f"charter-payment-status-{day.isoformat()}.csv",
        header=HEADER,
        rows=table_rows(rows),
    )


routes = [csv_route("/reports/charter-payment-status.csv", _table, READ_RECEIVABLES_REPORTS)]
