"""The fleet's month at a glance (issue 15 §4): per day, the vehicles free all day and blackouts.

Staff and client portals draw one calendar: how many vehicles (of a type,
or any) are free for the whole day, out of how many, and which days are
blacked out. The rules are `fleet.available_vehicles`' for a whole day:

- a day is the operator's calendar day (`settings.operator_time_zone`), from
  local midnight to the next, so a DST day is 23 or 25 hours long;
- a vehicle counts when it is active; it is free that day when no
  resource-holding trip's `busy` range overlaps the day;
- a global blackout frees nothing that day; a vehicle type's blackout frees
  none of that type. `blackout` says whether any blackout concerns the
  asked type that day (global ones, that type's; every type's when no type
  is asked), `blackoutNames` what they are called (description, else kind).

Three statements whatever the month's length or the fleet's size (a fourth
checks a vehicle type asked for): active vehicles by type, busy vehicles by
day and type (the days are a `generate_series` in the database), and the
blackouts touching the month.
"""

from __future__ import annotations

import calendar
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Date, and_, cast, func, literal, select, true
from sqlalchemy.dialects.postgresql import TIMESTAMP, TSTZRANGE

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import BlackoutDate, CharterVehicle, Vehicle, VehicleType
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: The years a calendar may show: the operator's past and booking horizon, not year 9999.
FIRST_YEAR = 2000
LAST_YEAR = 2100
#: Names listed per day; more blackouts than this on one day still make it a blackout.
MAX_BLACKOUT_NAMES = 20


@dataclass(frozen=True)
class FleetDay:
    day: date
    vehicles_free: int
    vehicles_total: int
    blackout: bool
    blackout_names: list[str]


def month_days(year: int, month: int) -> list[date]:
    if not 1 <= month <= 12:
        raise ServiceError.of(Code.OUT_OF_RANGE, "The month is 1 to 12.", "month")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, f"The year is {FIRST_YEAR} to {LAST_YEAR}.", "year"
        )
    first = date(year, month, 1)
    return [first + timedelta(days=i) for i in range(calendar.monthrange(year, month)[1])]


def _blackout_name(row: BlackoutDate) -> str:
    return row.description or row.kind


async def fleet_month(
    session: AsyncSession,
    year: int,
    month: int,
    vehicle_type_id: uuid.UUID | None,
    time_zone: str,
) -> list[FleetDay]:
    days = month_days(year, month)
    first, last = days[0], days[-1]
    of_type = Vehicle.vehicle_type_id == vehicle_type_id if vehicle_type_id else true()

    # 1. the fleet: active vehicles, by type
    fleet = await session.execute(
        select(Vehicle.vehicle_type_id, func.count())
        .where(Vehicle.status == "active", of_type)
        .group_by(Vehicle.vehicle_type_id)
    )
    totals: dict[uuid.UUID, int] = {row[0]: row[1] for row in fleet.all()}

    # 2. busy vehicles by local day and type: a trip holding a vehicle overlaps the day
    day = (
        func.generate_series(
            cast(literal(first), Date), cast(literal(last), Date), literal(timedelta(days=1))
        )
        .table_valued("value", name="day")
        .render_derived()
    )
    day_local = cast(day.c.value, TIMESTAMP)
    day_range = func.tstzrange(
        func.timezone(time_zone, day_local),
        func.timezone(time_zone, day_local + timedelta(days=1)),
        "[)",
        type_=TSTZRANGE,
    )
    busy: dict[date, dict[uuid.UUID, int]] = defaultdict(dict)
    rows = await session.execute(
        select(
            cast(day.c.value, Date),
            Vehicle.vehicle_type_id,
            func.count(func.distinct(CharterVehicle.vehicle_id)),
        )
        .select_from(day)
        .join(
            CharterVehicle,
            and_(
                CharterVehicle.holds_resources.is_(True),
                CharterVehicle.vehicle_id.is_not(None),
                CharterVehicle.busy.op("&&")(day_range),
            ),
        )
        .join(Vehicle, Vehicle.id == CharterVehicle.vehicle_id)
        .where(Vehicle.status == "active", of_type)
        .group_by(cast(day.c.value, Date), Vehicle.vehicle_type_id)
    )
    for on, type_id, count in rows.all():
        busy[on][type_id] = count

    # 3. blackouts touching the month
    blackout_rows = list(
        await session.scalars(
            select(BlackoutDate)
            .where(BlackoutDate.starts_on <= last, BlackoutDate.ends_on >= first)
            .order_by(BlackoutDate.starts_on, BlackoutDate.id)
        )
    )

    result = []
    for on in days:
        today = [b for b in blackout_rows if b.starts_on <= on <= b.ends_on]
        everywhere = any(b.vehicle_type_id is None for b in today)
        blocked_types = {b.vehicle_type_id for b in today if b.vehicle_type_id is not None}
        concerning = [
            b
            for b in today
            if vehicle_type_id is None or b.vehicle_type_id in (None, vehicle_type_id)
        ]
        free = (
            0
            if everywhere
            else sum(
                total - busy[on].get(type_id, 0)
                for type_id, total in totals.items()
                if type_id not in blocked_types
            )
        )
        result.append(
            FleetDay(
                day=on,
                vehicles_free=free,
                vehicles_total=sum(totals.values()),
                blackout=bool(concerning),
                blackout_names=[_blackout_name(b) for b in concerning][:MAX_BLACKOUT_NAMES],
            )
        )
    return result


async def ensure_vehicle_type(session: AsyncSession, vehicle_type_id: uuid.UUID) -> None:
    if await session.get(VehicleType, vehicle_type_id) is None:
        raise ServiceError.of(Code.NOT_FOUND, "Unknown vehicle type.", "vehicleTypeId")
