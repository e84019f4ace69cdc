"""The daily check log: checks received per day between two dates, with day totals."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from subgraphs.finance.reports.common import BadParameter, Table, csv_route, date_param, today
from subgraphs.finance.service import check_log as service
from subgraphs.finance.service.access import READ_RECEIVABLES_REPORTS
from subgraphs.finance.types.payments import gid
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer


@strawberry.type(description="One check received.")
class CheckRow:
    payment_id: strawberry.ID
    number: str | None = strawberry.field(description="The check number, as recorded.")
    bank: str | None
    payer_id: strawberry.ID
    payer: str
    amount: Money
    reference: str | None


@strawberry.type(description="The checks of one day and their sum.")
class CheckDayRow:
    day: date
    count: int
    total: Money
    checks: list[CheckRow]


@strawberry.type(description="Checks received from `from` to `to`; `total` sums the days.")
class CheckLogReport:
    from_: date = strawberry.field(name="from")
    to: date
    days: list[CheckDayRow]
    count: int
    total: Money
    csv_url: str


def _range(start: date | None, end: date | None, day: date) -> tuple[date, date]:
    end = end or day
    return start or end, end


@strawberry.type
class CheckLogQueries:
    @strawberry.field(
        extensions=[allow(*READ_RECEIVABLES_REPORTS)],
        description="Checks received per day (`from` and `to` inclusive, default today, at most "
        f"{service.MAX_DAYS} days); also at /reports/check-log.csv. Finance staff only.",
    )
    async def check_log(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> CheckLogReport:
        start, end = _range(from_, to, today(info.context.settings.operator_time_zone))
        try:
            async with info.context.sessions() as session:
                days = await service.check_log(session, start, end)
        except ValueError as exc:
            raise BadUserInputError(str(exc)) from exc
        count, total = service.total(days)
        return CheckLogReport(
            from_=start,
            to=end,
            days=[
                CheckDayRow(
                    day=d.day,
                    count=d.count,
                    total=d.total,
                    checks=[
                        CheckRow(
                            payment_id=gid(c.payment_id),
                            number=c.number,
                            bank=c.bank,
                            payer_id=gid(c.payer_id),
                            payer=c.payer,
                            amount=c.amount,
                            reference=c.reference,
                        )
                        for c in d.checks
                    ],
                )
                for d in days
            ],
            count=count,
            total=total,
            csv_url=f"/reports/check-log.csv?from={start.isoformat()}&to={end.isoformat()}",
        )


async def _table(request: Request, session: AsyncSession, viewer: Viewer) -> Table:
    day = today(request.app.state.services.settings.operator_time_zone)
    end = date_param(request, "to", day)
    start = date_param(request, "from", end)
    try:
        days = await service.check_log(session, start, end)
    except ValueError as exc:
        raise BadParameter(str(exc)) from exc
    rows: list[list[object]] = []
    for d in days:
        rows.extend(
            [d.day, c.number or "", c.bank or "", c.payer_id, c.payer, c.amount, c.reference or ""]
            for c in d.checks
        )
        rows.append([d.day, "DAY TOTAL", "", "", f"{d.count} checks", d.total, ""])
    count, total = service.total(days)
    rows.append(["", "TOTAL", "", "", f"{count} checks", total, ""])
    return Table(
        filename=f"check-log-{start.isoformat()}-{end.isoformat()}.csv",
        header=["received_on", "check_number", "bank", "payer_id", "payer", "amount", "reference"],
        rows=rows,
    )


routes = [csv_route("/reports/check-log.csv", _table, READ_RECEIVABLES_REPORTS)]
