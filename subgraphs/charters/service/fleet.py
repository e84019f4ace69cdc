"""The operator's own fleet: vehicle types, vehicles, drivers, blackouts.

Availability is answered from the same exclusion-constrained rows that
guard bookings, so "available" and "bookable" cannot disagree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    BLACKOUT_KINDS,
    FLEET_STATUSES,
    BlackoutDate,
    CharterVehicle,
    Driver,
    Vehicle,
    VehicleType,
)
from subgraphs.charters.service.events import vehicle_type_changed
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def get_vehicle_type(session: AsyncSession, type_id: uuid.UUID, field: str) -> VehicleType:
    row = await session.get(VehicleType, type_id)
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Vehicle type {type_id} does not exist.", field)
    return row


async def create_vehicle_type(
    session: AsyncSession, *, name: str, capacity: int, description: str | None
) -> VehicleType:
    problems = []
    if not name.strip() or len(name) > 100:
        problems.append(Problem(Code.INVALID, "Name must be 1 to 100 characters.", "name"))
    if not 1 <= capacity <= 200:
        problems.append(Problem(Code.OUT_OF_RANGE, "Capacity must be 1 to 200.", "capacity"))
    if problems:
        raise ServiceError(problems)
    row = VehicleType(name=name.strip(), capacity=capacity, description=description)
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ServiceError.of(Code.CONFLICT, f"A vehicle type {name!r} exists.", "name") from exc
    await vehicle_type_changed(session, row)
    return row


async def create_vehicle(
    session: AsyncSession, *, plate: str, vehicle_type_id: uuid.UUID, name: str | None
) -> Vehicle:
    plate = plate.strip().upper()
    if not plate or len(plate) > 20:
        raise ServiceError.of(Code.INVALID, "Plate must be 1 to 20 characters.", "plate")
    await get_vehicle_type(session, vehicle_type_id, "vehicleTypeId")
    row = Vehicle(plate=plate, vehicle_type_id=vehicle_type_id, name=name, status="active")
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ServiceError.of(
            Code.CONFLICT, f"Plate {plate} is already registered.", "plate"
        ) from exc
    return row


async def set_vehicle_status(session: AsyncSession, vehicle_id: uuid.UUID, status: str) -> Vehicle:
    if status not in FLEET_STATUSES:
        raise ServiceError.of(Code.INVALID, f"Unknown vehicle status {status!r}.", "status")
    row = await session.get(Vehicle, vehicle_id, with_for_update=True)
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Vehicle {vehicle_id} does not exist.", "id")
    row.status = status
    return row


async def create_driver(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    name: str,
    licence_class: str,
    licence_expires_on: date,
) -> Driver:
    problems = []
    if not name.strip() or len(name) > 200:
        problems.append(Problem(Code.INVALID, "Name must be 1 to 200 characters.", "name"))
    if not licence_class.strip() or len(licence_class) > 20:
        problems.append(
            Problem(Code.INVALID, "Licence class must be 1 to 20 characters.", "licenceClass")
        )
    if problems:
        raise ServiceError(problems)
    row = Driver(
        user_id=user_id,
        name=name.strip(),
        licence_class=licence_class.strip().upper(),
        licence_expires_on=licence_expires_on,
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ServiceError.of(Code.CONFLICT, "This user is already a driver.", "userId") from exc
    return row


async def create_blackout(
    session: AsyncSession,
    *,
    starts_on: date,
    ends_on: date,
    kind: str,
    vehicle_type_id: uuid.UUID | None,
    description: str | None,
) -> BlackoutDate:
    if ends_on < starts_on:
        raise ServiceError.of(Code.INVALID, "The blackout ends before it starts.", "endsOn")
    if kind not in BLACKOUT_KINDS:
        raise ServiceError.of(Code.INVALID, f"Unknown blackout kind {kind!r}.", "kind")
    if vehicle_type_id is not None:
        await get_vehicle_type(session, vehicle_type_id, "vehicleTypeId")
    row = BlackoutDate(
        starts_on=starts_on,
        ends_on=ends_on,
        kind=kind,
        vehicle_type_id=vehicle_type_id,
        description=description,
    )
    session.add(row)
    await session.flush()
    return row


async def blackouts_on(
    session: AsyncSession, day: date, vehicle_type_ids: list[uuid.UUID] | None = None
) -> list[BlackoutDate]:
    """Blackouts covering `day`: global ones, and those of the given types."""
    scope = BlackoutDate.vehicle_type_id.is_(None)
    if vehicle_type_ids:
        scope = or_(scope, BlackoutDate.vehicle_type_id.in_(vehicle_type_ids))
    rows = await session.scalars(
        select(BlackoutDate).where(
            BlackoutDate.starts_on <= day, BlackoutDate.ends_on >= day, scope
        )
    )
    return list(rows)


async def ensure_not_blacked_out(
    session: AsyncSession, day: date, vehicle_type_ids: list[uuid.UUID], field: str = "pickupLocal"
) -> None:
    blocked = await blackouts_on(session, day, vehicle_type_ids)
    if blocked:
        what = blocked[0].description or blocked[0].kind
        raise ServiceError.of(
            Code.BLACKED_OUT, f"{day.isoformat()} is blacked out ({what}).", field
        )


@dataclass(frozen=True)
class AvailabilityQuery:
    starts_at: datetime
    ends_at: datetime
    vehicle_type_id: uuid.UUID | None = None
    min_capacity: int | None = None


async def available_vehicles(session: AsyncSession, query: AvailabilityQuery) -> list[Vehicle]:
    """Active vehicles with no resource-holding trip overlapping the window."""
    if query.ends_at <= query.starts_at:
        raise ServiceError.of(Code.INVALID, "The window ends before it starts.", "window")
    window = Range(query.starts_at, query.ends_at, bounds="[)")
    busy = select(CharterVehicle.vehicle_id).where(
        and_(
            CharterVehicle.vehicle_id.is_not(None),
            CharterVehicle.holds_resources.is_(True),
            CharterVehicle.busy.overlaps(window),
        )
    )
    stmt = (
        select(Vehicle)
        .join(VehicleType, VehicleType.id == Vehicle.vehicle_type_id)
        .where(Vehicle.status == "active", Vehicle.id.not_in(busy))
        .order_by(VehicleType.capacity, Vehicle.plate)
    )
    if query.vehicle_type_id is not None:
        stmt = stmt.where(Vehicle.vehicle_type_id == query.vehicle_type_id)
    if query.min_capacity is not None:
        stmt = stmt.where(VehicleType.capacity >= query.min_capacity)
    blocked_types = await _blacked_out_types(session, query.starts_at.date())
    if blocked_types is None:
        return []
    if blocked_types:
        stmt = stmt.where(Vehicle.vehicle_type_id.not_in(blocked_types))
    return list(await session.scalars(stmt))


async def _blacked_out_types(session: AsyncSession, day: date) -> list[uuid.UUID] | None:
    """Vehicle types blacked out on `day`; None when everything is."""
    blocked = await blackouts_on(session, day, None)
    if any(b.vehicle_type_id is None for b in blocked):
        return None
    rows = await session.scalars(
        select(BlackoutDate.vehicle_type_id).where(
            BlackoutDate.starts_on <= day,
            BlackoutDate.ends_on >= day,
            BlackoutDate.vehicle_type_id.is_not(None),
        )
    )
    return [r for r in rows if r is not None]
