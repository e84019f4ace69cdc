"""`Charter.profit` and `revenueMonthToDate`: thin views of `service/revenue.py`.

That module is the one definition the agents' dashboard figures share too.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service import revenue
from subgraphs.finance.service.access import may_read_agent_money
from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.scalars import Money


@strawberry.type(description="What a booked charter earns the operator.")
class CharterProfit:
    price: Money = strawberry.field(
        description="The accepted total, as `User.bookedRevenueMonthToDate` counts it."
    )
    cost: Money = strawberry.field(
        description="Its vehicles' cost (vendor or fleet); an unknown cost counts as 0, as in "
        "`User.profitMonthToDate`."
    )
    profit: Money = strawberry.field(description="Price less cost.")
    margin: Decimal | None = strawberry.field(
        description="Profit / price, 0..1 with 4 decimal places (half up); null for a zero price."
    )

    @classmethod
    def of(cls, figures: revenue.Revenue) -> CharterProfit:
        return cls(
            price=Money(figures.price),
            cost=Money(figures.cost),
            profit=Money(figures.profit),
            margin=figures.margin,
        )


async def charter_profit(root: Any, info: Info) -> CharterProfit | None:
    """The readers of the charter's agent's money figures; null for a charter not booked."""
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    key = parse_uuid(root.id)
    found = (
        await info.context.loaders.get(L.CharterProfitByCharterLoader).load(key) if key else None
    )
    if not may_read_agent_money(viewer, found.sales_agent_id if found else None):
        raise ForbiddenError("Only the charter's agent or a manager reads its profit.")
    if found is None or found.figures is None:
        return None
    return CharterProfit.of(found.figures)


@strawberry.type(description="The operator's month to date (operator's time zone).")
class RevenueFigures:
    booked: Money = strawberry.field(
        description="Accepted prices of charters booked since the 1st and not cancelled: "
        "every agent's `bookedRevenueMonthToDate` together (charters with no agent included)."
    )
    profit: Money = strawberry.field(
        description="Those charters' prices less their vehicles' cost (unknown cost: 0)."
    )
    collected: Money = strawberry.field(
        description="Payments received since the 1st (by received day), refunds netted, "
        "failed card charges left out."
    )
    since: datetime = strawberry.field(description="The 1st of the month, operator's midnight.")

    @classmethod
    def of(cls, month: revenue.MonthFigures) -> RevenueFigures:
        return cls(
            booked=Money(month.booked.price),
            profit=Money(month.booked.profit),
            collected=Money(month.collected),
            since=month.since,
        )
