"""Route optimisation (see service/route.py for the rules and the method)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import route
from subgraphs.charters.service.access import DISPATCH
from subgraphs.charters.types import Charter
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.type
class OptimizeRoutePayload:
    charter: Charter | None = strawberry.field(
        default=None, description="The charter with its stops in the new order and `route` set."
    )
    reordered: bool | None = strawberry.field(
        default=None, description="False when the stops already were in the best order found."
    )
    exact: bool | None = strawberry.field(
        default=None,
        description=(
            f"True: provably the shortest order (up to {route.EXACT_LIMIT} stops between the "
            "ends). False: nearest neighbour improved by 2-opt, not proven shortest."
        ),
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RouteMutations:
    @strawberry.mutation(
        extensions=[allow(*DISPATCH)],
        description=(
            "Reorder the stops between the first pickup and the last drop-off to the "
            "shortest great-circle route (never longer than the current order) and store "
            "its estimated miles (great-circle legs times the road factor) and minutes. "
            "Stops that move lose their planned times. Every stop needs coordinates. "
            "Audited with the old and new order; announced on `dispatchBoard` (`route`)."
        ),
    )
    async def optimize_route(self, info: Info, charter_id: strawberry.ID) -> OptimizeRoutePayload:
        viewer = await info.context.get_viewer()
        settings = info.context.settings

        async def work(session: AsyncSession) -> Any:
            return await route.optimize(
                session,
                parse_id(charter_id, "charterId"),
                viewer,
                road_factor=settings.pricing_road_factor,
                speed_mph=settings.dispatch_average_speed_mph,
            )

        result, errors = await transact(info, work)
        if result is None:
            return OptimizeRoutePayload(user_errors=errors)
        return OptimizeRoutePayload(
            charter=Charter.from_row(result.charter),
            reordered=result.reordered,
            exact=result.plan.exact,
        )
