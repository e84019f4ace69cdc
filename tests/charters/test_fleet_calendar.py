"""`fleetCalendar`: per local day, the vehicles free all day, the total, and blackouts.

The fleet and its trips are written straight to charters' tables (vehicles,
a charter holding them for a window); the calendar is read through the
service and, for the gate and the statement count, through the subgraph.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import Range

from db.engine import record_statements
from subgraphs.charters.models import BlackoutDate, Charter, CharterVehicle, Vehicle, VehicleType
from subgraphs.charters.service.fleet_calendar import FleetDay, fleet_month

CHICAGO = ZoneInfo("America/Chicago")
CALENDAR = """query($year: Int!, $month: Int!, $type: ID) {
  fleetCalendar(year: $year, month: $month, vehicleTypeId: $type) {
    year month vehicleTypeId days { date vehiclesFree vehiclesTotal blackout blackoutNames } } }"""


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


async def vehicle_type(session: Any, name: str, capacity: int) -> VehicleType:
    row = VehicleType(name=f"{name} {uuid.uuid4().hex[:6]}", capacity=capacity)
    session.add(row)
    await session.flush()
    return row


async def vehicle(session: Any, kind: VehicleType, status: str = "active") -> Vehicle:
    row = Vehicle(plate=f"P-{uuid.uuid4().hex[:8]}", vehicle_type_id=kind.id, status=status)
    session.add(row)
    await session.flush()
    return row


async def trip(
    session: Any, bus: Vehicle, start: datetime, end: datetime, *, holds: bool = True
) -> None:
    """A charter holding `bus` from `start` to `end` (a cancelled one holds nothing)."""
    charter = Charter(
        reference=f"CH-2026-{uuid.uuid4().int % 10**6:06d}",
        status="booked" if holds else "cancelled",
        client_id=uuid.uuid4(),
        trip_type="one_way",
        passenger_count=20,
        pickup_local=start.replace(tzinfo=None),
        pickup_time_zone="America/Chicago",
        pickup_at=start.astimezone(UTC),
        ends_at=end.astimezone(UTC),
    )
    session.add(charter)
    await session.flush()
    session.add(
        CharterVehicle(
            charter_id=charter.id,
            vehicle_type_id=bus.vehicle_type_id,
            capacity=56,
            cost=Decimal("900.00"),
            vehicle_id=bus.id,
            busy=Range(start.astimezone(UTC), end.astimezone(UTC), bounds="[)"),
            holds_resources=holds,
        )
    )
    await session.flush()


async def blackout(
    session: Any, start: date, end: date, description: str, kind: VehicleType | None = None
) -> None:
    session.add(
        BlackoutDate(
            starts_on=start,
            ends_on=end,
            kind="holiday" if kind is None else "maintenance",
            description=description,
            vehicle_type_id=kind.id if kind else None,
        )
    )
    await session.flush()


async def july_fleet(sessions: Any) -> dict[str, VehicleType]:
    """Two coaches and a van in service, a coach in the shop; trips and blackouts in July 2026."""
    async with sessions() as session, session.begin():
        coach = await vehicle_type(session, "Coach", 56)
        van = await vehicle_type(session, "Van", 14)
        first, second = await vehicle(session, coach), await vehicle(session, coach)
        await vehicle(session, coach, status="maintenance")
        await vehicle(session, van)
        # overnight: busy on the 3rd and the 4th
        await trip(session, first, local(date(2026, 7, 3), 22), local(date(2026, 7, 4), 2))
        # cancelled: holds nothing
        await trip(
            session, second, local(date(2026, 7, 10), 10), local(date(2026, 7, 10), 12), holds=False
        )
        await trip(session, second, local(date(2026, 7, 15), 8), local(date(2026, 7, 15), 18))
        await blackout(session, date(2026, 7, 4), date(2026, 7, 4), "Independence Day")
        await blackout(session, date(2026, 7, 20), date(2026, 7, 21), "Van inspections", van)
    return {"coach": coach, "van": van}


def by_day(days: list[FleetDay]) -> dict[int, tuple[int, int, bool, list[str]]]:
    return {
        d.day.day: (d.vehicles_free, d.vehicles_total, d.blackout, d.blackout_names) for d in days
    }


async def month(sessions: Any, kind: VehicleType | None = None) -> list[FleetDay]:
    async with sessions() as session:
        return await fleet_month(session, 2026, 7, kind.id if kind else None, "America/Chicago")


async def test_a_day_counts_the_vehicles_no_trip_holds_and_blackouts_free_none(
    sessions: Any,
) -> None:
    fleet = await july_fleet(sessions)

    every = by_day(await month(sessions))
    coaches = by_day(await month(sessions, fleet["coach"]))
    vans = by_day(await month(sessions, fleet["van"]))

    assert len(every) == 31
    assert every[1] == (3, 3, False, [])
    assert every[3] == (2, 3, False, [])
    assert every[4] == (0, 3, True, ["Independence Day"])
    assert every[10] == (3, 3, False, [])
    assert every[15] == (2, 3, False, [])
    assert every[20] == (2, 3, True, ["Van inspections"])
    assert (coaches[15], coaches[20], coaches[4]) == (
        (1, 2, False, []),
        (2, 2, False, []),
        (0, 2, True, ["Independence Day"]),
    )
    assert (vans[15], vans[21]) == ((1, 1, False, []), (0, 1, True, ["Van inspections"]))


async def test_days_are_the_operators_local_days_across_the_dst_change(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        coach = await vehicle_type(session, "Coach", 56)
        bus = await vehicle(session, coach)
        # 23:15-23:45 on the day clocks fall back: 05:15 UTC on the 2nd
        await trip(session, bus, local(date(2026, 11, 1), 23, 15), local(date(2026, 11, 1), 23, 45))

    async with sessions() as session:
        days = by_day(await fleet_month(session, 2026, 11, None, "America/Chicago"))

    assert (len(days), days[1][0], days[2][0]) == (30, 0, 1)


async def test_staff_and_clients_read_it_in_a_constant_number_of_statements(
    sessions: Any, staff: Any, as_role: Any
) -> None:
    empty = await staff(CALENDAR, {"year": 2026, "month": 7})
    with record_statements() as recorder:
        (await staff(CALENDAR, {"year": 2026, "month": 7})).ok()
    before = len(recorder.statements)
    fleet = await july_fleet(sessions)
    with record_statements() as recorder:
        data = (await staff(CALENDAR, {"year": 2026, "month": 7})).ok()["fleetCalendar"]
    after = len(recorder.statements)
    client = await (await as_role("client"))(
        CALENDAR, {"year": 2026, "month": 7, "type": str(fleet["coach"].id)}
    )

    assert empty.ok()["fleetCalendar"]["days"][0]["vehiclesTotal"] == 0
    assert before == after
    assert (data["year"], data["month"], data["vehicleTypeId"], len(data["days"])) == (
        2026,
        7,
        None,
        31,
    )
    assert data["days"][3] == {
        "date": "2026-07-04",
        "vehiclesFree": 0,
        "vehiclesTotal": 3,
        "blackout": True,
        "blackoutNames": ["Independence Day"],
    }
    assert client.ok()["fleetCalendar"]["days"][14]["vehiclesFree"] == 1


async def test_others_are_refused_and_bad_months_are_bad_input(staff: Any, as_role: Any) -> None:
    vendor = await (await as_role("vendor"))(CALENDAR, {"year": 2026, "month": 7})
    driver = await (await as_role("driver"))(CALENDAR, {"year": 2026, "month": 7})
    thirteenth = await staff(CALENDAR, {"year": 2026, "month": 13})
    far = await staff(CALENDAR, {"year": 9999, "month": 1})
    unknown = await staff(CALENDAR, {"year": 2026, "month": 7, "type": str(uuid.uuid4())})

    assert vendor.error_codes == ["FORBIDDEN"]
    assert driver.error_codes == ["FORBIDDEN"]
    assert thirteenth.error_codes == ["BAD_USER_INPUT"]
    assert far.error_codes == ["BAD_USER_INPUT"]
    assert unknown.error_codes == ["NOT_FOUND"]
