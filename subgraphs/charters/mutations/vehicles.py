"""Mutations on a charter's vehicles: what was sold, and who serves it."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.enums import CharterVehicleStatus
from subgraphs.charters.mutations.common import edit_charter
from subgraphs.charters.mutations.inputs import (
    ChangeRequestInput,
    CharterVehicleInput,
    CharterVehiclePatch,
    change_request,
    parse_id,
    vehicle_values,
)
from subgraphs.charters.mutations.payloads import CharterPayload, CharterVehiclePayload
from subgraphs.charters.service import vehicles
from subgraphs.charters.service.access import DISPATCH, EDITORS
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.charters.types import CharterVehicle
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import transact, user_errors
from subgraphs.kit.permissions import allow

VEHICLE_CHANGE = "vehicle_change"


@strawberry.type
class VehicleMutations:
    @strawberry.mutation(extensions=[allow(*EDITORS)])
    async def add_charter_vehicle(
        self,
        info: Info,
        charter_id: strawberry.ID,
        vehicle: CharterVehicleInput,
        change: ChangeRequestInput | None = None,
    ) -> CharterPayload:
        try:
            key, values = parse_id(charter_id, "charterId"), vehicle_values(vehicle)
        except ServiceError as exc:
            return CharterPayload(user_errors=user_errors(exc))

        async def change_fn(session: AsyncSession):  # type: ignore[no-untyped-def]
            (filled,) = await with_capacity(session, values)

            def apply(snap: Snapshot) -> Snapshot:
                return vehicles.add_vehicle(snap, filled)

            return apply

        return await edit_charter(
            info, key, change_fn, change_request(change, VEHICLE_CHANGE, "Vehicle added")
        )

    @strawberry.mutation(extensions=[allow(*EDITORS)])
    async def update_charter_vehicle(
        self,
        info: Info,
        charter_id: strawberry.ID,
        charter_vehicle_id: strawberry.ID,
        vehicle: CharterVehiclePatch,
        change: ChangeRequestInput | None = None,
    ) -> CharterPayload:
        try:
            key = parse_id(charter_id, "charterId")
            vkey = parse_id(charter_vehicle_id, "charterVehicleId")
            values = vehicle_values(vehicle, partial=True)
        except ServiceError as exc:
            return CharterPayload(user_errors=user_errors(exc))

        async def change_fn(session: AsyncSession):  # type: ignore[no-untyped-def]
            if "vehicle_type_id" in values:
                await vehicles.with_type_capacity(session, [{"capacity": 1, **values}])

            def apply(snap: Snapshot) -> Snapshot:
                return vehicles.update_vehicle(snap, vkey, values)

            return apply

        return await edit_charter(
            info, key, change_fn, change_request(change, VEHICLE_CHANGE, "Vehicle changed")
        )

    @strawberry.mutation(extensions=[allow(*EDITORS)])
    async def remove_charter_vehicle(
        self,
        info: Info,
        charter_id: strawberry.ID,
        charter_vehicle_id: strawberry.ID,
        change: ChangeRequestInput | None = None,
    ) -> CharterPayload:
        try:
            key = parse_id(charter_id, "charterId")
            vkey = parse_id(charter_vehicle_id, "charterVehicleId")
        except ServiceError as exc:
            return CharterPayload(user_errors=user_errors(exc))

        async def change_fn(session: AsyncSession):  # type: ignore[no-untyped-def]
            def apply(snap: Snapshot) -> Snapshot:
                return vehicles.remove_vehicle(snap, vkey)

            return apply

        return await edit_charter(
            info, key, change_fn, change_request(change, VEHICLE_CHANGE, "Vehicle removed")
        )

    @strawberry.mutation(
        extensions=[allow(*DISPATCH)],
        description="Put a fleet vehicle and/or driver on a charter vehicle; refused if double-booked.",
    )
    async def assign_charter_vehicle(
        self,
        info: Info,
        charter_vehicle_id: strawberry.ID,
        vehicle_id: strawberry.ID | None = None,
        driver_id: strawberry.ID | None = None,
    ) -> CharterVehiclePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: vehicles.assign(
                s,
                parse_id(charter_vehicle_id, "charterVehicleId"),
                vehicle_id=parse_id(vehicle_id, "vehicleId"),
                driver_id=parse_id(driver_id, "driverId"),
                actor=viewer,
            ),
        )
        return CharterVehiclePayload(
            charter_vehicle=CharterVehicle.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(extensions=[allow(*DISPATCH)])
    async def set_charter_vehicle_status(
        self, info: Info, charter_vehicle_id: strawberry.ID, status: CharterVehicleStatus
    ) -> CharterVehiclePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: vehicles.set_status(
                s, parse_id(charter_vehicle_id, "charterVehicleId"), status.value, viewer
            ),
        )
        return CharterVehiclePayload(
            charter_vehicle=CharterVehicle.from_row(row) if row else None, user_errors=errors
        )


async def with_capacity(
    session: AsyncSession, values: dict[str, object]
) -> list[dict[str, object]]:
    return await vehicles.with_type_capacity(session, [values])
