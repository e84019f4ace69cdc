"""Identity's `User`: finance adds a sales agent's money figures to the agent dashboard.

Who reads them is sales' `User.salesDashboard` rule (`access.may_read_agent_money`):
the agent itself, admins, managers and sales support; anyone else gets null
and FORBIDDEN. The figures are `service/dashboard_money.py`'s.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import may_read_agent_money
from subgraphs.finance.service.dashboard_money import AgentMoney
from subgraphs.kit.errors import ForbiddenError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    async def _money(self, info: Info) -> AgentMoney | None:
        viewer = await info.context.get_viewer()
        agent = parse_uuid(self.id)
        if not may_read_agent_money(viewer, agent):
            raise ForbiddenError("Only the agent itself or a manager reads its money figures.")
        if agent is None:
            return None
        money: AgentMoney = await info.context.loaders.get(L.AgentMoneyByAgentLoader).load(agent)
        return money

    @strawberry.field(
        extensions=[allow()],
        description="Accepted prices of this agent's charters booked this month to date "
        "(quote accepted since the 1st, operator's time zone) and not cancelled. The agent "
        "itself, admins, managers and sales support.",
    )
    async def booked_revenue_month_to_date(self, info: Info) -> Money | None:
        money = await self._money(info)
        return Money(money.booked_revenue) if money else None

    @strawberry.field(
        extensions=[allow()],
        description="Those same charters' accepted prices less their vehicles' cost (vendor "
        "or fleet; an unknown cost counts as 0). Same readers.",
    )
    async def profit_month_to_date(self, info: Info) -> Money | None:
        money = await self._money(info)
        return Money(money.profit) if money else None

    @strawberry.field(
        extensions=[allow()],
        description="Money due now on this agent's booked charters from clients paying other "
        "than by card: instalments due by today (operator's time zone) that payments do not "
        "cover (as `Charter.balance.due`), for clients with no card on file, so nobody can "
        "charge a card for it. Same readers.",
    )
    async def non_card_money_due(self, info: Info) -> Money | None:
        money = await self._money(info)
        return Money(money.non_card_due) if money else None
