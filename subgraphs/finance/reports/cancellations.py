"""Cancellations with their fees between two dates (operator's calendar), with totals."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import BadParameter, Table, csv_route, date_param, today
from subgraphs.finance.service import cancellations as service
from subgraphs.finance.service.access import READ_RECEIVABLES_REPORTS
from subgraphs.finance.service.charter_money import ZERO
from subgraphs.finance.types.payments import gid
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer
    from subgraphs.finance.service.charter_money import CharterMoney


@strawberry.type(description="A cancelled charter: its price, the fee kept, what was paid.")
class CancellationRow:
    charter_id: strawberry.ID
    reference: str | None
    client_id: strawberry.ID | None
    client_name: str
    sales_agent_id: strawberry.ID | None
    cancelled_at: datetime | None
    pickup_at: datetime | None
    owed: Money = strawberry.field(description="The accepted price it had.")
    fee: Money = strawberry.field(description="The cancellation fee charged (0 when none).")
    paid: Money = strawberry.field(description="Applied to it, refunds negative.")
    reason: str | None

    @classmethod
    def of(cls, c: CharterMoney) -> CancellationRow:
        return cls(
            charter_id=gid(c.charter_id),
            reference=c.reference,
            client_id=gid(c.client_id) if c.client_id else None,
            client_name=c.client_name,
            sales_agent_id=gid(c.sales_agent_id) if c.sales_agent_id else None,
            cancelled_at=c.cancelled_at,
            pickup_at=c.pickup_at,
            owed=c.owed,
            fee=c.cancellation_fee or ZERO,
            paid=c.paid,
            reason=c.cancellation_reason,
        )


@strawberry.type(description="The sums of the rows.")
class CancellationTotals:
    count: int
    owed: Money
    fees: Money
    paid: Money


@strawberry.type(description="Charters cancelled from `from` to `to` (operator's calendar).")
class CancellationsReport:
    from_: date = strawberry.field(name="from")
    to: date
    rows: list[CancellationRow]
    totals: CancellationTotals
    csv_url: str


def _range(start: date | None, end: date | None, day: date) -> tuple[date, date]:
    end = end or day
    return start or end.replace(day=1), end


@strawberry.type
class CancellationQueries:
    @strawberry.field(
        extensions=[allow(*READ_RECEIVABLES_REPORTS)],
        description="Cancellations with their fees (`from`, `to` inclusive; default this month "
        "to date); also at /reports/cancellations.csv. Finance staff only.",
    )
    async def cancellations(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> CancellationsReport:
        zone = info.context.settings.operator_time_zone
        start, end = _range(from_, to, today(zone))
        try:
            async with info.context.sessions() as session:
                rows = await service.cancellations(session, zone, start, end)
        except ValueError as exc:
            raise BadUserInputError(str(exc)) from exc
        t = service.totals(rows)
        return CancellationsReport(
            from_=start,
            to=end,
            rows=[CancellationRow.of(r) for r in rows],
            totals=CancellationTotals(count=t.count, owed=t.owed, fees=t.fees, paid=t.paid),
            csv_url=f"/reports/cancellations.csv?from={start.isoformat()}&to={end.isoformat()}",
        )


async def _table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    zone = request.app.state.services.settings.operator_time_zone
    end = date_param(request, "to", today(zone))
    start = date_param(request, "from", end.replace(day=1))
    try:
        rows = await service.cancellations(session, zone, start, end)
    except ValueError as exc:
        raise BadParameter(str(exc)) from exc
    t = service.totals(rows)
    return Table(
        filename=f"cancellations-{start.isoformat()}-{end.isoformat()}.csv",
        header=[
            "cancelled_at",
            "charter_id",
            "reference",
            "client_id",
            "client",
            "sales_agent_id",
            "pickup_at",
            "owed",
            "fee",
            "paid",
            "reason",
        ],
        rows=[
            *(
                [
                    r.cancelled_at.isoformat() if r.cancelled_at else "",
                    r.charter_id,
                    r.reference or "",
                    r.client_id or "",
                    r.client_name,
                    r.sales_agent_id or "",
                    r.pickup_at.isoformat() if r.pickup_at else "",
                    r.owed,
                    r.cancellation_fee or ZERO,
                    r.paid,
                    r.cancellation_reason or "",
                ]
                for r in rows
            ),
            ["", "", "TOTAL", "", f"{t.count} cancellations", "", "", t.owed, t.fees, t.paid, ""],
        ],
    )


routes = [csv_route("/reports/cancellations.csv", _table, READ_RECEIVABLES_REPORTS)]
