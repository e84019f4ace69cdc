"""What the portals are told: the pickup contact and instructions by audience."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.charters.mutations.common import charter_call
from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.mutations.payloads import CharterPayload
from subgraphs.charters.service import portals
from subgraphs.charters.service.access import INSTRUCTION_WRITERS
from subgraphs.kit.permissions import allow


@strawberry.input(description="Blank or omitted clears a field.")
class CharterInstructionsInput:
    pickup_contact_name: str | None = None
    pickup_contact_phone: str | None = None
    vendor_instructions: str | None = strawberry.field(
        default=None, description="Read by the vendors serving the charter (and staff)."
    )
    driver_instructions: str | None = strawberry.field(
        default=None, description="Read by the charter's drivers (and staff)."
    )


@strawberry.type
class PortalMutations:
    @strawberry.mutation(
        extensions=[allow(*INSTRUCTION_WRITERS)],
        description=(
            "Set who meets the coach at the pickup and the instructions marked for vendors "
            "and for drivers (audited). Dispatch for any charter; a sales agent for its own."
        ),
    )
    async def set_charter_instructions(
        self, info: Info, id: strawberry.ID, input: CharterInstructionsInput
    ) -> CharterPayload:
        values = portals.Instructions(
            pickup_contact_name=input.pickup_contact_name,
            pickup_contact_phone=input.pickup_contact_phone,
            vendor_instructions=input.vendor_instructions,
            driver_instructions=input.driver_instructions,
        )
        return await charter_call(
            info,
            lambda session, viewer: portals.set_instructions(
                session, parse_id(id, "id"), values, viewer
            ),
        )
