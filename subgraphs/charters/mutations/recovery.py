"""Recovery mutations: a dispatcher's side of a lost vendor or driver (issue 13 section 3)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import recovery
from subgraphs.charters.service.access import RECOVERY_DESK
from subgraphs.charters.types import RecoveryCase, RecoveryReason
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.type
class RecoveryCasePayload:
    recovery_case: RecoveryCase | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _payload(row: object | None, errors: list[UserError]) -> RecoveryCasePayload:
    return RecoveryCasePayload(
        recovery_case=RecoveryCase.from_row(row) if row is not None else None, user_errors=errors
    )


@strawberry.type
class RecoveryMutations:
    @strawberry.mutation(
        extensions=[allow(*RECOVERY_DESK)],
        description=(
            "Put a charter vehicle into recovery: its vendor cannot run the trip. The case "
            "opens PENDING; `searchVendors` alerts eligible vendors at once (VENDOR_SEARCH). "
            "One open vendor case per vehicle. Announced on `dispatchBoard` (`recovery`)."
        ),
    )
    async def open_recovery(
        self,
        info: Info,
        charter_vehicle_id: strawberry.ID,
        reason: RecoveryReason,
        note: str | None = None,
        search_vendors: bool = False,
    ) -> RecoveryCasePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: recovery.open_recovery(
                s,
                parse_id(charter_vehicle_id, "charterVehicleId"),
                reason.value,
                viewer,
                note=note,
                search_vendors=search_vendors,
            ),
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*RECOVERY_DESK)],
        description=(
            "Emergency reassignment: the vehicle's driver cannot drive. Assigning another "
            "driver (`assignCharterVehicle`) resolves the case."
        ),
    )
    async def open_driver_recovery(
        self,
        info: Info,
        charter_vehicle_id: strawberry.ID,
        reason: RecoveryReason,
        note: str | None = None,
    ) -> RecoveryCasePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: recovery.open_driver_recovery(
                s,
                parse_id(charter_vehicle_id, "charterVehicleId"),
                reason.value,
                viewer,
                note=note,
            ),
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*RECOVERY_DESK)],
        description=(
            "Alert the vendors whose service area covers the pickup (by e-mail, through "
            "vendors), except those already alerted and the one that let the trip go."
        ),
    )
    async def start_recovery_search(
        self, info: Info, case_id: strawberry.ID
    ) -> RecoveryCasePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: recovery.start_search(s, parse_id(case_id, "caseId"), viewer)
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*RECOVERY_DESK)],
        description="Close a recovery case by hand; the note says how it was settled.",
    )
    async def resolve_recovery(
        self, info: Info, case_id: strawberry.ID, note: str
    ) -> RecoveryCasePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: recovery.resolve(s, parse_id(case_id, "caseId"), note, viewer)
        )
        return _payload(row, errors)
