"""The payments report's rows and the operator's month to date (issue 16's dashboards)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from subgraphs.finance.service import payments_list, revenue
from subgraphs.finance.service.access import READ_OPERATOR_REVENUE, READ_PAYMENTS
from subgraphs.finance.types.payments import Payment, PaymentMethod
from subgraphs.finance.types.revenue import RevenueFigures
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.pagination import Connection
from subgraphs.kit.permissions import allow
from subgraphs.kit.settings import get_settings


@strawberry.type
class RevenueQueries:
    @strawberry.field(
        extensions=[allow(*READ_PAYMENTS)],
        description="Payments received in `[from, to)` (default: the 30 days to now), newest "
        "first: a payment counts when the start (operator's midnight) of the day it was "
        "received lies in the window. Refunds are listed (negative); failed card charges are "
        "not. Only `method`'s methods if given. Finance staff (as `payment`).",
    )
    async def payments(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        method: list[PaymentMethod] | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Payment]:
        try:
            start, end = payments_list.window(from_, to, datetime.now(UTC))
        except ValueError as exc:
            raise BadUserInputError(str(exc), field="to") from exc
        async with info.context.sessions() as session:
            page: Connection[Payment] = await payments_list.payments_received(
                session,
                start,
                end,
                get_settings().operator_time_zone,
                [m.value for m in method or ()],
                first=first,
                after=after,
                to_node=Payment.from_row,
            )
            return page

    @strawberry.field(
        extensions=[allow(*READ_OPERATOR_REVENUE)],
        description="The operator's month to date (from the 1st, operator's time zone): "
        "booked and profit as the agents' `bookedRevenueMonthToDate`/`profitMonthToDate` "
        "count them, and the money collected. Admins, managers, accounting.",
    )
    async def revenue_month_to_date(self, info: Info) -> RevenueFigures:
        async with info.context.sessions() as session:
            month = await revenue.operator_month(
                session, datetime.now(UTC), get_settings().operator_time_zone
            )
        return RevenueFigures.of(month)
