"""Dispatch mutations: what the dispatch board changes."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.charters.enums import DispatchStatus
from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.mutations.payloads import CharterVehiclePayload
from subgraphs.charters.service import dispatch
from subgraphs.charters.service.access import DISPATCH
from subgraphs.charters.types import CharterVehicle
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow


@strawberry.type
class DispatchMutations:
    @strawberry.mutation(
        extensions=[allow(*DISPATCH)],
        description=(
            "Move a charter vehicle's dispatch status along the dispatch workflow; "
            "the note is kept in the audit log. Announced on `dispatchBoard`."
        ),
    )
    async def set_dispatch_status(
        self,
        info: Info,
        charter_vehicle_id: strawberry.ID,
        status: DispatchStatus,
        note: str | None = None,
    ) -> CharterVehiclePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: dispatch.set_dispatch_status(
                s,
                parse_id(charter_vehicle_id, "charterVehicleId"),
                status.value,
                viewer,
                note=note,
            ),
        )
        return CharterVehiclePayload(
            charter_vehicle=CharterVehicle.from_row(row) if row else None, user_errors=errors
        )
