"""Change management over GraphQL: file, move and implement change cases.

A BOOKED-or-later charter changes only through a case (seed 002): the
request carries the new values, the case keeps before and after snapshots,
approval rules decide who must approve, and implementing applies the
after-snapshot in one transaction (or cancels the charter for a
cancellation case).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.enums import ChangeCaseStatus, ChangePriority, ChangeType, ImpactLevel
from subgraphs.charters.mutations.common import policy
from subgraphs.charters.mutations.inputs import (
    CharterVehicleInput,
    StopInput,
    parse_id,
    parse_local,
    stop_values,
    vehicle_values,
)
from subgraphs.charters.mutations.payloads import ChangeCasePayload
from subgraphs.charters.service import change_cases
from subgraphs.charters.service.access import EDITORS
from subgraphs.charters.service.vehicles import with_type_capacity
from subgraphs.charters.types import ChangeCase
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money


@strawberry.input(description="New values for a booked charter; lists replace the whole list.")
class CharterChangesInput:
    pickup_local: str | None = None
    pickup_time_zone: str | None = None
    ends_at: datetime | None = None
    passenger_count: int | None = None
    notes: str | None = None
    stops: list[StopInput] | None = strawberry.field(
        default=None, description="The full new itinerary, in order."
    )
    vehicles: list[CharterVehicleInput] | None = strawberry.field(
        default=None,
        description="The full new vehicle list; replaced vehicles lose their assignments.",
    )


@strawberry.input(description="Where a stop moves to (pickup or destination changes).")
class LocationInput:
    address: str
    latitude: float | None = None
    longitude: float | None = None


@strawberry.input(description="A new price for one vehicle of the charter.")
class VehicleCostInput:
    charter_vehicle_id: strawberry.ID
    cost: Money


@strawberry.input
class RequestChangeInput:
    change_type: ChangeType
    title: str
    reason: str | None = None
    priority: ChangePriority = ChangePriority.MEDIUM
    impact_level: ImpactLevel = ImpactLevel.MODERATE
    proposed_price: Money | None = strawberry.field(
        default=None,
        description=(
            "Your estimate of the new price: recorded, informational only. Who must "
            "approve is decided from the price the system computes for the change."
        ),
    )
    cancellation_fee: Money | None = strawberry.field(
        default=None, description="For a cancellation: the fee to charge (none when omitted)."
    )
    changes: CharterChangesInput | None = strawberry.field(
        default=None,
        description="New values, for the untyped change types (date and time, itinerary, "
        "passengers, vehicles, other); the typed ones below carry their own change only.",
    )
    pickup: LocationInput | None = strawberry.field(
        default=None, description="PICKUP_LOCATION_CHANGE: where the pickup stop moves to."
    )
    destination: LocationInput | None = strawberry.field(
        default=None, description="DESTINATION_CHANGE: where the final drop-off moves to."
    )
    amenities: list[str] | None = strawberry.field(
        default=None,
        description="AMENITY_ADDITION / AMENITY_REMOVAL: the amenities to add or remove. "
        "Recorded on the case (its after-snapshot's `amenities`) until pricing owns amenities.",
    )
    vehicle_costs: list[VehicleCostInput] | None = strawberry.field(
        default=None,
        description="PRICING_ADJUSTMENT: new costs of the charter's vehicles (always reviewed).",
    )


def _location(given: LocationInput | None) -> change_cases.Location | None:
    if given is None:
        return None
    return change_cases.Location(
        address=given.address,
        latitude=Decimal(str(given.latitude)) if given.latitude is not None else None,
        longitude=Decimal(str(given.longitude)) if given.longitude is not None else None,
    )


def _typed(input: RequestChangeInput) -> change_cases.TypedChange:
    return change_cases.TypedChange(
        pickup=_location(input.pickup),
        destination=_location(input.destination),
        amenities=tuple(input.amenities or ()),
        vehicle_costs={
            parse_id(v.charter_vehicle_id, "input.vehicleCosts"): v.cost
            for v in input.vehicle_costs or ()
        },
    )


async def _changes(session: AsyncSession, given: CharterChangesInput | None) -> dict[str, Any]:
    if given is None:
        return {}
    values: dict[str, Any] = {}
    if given.pickup_local is not None:
        values["pickup_local"] = parse_local(
            given.pickup_local, "input.changes.pickupLocal"
        ).isoformat()
    if given.pickup_time_zone is not None:
        values["pickup_time_zone"] = given.pickup_time_zone
    if given.ends_at is not None:
        values["ends_at"] = given.ends_at.isoformat()
    if given.passenger_count is not None:
        values["passenger_count"] = given.passenger_count
    if given.notes is not None:
        values["notes"] = given.notes
    if given.stops is not None:
        values["stops"] = [{**stop_values(s), "id": None} for s in given.stops]
    if given.vehicles is not None:
        filled = await with_type_capacity(
            session, [vehicle_values(v) for v in given.vehicles], "input.changes.vehicles"
        )
        values["vehicles"] = [{**v, "id": None} for v in filled]
    return values


def _payload(row: Any, errors: list[Any]) -> ChangeCasePayload:
    return ChangeCasePayload(
        change_case=ChangeCase.from_row(row) if row else None, user_errors=errors
    )


@strawberry.type
class ChangeCaseMutations:
    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description="File a change case against a BOOKED-or-later charter (edit a quote directly).",
    )
    async def request_charter_change(
        self, info: Info, charter_id: strawberry.ID, input: RequestChangeInput
    ) -> ChangeCasePayload:
        viewer = await info.context.get_viewer()
        rules = policy(info)

        async def work(session: AsyncSession) -> Any:
            request = change_cases.ChangeRequest(
                change_type=input.change_type.value,
                title=input.title,
                reason=input.reason,
                priority=input.priority.value,
                impact_level=input.impact_level.value,
                proposed_price=input.proposed_price,
            )
            return await change_cases.request_change(
                session,
                parse_id(charter_id, "charterId"),
                await _changes(session, input.changes),
                request,
                viewer,
                rules,
                cancellation_fee=input.cancellation_fee,
                horizon_days=info.context.settings.charter_booking_horizon_days,
                typed=_typed(input),
            )

        return _payload(*await transact(info, work))

    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description="Move a change case along its workflow (seed 002): a pending case goes "
        "UNDER_REVIEW before it is APPROVED; approving, rejecting and cancelling need `notes` "
        "(the approval notes or the reason); a rejected case may still be cancelled. Approving "
        "needs an approver (a manager when the computed price moves by the configured "
        "threshold or more) other than the case's requester.",
    )
    async def move_change_case(
        self, info: Info, id: strawberry.ID, status: ChangeCaseStatus, notes: str | None = None
    ) -> ChangeCasePayload:
        viewer = await info.context.get_viewer()
        return _payload(
            *await transact(
                info,
                lambda s: change_cases.move(s, parse_id(id, "id"), status.value, viewer, notes),
            )
        )

    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description="Apply an approved case in one transaction, with implementation `notes` "
        "(required); a stale case is refused.",
    )
    async def implement_change_case(
        self, info: Info, id: strawberry.ID, notes: str | None = None
    ) -> ChangeCasePayload:
        viewer = await info.context.get_viewer()
        return _payload(
            *await transact(
                info, lambda s: change_cases.implement(s, parse_id(id, "id"), viewer, notes)
            )
        )
