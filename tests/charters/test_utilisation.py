"""`vehicleUtilisation`: booked hours over available hours, per active vehicle and per type.

The fleet, its trips and blackouts are written straight to charters' tables;
the figures are read through the service (plain values and a session) and,
for the gate, the bad input and the statement count, through the subgraph.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects.postgresql import Range

from db.engine import record_statements
from subgraphs.charters.models import BlackoutDate, Charter, CharterVehicle, Vehicle, VehicleType
from subgraphs.charters.service.utilisation import Utilisation, vehicle_utilisation
from subgraphs.kit.errors import ServiceError

CHICAGO = ZoneInfo("America/Chicago")
ZONE = "America/Chicago"
UTILISATION = """query($from: DateTime!, $to: DateTime!) {
  vehicleUtilisation(from: $from, to: $to) {
    from to
    vehicles { vehicle { plate } vehicleType { name } bookedHours availableHours utilisation }
    byType { vehicleType { name } vehicles bookedHours availableHours utilisation } } }"""


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


JULY_1, JULY_8 = local(date(2026, 7, 1), 0), local(date(2026, 7, 8), 0)


async def vehicle_type(session: Any, name: str) -> VehicleType:
    row = VehicleType(name=name, capacity=50)
    session.add(row)
    await session.flush()
    return row


async def vehicle(session: Any, kind: VehicleType, plate: str, status: str = "active") -> Vehicle:
    row = Vehicle(plate=plate, vehicle_type_id=kind.id, status=status)
    session.add(row)
    await session.flush()
    return row


async def trip(
    session: Any, bus: Vehicle, start: datetime, end: datetime, status: str = "booked"
) -> None:
    """A charter in `status` using `bus` from `start` to `end`; held as the model holds it."""
    charter = Charter(
        reference=f"CH-2026-{uuid.uuid4().int % 10**6:06d}",
        status=status,
        client_id=uuid.uuid4(),
        trip_type="one_way",
        passenger_count=20,
        pickup_local=start.replace(tzinfo=None),
        pickup_time_zone=ZONE,
        pickup_at=start.astimezone(UTC),
        ends_at=end.astimezone(UTC),
    )
    session.add(charter)
    await session.flush()
    session.add(
        CharterVehicle(
            charter_id=charter.id,
            vehicle_type_id=bus.vehicle_type_id,
            capacity=50,
            cost=Decimal("900.00"),
            vehicle_id=bus.id,
            busy=Range(start.astimezone(UTC), end.astimezone(UTC), bounds="[)"),
            holds_resources=status in ("quote", "booked", "confirmed", "in_progress"),
        )
    )
    await session.flush()


async def blackout(session: Any, start: date, end: date, kind: VehicleType | None = None) -> None:
    session.add(
        BlackoutDate(
            starts_on=start,
            ends_on=end,
            kind="holiday" if kind is None else "maintenance",
            vehicle_type_id=kind.id if kind else None,
        )
    )
    await session.flush()


async def july_fleet(sessions: Any) -> None:
    """Two coaches and a van in service, a coach in the shop; the first week of July 2026."""
    async with sessions() as session, session.begin():
        coach, van = await vehicle_type(session, "Coach"), await vehicle_type(session, "Van")
        first = await vehicle(session, coach, "C-1")
        second = await vehicle(session, coach, "C-2")
        shop = await vehicle(session, coach, "C-9", status="maintenance")
        await vehicle(session, van, "V-1")
        # C-1: 2 h inside the window (the trip starts before it), 4 h booked,
        # two completed trips overlapping by an hour (5 h merged), a cancelled one and a quote
        await trip(session, first, local(date(2026, 6, 30), 22), local(date(2026, 7, 1), 2))
        await trip(session, first, local(date(2026, 7, 2), 10), local(date(2026, 7, 2), 14))
        day3 = date(2026, 7, 3)
        await trip(session, first, local(day3, 8), local(day3, 12), "completed")
        await trip(session, first, local(day3, 11), local(day3, 13), "completed")
        await trip(session, first, local(day3, 9), local(day3, 10), "completed")
        await trip(
            session, first, local(date(2026, 7, 4), 8), local(date(2026, 7, 4), 18), "cancelled"
        )
        await trip(session, first, local(date(2026, 7, 5), 8), local(date(2026, 7, 5), 18), "quote")
        # C-2: 10 minutes, and 4 h of an overnight trip that ends after the window
        await trip(session, second, local(date(2026, 7, 6), 9), local(date(2026, 7, 6), 9, 10))
        await trip(session, second, local(date(2026, 7, 7), 20), local(date(2026, 7, 8), 4))
        # not in service: counts nowhere
        await trip(session, shop, local(date(2026, 7, 2), 8), local(date(2026, 7, 2), 18))
        # a holiday for every type; the vans' inspection day, and their own on the holiday
        await blackout(session, date(2026, 7, 4), date(2026, 7, 4))
        await blackout(session, date(2026, 7, 6), date(2026, 7, 6), van)
        await blackout(session, date(2026, 7, 4), date(2026, 7, 4), van)
        # outside the window: changes nothing
        await blackout(session, date(2026, 7, 8), date(2026, 7, 9))


async def figures(sessions: Any, start: datetime, end: datetime) -> Utilisation:
    async with sessions() as session:
        return await vehicle_utilisation(session, start, end, ZONE)


async def test_booked_hours_merge_overlaps_and_available_hours_lose_blackout_days(
    sessions: Any,
) -> None:
    await july_fleet(sessions)

    result = await figures(sessions, JULY_1, JULY_8)

    rows = [
        (v.vehicle.plate, v.vehicle_type.name, v.booked_hours, v.available_hours, v.utilisation)
        for v in result.vehicles
    ]
    types = [
        (t.vehicle_type.name, t.vehicles, t.booked_hours, t.available_hours, t.utilisation)
        for t in result.by_type
    ]
    # 168 h in the week; the holiday takes 24 h from each, the vans' inspection 24 more
    assert rows == [
        ("C-1", "Coach", Decimal("11.00"), Decimal("144.00"), Decimal("0.0764")),
        ("C-2", "Coach", Decimal("4.17"), Decimal("144.00"), Decimal("0.0290")),
        ("V-1", "Van", Decimal("0.00"), Decimal("120.00"), Decimal("0.0000")),
    ]
    assert types == [
        ("Coach", 2, Decimal("15.17"), Decimal("288.00"), Decimal("0.0527")),
        ("Van", 1, Decimal("0.00"), Decimal("120.00"), Decimal("0.0000")),
    ]


async def test_a_blackout_day_is_the_operators_local_day_across_the_dst_change(
    sessions: Any,
) -> None:
    async with sessions() as session, session.begin():
        coach = await vehicle_type(session, "Coach")
        await vehicle(session, coach, "C-1")
        # clocks fall back on 1 November 2026: that local day is 25 hours long
        await blackout(session, date(2026, 11, 1), date(2026, 11, 1))

    result = await figures(sessions, local(date(2026, 10, 31), 0), local(date(2026, 11, 3), 0))

    # 73 h from local midnight to local midnight three days later, less the 25 h day
    assert [(v.available_hours, v.utilisation) for v in result.vehicles] == [
        (Decimal("48.00"), Decimal("0.0000"))
    ]


async def test_a_window_all_blacked_out_has_no_utilisation_and_an_empty_fleet_no_rows(
    sessions: Any,
) -> None:
    empty = await figures(sessions, JULY_1, JULY_8)
    async with sessions() as session, session.begin():
        coach = await vehicle_type(session, "Coach")
        await vehicle(session, coach, "C-1")
        await blackout(session, date(2026, 6, 30), date(2026, 7, 9), coach)

    result = await figures(sessions, JULY_1, JULY_8)

    assert (empty.vehicles, empty.by_type) == ([], [])
    assert [(v.available_hours, v.utilisation) for v in result.vehicles] == [
        (Decimal("0.00"), None)
    ]
    assert [(t.available_hours, t.utilisation) for t in result.by_type] == [(Decimal("0.00"), None)]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (JULY_8, JULY_1, "to"),
        (JULY_1, JULY_1, "to"),
        (JULY_1, local(date(2027, 7, 3), 0), "to"),
        (JULY_1.replace(tzinfo=None), JULY_8, "from"),
    ],
)
async def test_a_window_is_forward_at_most_366_days_and_zoned(
    sessions: Any, start: datetime, end: datetime, field: str
) -> None:
    with pytest.raises(ServiceError) as raised:
        await figures(sessions, start, end)

    assert raised.value.problems[0].field == field


async def test_dispatch_reads_it_in_a_constant_number_of_statements_others_are_refused(
    sessions: Any, staff: Any, as_role: Any
) -> None:
    week = {"from": JULY_1.isoformat(), "to": JULY_8.isoformat()}
    dispatcher = await as_role("dispatcher")
    (await dispatcher(UTILISATION, week)).ok()
    with record_statements() as recorder:
        (await dispatcher(UTILISATION, week)).ok()
    before = len(recorder.statements)
    await july_fleet(sessions)
    with record_statements() as recorder:
        data = (await dispatcher(UTILISATION, week)).ok()["vehicleUtilisation"]
    after = len(recorder.statements)
    agent = await (await as_role("sales_agent"))(UTILISATION, week)
    backwards = await staff(UTILISATION, {"from": week["to"], "to": week["from"]})

    assert before == after
    assert data["vehicles"][0] == {
        "vehicle": {"plate": "C-1"},
        "vehicleType": {"name": "Coach"},
        "bookedHours": "11.00",
        "availableHours": "144.00",
        "utilisation": "0.0764",
    }
    assert data["byType"][1] == {
        "vehicleType": {"name": "Van"},
        "vehicles": 1,
        "bookedHours": "0.00",
        "availableHours": "120.00",
        "utilisation": "0.0000",
    }
    assert agent.error_codes == ["FORBIDDEN"]
    assert backwards.error_codes == ["BAD_USER_INPUT"]
    assert backwards.errors[0]["extensions"]["field"] == "to"
