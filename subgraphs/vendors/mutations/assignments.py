"""Vendor assignment mutations: staff assign; the vendor answers."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.vendors.enums import AssignmentStatus
from subgraphs.vendors.mutations.common import parse_id
from subgraphs.vendors.mutations.payloads import AssignmentPayload
from subgraphs.vendors.service import assignments
from subgraphs.vendors.service.access import STAFF_EDIT
from subgraphs.vendors.types import VendorAssignment


def _payload(row: object, errors: list) -> AssignmentPayload:  # type: ignore[type-arg]
    return AssignmentPayload(
        assignment=VendorAssignment.from_row(row) if row else None,  # type: ignore[arg-type]
        user_errors=errors,
    )


@strawberry.type
class AssignmentMutations:
    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT)],
        description="Give a charter vehicle to an active, compliant vendor.",
    )
    async def assign_vendor(
        self, info: Info, charter_vehicle_id: strawberry.ID, vendor_id: strawberry.ID, amount: Money
    ) -> AssignmentPayload:
        viewer = await info.context.get_viewer()
        required = info.context.settings.required_certifications
        row, errors = await transact(
            info,
            lambda s: assignments.assign(
                s,
                charter_vehicle_id=parse_id(charter_vehicle_id, "charterVehicleId"),
                vendor_id=parse_id(vendor_id, "vendorId"),
                amount=amount,
                actor=viewer,
                required=required,
            ),
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT, Role.VENDOR)],
        description="CONFIRMED, DECLINED (with a reason) or RECOVERY_REQUESTED by the vendor; "
        "CANCELLED by staff. IN_PROGRESS and COMPLETED follow the trip (the charter's status), "
        "never set by hand.",
    )
    async def respond_to_assignment(
        self, info: Info, id: strawberry.ID, status: AssignmentStatus, reason: str | None = None
    ) -> AssignmentPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: assignments.respond(
                s, parse_id(id, "id"), status.value, viewer, reason=reason
            ),
        )
        return _payload(row, errors)
