"""Split a charter into two (see service/split.py for the rules)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import split as split_service
from subgraphs.charters.service.access import EDITORS
from subgraphs.charters.types import Charter
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.type
class SplitCharterPayload:
    original: Charter | None = strawberry.field(
        default=None, description="The charter that was split, with fewer passengers."
    )
    charter: Charter | None = strawberry.field(
        default=None, description="The new charter; its `splitFrom` is the original."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SplitMutations:
    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description="Move some passengers and vehicles to a new charter. A booked charter "
        "is split directly by admins, managers and sales support; both sides must seat "
        "their passengers.",
    )
    async def split_charter(
        self,
        info: Info,
        id: strawberry.ID,
        passengers_to_new: int,
        vehicle_ids: list[strawberry.ID],
    ) -> SplitCharterPayload:
        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> Any:
            return await split_service.split(
                session,
                parse_id(id, "id"),
                passengers_to_new=passengers_to_new,
                charter_vehicle_ids=[parse_id(v, "vehicleIds") for v in vehicle_ids],
                actor=viewer,
            )

        result, errors = await transact(info, work)
        if result is None:
            return SplitCharterPayload(user_errors=errors)
        return SplitCharterPayload(
            original=Charter.from_row(result.original), charter=Charter.from_row(result.new)
        )
