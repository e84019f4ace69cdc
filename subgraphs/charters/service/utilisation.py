"""Vehicle utilisation (issue 16 §2, seed 003): booked hours over available hours.

The report and the manager dashboard read these figures from here, so the
rules live once:

- the fleet is the operator's own vehicles whose status is `active` now (a
  bus retired since the window is not in it: the figure is about the fleet
  that works today);
- booked hours are the hours of the window `[from, to)` covered by the
  vehicle's trips (`charter_vehicles.busy`), overlaps merged, for charters
  that are booked or later (booked, confirmed, in progress, completed). Not
  `holds_resources`: a completed trip gives its vehicle back (that flag turns
  false) yet its hours were worked, and a quote holds a vehicle without being
  a booking. Cancelled charters and templates count nothing;
- available hours are the window's hours less those blacked out for the
  vehicle's type (its own blackouts and global ones, overlaps merged). A
  blackout covers whole days of the operator's time zone, so a DST day is 23
  or 25 hours long;
- hours are rounded once, half up, to 2 decimal places; a type's hours are the
  sums of its vehicles' hours as shown, and every utilisation is the ratio of
  the hours shown (4 places, null when nothing is available). It exceeds 1
  only when a trip runs on a day blacked out after it was booked.

Two statements whatever the window or the fleet: the vehicles with their
merged busy time (`range_agg`, the busy ranges clipped to the window), and the
vehicle types in service with their merged blackout time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, DateTime, and_, cast, extract, func, literal, or_, select
from sqlalchemy.dialects.postgresql import TIMESTAMP, TSTZRANGE

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import BlackoutDate, Charter, CharterVehicle, Vehicle, VehicleType
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.figures import ratio

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: The longest window asked at once: a year, leap day included.
MAX_WINDOW = timedelta(days=366)
#: Charter statuses whose trips count as booked time.
BOOKED_STATUSES = ("booked", "confirmed", "in_progress", "completed")
HOURS = Decimal("0.01")
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class VehicleHours:
    vehicle: Any
    vehicle_type: Any
    booked_hours: Decimal
    available_hours: Decimal
    utilisation: Decimal | None


@dataclass(frozen=True)
class TypeHours:
    vehicle_type: Any
    vehicles: int
    booked_hours: Decimal
    available_hours: Decimal
    utilisation: Decimal | None


@dataclass(frozen=True)
class Utilisation:
    start: datetime
    end: datetime
    #: By type name, then plate.
    vehicles: list[VehicleHours]
    #: By type name: the types with an active vehicle.
    by_type: list[TypeHours]


def check_window(start: datetime, end: datetime) -> None:
    """`[from, to)`: `to` after `from`, at most `MAX_WINDOW` long, both with a time zone."""
    for value, field in ((start, "from"), (end, "to")):
        if value.tzinfo is None:
            raise ServiceError.of(Code.INVALID, f"`{field}` needs a time zone offset.", field)
    # in UTC: Python compares and subtracts times sharing one zone as wall times
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ServiceError.of(Code.OUT_OF_RANGE, "`to` must be after `from`.", "to")
    if end - start > MAX_WINDOW:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, f"The window is at most {MAX_WINDOW.days} days long.", "to"
        )


def hours(seconds: Decimal | float | int) -> Decimal:
    return (Decimal(seconds) / SECONDS_PER_HOUR).quantize(HOURS, ROUND_HALF_UP)


def _seconds_of(merged: Any) -> Any:
    """Seconds covered by the ranges `merged` unnests to (a set-returning column)."""
    return func.coalesce(func.sum(extract("epoch", func.upper(merged) - func.lower(merged))), 0)


async def vehicle_utilisation(
    session: AsyncSession, start: datetime, end: datetime, time_zone: str
) -> Utilisation:
    check_window(start, end)
    stamp = DateTime(timezone=True)
    window = func.tstzrange(literal(start, stamp), literal(end, stamp), "[)", type_=TSTZRANGE)

    # 1. each active vehicle's booked time in the window: its trips' busy ranges, clipped
    #    to the window and merged (range_agg), unnested to ranges and summed
    merged_busy = (
        select(
            CharterVehicle.vehicle_id.label("vehicle_id"),
            func.unnest(func.range_agg(CharterVehicle.busy.op("*")(window))).label("part"),
        )
        .join(Charter, Charter.id == CharterVehicle.charter_id)
        .where(
            CharterVehicle.vehicle_id.is_not(None),
            CharterVehicle.busy.op("&&")(window),
            Charter.status.in_(BOOKED_STATUSES),
            Charter.is_template.is_(False),
        )
        .group_by(CharterVehicle.vehicle_id)
        .subquery("merged_busy")
    )
    booked = (
        select(merged_busy.c.vehicle_id, _seconds_of(merged_busy.c.part).label("seconds"))
        .group_by(merged_busy.c.vehicle_id)
        .subquery("booked")
    )
    vehicle_rows = (
        await session.execute(
            select(Vehicle, func.coalesce(booked.c.seconds, 0))
            .outerjoin(booked, booked.c.vehicle_id == Vehicle.id)
            .where(Vehicle.status == "active")
        )
    ).all()

    # 2. each vehicle type in service, with its blacked-out time in the window: its own
    #    blackouts and global ones, each from local midnight of its first day to local
    #    midnight after its last, clipped to the window and merged
    in_service = select(Vehicle.vehicle_type_id).where(Vehicle.status == "active")
    first_day = cast(func.timezone(time_zone, literal(start, stamp)), Date)
    last_day = cast(func.timezone(time_zone, literal(end, stamp)), Date)
    blackout_range = func.tstzrange(
        func.timezone(time_zone, cast(BlackoutDate.starts_on, TIMESTAMP)),
        func.timezone(time_zone, cast(BlackoutDate.ends_on, TIMESTAMP) + timedelta(days=1)),
        "[)",
        type_=TSTZRANGE,
    )
    merged_blackouts = (
        select(
            VehicleType.id.label("type_id"),
            func.unnest(func.range_agg(blackout_range.op("*")(window))).label("part"),
        )
        .join(
            BlackoutDate,
            and_(
                or_(
                    BlackoutDate.vehicle_type_id == VehicleType.id,
                    BlackoutDate.vehicle_type_id.is_(None),
                ),
                BlackoutDate.starts_on <= last_day,
                BlackoutDate.ends_on >= first_day,
            ),
        )
        .group_by(VehicleType.id)
        .subquery("merged_blackouts")
    )
    blacked = (
        select(merged_blackouts.c.type_id, _seconds_of(merged_blackouts.c.part).label("seconds"))
        .group_by(merged_blackouts.c.type_id)
        .subquery("blacked")
    )
    type_rows = (
        await session.execute(
            select(VehicleType, func.coalesce(blacked.c.seconds, 0))
            .outerjoin(blacked, blacked.c.type_id == VehicleType.id)
            .where(VehicleType.id.in_(in_service))
        )
    ).all()

    window_seconds = Decimal((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())
    types: dict[uuid.UUID, tuple[Any, Decimal]] = {
        kind.id: (kind, hours(window_seconds - Decimal(seconds))) for kind, seconds in type_rows
    }
    vehicles = []
    for vehicle, seconds in vehicle_rows:
        kind, available = types[vehicle.vehicle_type_id]
        booked_hours = hours(seconds)
        vehicles.append(
            VehicleHours(
                vehicle=vehicle,
                vehicle_type=kind,
                booked_hours=booked_hours,
                available_hours=available,
                utilisation=ratio(booked_hours, available),
            )
        )
    vehicles.sort(key=lambda v: (v.vehicle_type.name, v.vehicle.plate))
    by_type = []
    for kind, _ in sorted(types.values(), key=lambda t: t[0].name):
        mine = [v for v in vehicles if v.vehicle_type.id == kind.id]
        booked_sum = sum((v.booked_hours for v in mine), Decimal("0.00"))
        available_sum = sum((v.available_hours for v in mine), Decimal("0.00"))
        by_type.append(
            TypeHours(
                vehicle_type=kind,
                vehicles=len(mine),
                booked_hours=booked_sum,
                available_hours=available_sum,
                utilisation=ratio(booked_sum, available_sum),
            )
        )
    return Utilisation(start=start, end=end, vehicles=vehicles, by_type=by_type)
