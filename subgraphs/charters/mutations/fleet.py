"""Mutations on the operator's fleet: types, vehicles, drivers, blackouts."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from subgraphs.charters.enums import BlackoutKind, FleetStatus
from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.mutations.payloads import FleetPayload
from subgraphs.charters.service import fleet
from subgraphs.charters.service.access import FLEET
from subgraphs.charters.types import BlackoutDate, Driver, Vehicle, VehicleType
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow


@strawberry.type
class FleetMutations:
    @strawberry.mutation(extensions=[allow(*FLEET)])
    async def create_vehicle_type(
        self, info: Info, name: str, capacity: int, description: str | None = None
    ) -> FleetPayload:
        row, errors = await transact(
            info,
            lambda s: fleet.create_vehicle_type(
                s, name=name, capacity=capacity, description=description
            ),
        )
        return FleetPayload(
            vehicle_type=VehicleType.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(extensions=[allow(*FLEET)])
    async def create_vehicle(
        self, info: Info, plate: str, vehicle_type_id: strawberry.ID, name: str | None = None
    ) -> FleetPayload:
        row, errors = await transact(
            info,
            lambda s: fleet.create_vehicle(
                s,
                plate=plate,
                vehicle_type_id=parse_id(vehicle_type_id, "vehicleTypeId"),
                name=name,
            ),
        )
        return FleetPayload(vehicle=Vehicle.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*FLEET)])
    async def set_vehicle_status(
        self, info: Info, id: strawberry.ID, status: FleetStatus
    ) -> FleetPayload:
        row, errors = await transact(
            info, lambda s: fleet.set_vehicle_status(s, parse_id(id, "id"), status.value)
        )
        return FleetPayload(vehicle=Vehicle.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*FLEET)])
    async def create_driver(
        self,
        info: Info,
        user_id: strawberry.ID,
        name: str,
        licence_class: str,
        licence_expires_on: date,
    ) -> FleetPayload:
        row, errors = await transact(
            info,
            lambda s: fleet.create_driver(
                s,
                user_id=parse_id(user_id, "userId"),
                name=name,
                licence_class=licence_class,
                licence_expires_on=licence_expires_on,
            ),
        )
        return FleetPayload(driver=Driver.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*FLEET)], description="Block days for everyone or one vehicle type."
    )
    async def create_blackout_date(
        self,
        info: Info,
        starts_on: date,
        ends_on: date,
        kind: BlackoutKind,
        vehicle_type_id: strawberry.ID | None = None,
        description: str | None = None,
    ) -> FleetPayload:
        row, errors = await transact(
            info,
            lambda s: fleet.create_blackout(
                s,
                starts_on=starts_on,
                ends_on=ends_on,
                kind=kind.value,
                vehicle_type_id=parse_id(vehicle_type_id, "vehicleTypeId"),
                description=description,
            ),
        )
        return FleetPayload(
            blackout_date=BlackoutDate.from_row(row) if row else None, user_errors=errors
        )
