"""A charter's vehicles: content edits on snapshots, and resource assignment.

Adding or removing a vehicle changes what was sold (a change case once
booked). Putting a specific vehicle or driver on it is operations: it
applies at once, and the exclusion constraints refuse a double booking.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.charters import states
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter, CharterVehicle, Driver, Vehicle, VehicleType
from subgraphs.charters.service import audit, events, recovery, tasks
from subgraphs.charters.service.access import DISPATCH, ensure_role
from subgraphs.charters.service.conflicts import flush_resources
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.charters.service.timing import now
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.ids import parse_uuid

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer


async def with_type_capacity(
    session: AsyncSession, vehicles: list[dict[str, Any]], field: str = "vehicles"
) -> list[dict[str, Any]]:
    """Fill each vehicle's capacity from its type when not given; check types exist."""
    ids = {parse_uuid(v["vehicle_type_id"]) for v in vehicles} - {None}
    types = {
        t.id: t for t in await session.scalars(select(VehicleType).where(VehicleType.id.in_(ids)))
    }
    problems, filled = [], []
    for i, vehicle in enumerate(vehicles):
        vtype = types.get(parse_uuid(vehicle["vehicle_type_id"]))
        if vtype is None:
            problems.append(
                Problem(Code.NOT_FOUND, "Unknown vehicle type.", f"{field}.{i}.vehicleTypeId")
            )
            continue
        filled.append({**vehicle, "capacity": vehicle.get("capacity") or vtype.capacity})
    if problems:
        raise ServiceError(problems)
    return filled


def _index(snap: Snapshot, charter_vehicle_id: uuid.UUID) -> int:
    for i, vehicle in enumerate(snap["vehicles"]):
        if vehicle["id"] == str(charter_vehicle_id):
            return i
    raise ServiceError.of(
        Code.NOT_FOUND, f"Vehicle {charter_vehicle_id} is not on this charter.", "charterVehicleId"
    )


def add_vehicle(snap: Snapshot, vehicle: dict[str, Any]) -> Snapshot:
    snap["vehicles"].append({**vehicle, "id": str(uuid.uuid4())})
    return snap


def update_vehicle(
    snap: Snapshot, charter_vehicle_id: uuid.UUID, fields: dict[str, Any]
) -> Snapshot:
    i = _index(snap, charter_vehicle_id)
    snap["vehicles"][i] = {**snap["vehicles"][i], **fields, "id": str(charter_vehicle_id)}
    return snap


def remove_vehicle(snap: Snapshot, charter_vehicle_id: uuid.UUID) -> Snapshot:
    del snap["vehicles"][_index(snap, charter_vehicle_id)]
    return snap


async def get_charter_vehicle(
    session: AsyncSession, charter_vehicle_id: uuid.UUID
) -> tuple[CharterVehicle, Charter]:
    """Lock the charter, then its vehicle: the order every charter edit uses."""
    charter_id = await session.scalar(
        select(CharterVehicle.charter_id).where(CharterVehicle.id == charter_vehicle_id)
    )
    if charter_id is None:
        raise ServiceError.of(
            Code.NOT_FOUND,
            f"Charter vehicle {charter_vehicle_id} does not exist.",
            "charterVehicleId",
        )
    charter = (
        await session.scalars(select(Charter).where(Charter.id == charter_id).with_for_update())
    ).one()
    row = (
        await session.scalars(
            select(CharterVehicle)
            .where(CharterVehicle.id == charter_vehicle_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    return row, charter


async def assign(
    session: AsyncSession,
    charter_vehicle_id: uuid.UUID,
    *,
    vehicle_id: uuid.UUID | None,
    driver_id: uuid.UUID | None,
    actor: Viewer,
) -> CharterVehicle:
    """Put a specific vehicle and/or driver on a charter vehicle (None keeps it)."""
    ensure_role(actor, DISPATCH, "assign vehicles and drivers")
    row, charter = await get_charter_vehicle(session, charter_vehicle_id)
    if charter.status not in states.HOLDING:
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"{charter.reference} is {charter.status}.", "charterVehicleId"
        )
    old = audit.row_snapshot(row)
    previous_driver_id = row.driver_id
    driver: Driver | None = None
    if vehicle_id is not None:
        vehicle = await session.get(Vehicle, vehicle_id)
        if vehicle is None:
            raise ServiceError.of(
                Code.NOT_FOUND, f"Vehicle {vehicle_id} does not exist.", "vehicleId"
            )
        if vehicle.status != "active":
            raise ServiceError.of(
                Code.VEHICLE_UNAVAILABLE, f"{vehicle.plate} is {vehicle.status}.", "vehicleId"
            )
        vtype = await session.get(VehicleType, vehicle.vehicle_type_id)
        if vtype is not None and vtype.capacity < row.capacity:
            raise ServiceError.of(
                Code.INSUFFICIENT_CAPACITY,
                f"{vehicle.plate} seats {vtype.capacity}, this trip needs {row.capacity}.",
                "vehicleId",
            )
        row.vehicle_id = vehicle_id
    if driver_id is not None:
        driver = await session.get(Driver, driver_id)
        if driver is None or not driver.active:
            raise ServiceError.of(Code.NOT_FOUND, f"Driver {driver_id} does not exist.", "driverId")
        if driver.licence_expires_on < charter.pickup_local.date():
            raise ServiceError.of(
                Code.INVALID, f"{driver.name}'s licence expires before the trip.", "driverId"
            )
        row.driver_id = driver_id
    if row.vehicle_id is not None and row.status == "pending":
        row.status = "assigned"
    await flush_resources(session, [row])
    audit.record(
        session,
        charter_id=charter.id,
        entity="charter_vehicle",
        entity_id=row.id,
        action="assign",
        actor=actor,
        old=old,
        new=audit.row_snapshot(row),
    )
    changed = ["vehicles"]
    # The readiness tasks these assignments satisfy complete themselves (by the fact).
    for kind, assigned in (("vehicle_assigned", vehicle_id), ("driver_assigned", driver_id)):
        if assigned is not None and await tasks.satisfy(
            session, charter.id, row.id, kind, now(), announce=False
        ):
            changed.append("tasks")
    if driver_id is not None:
        # Another driver settles the vehicle's emergency reassignment, if one is open.
        await recovery.on_driver_assigned(session, row, charter, actor)
    await events.charter_changed(session, charter, changed, charterVehicleId=str(row.id))
    if driver is not None and driver_id != previous_driver_id:
        await events.driver_assigned(
            session,
            charter,
            row,
            driver.user_id,
            driver_name=driver.name,
            vehicle_description=await _vehicle_description(session, row),
        )
    return row


async def _vehicle_description(session: AsyncSession, row: CharterVehicle) -> str | None:
    """What the driver drives, e.g. 'Coach 12 (56 seats)'; None until a vehicle is assigned."""
    if row.vehicle_id is None:
        return None
    vehicle = await session.get(Vehicle, row.vehicle_id)
    if vehicle is None:
        return None
    vtype = await session.get(VehicleType, vehicle.vehicle_type_id)
    name = vehicle.name or vehicle.plate
    return f"{name} ({vtype.capacity} seats)" if vtype else name


async def set_status(
    session: AsyncSession, charter_vehicle_id: uuid.UUID, status: str, actor: Viewer
) -> CharterVehicle:
    ensure_role(actor, DISPATCH, "change vehicle status")
    row, charter = await get_charter_vehicle(session, charter_vehicle_id)
    states.CHARTER_VEHICLE.check(row.status, status)
    if status == "assigned" and row.vehicle_id is None:
        raise ServiceError.of(Code.INVALID, "Assign a vehicle first.", "status")
    old = audit.row_snapshot(row)
    row.status = status
    audit.record(
        session,
        charter_id=charter.id,
        entity="charter_vehicle",
        entity_id=row.id,
        action=f"status:{status}",
        actor=actor,
        old=old,
        new=audit.row_snapshot(row),
    )
    await events.charter_changed(session, charter, ["vehicles"], charterVehicleId=str(row.id))
    return row
