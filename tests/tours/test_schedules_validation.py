"""Bad schedules and tours are user errors naming the GraphQL input field; nothing is stored."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import Schedule, Tour
from subgraphs.tours.service import schedules, tours
from subgraphs.tours.service.changes import SYSTEM

GOOD: dict[str, Any] = {
    "name": "Mornings",
    "start_time": time(9, 0),
    "recurrence": "weekly",
    "weekdays": [1, 3],
    "max_capacity": 15,
    "min_capacity": 4,
    "valid_from": date(2026, 6, 1),
}


async def _tour(sessions: Any) -> Tour:
    async with sessions() as session, session.begin():
        return await tours.create_tour(
            session,
            tours.TourData(name="Harbour", duration_minutes=90, base_price=Decimal("40.00")),
        )


BAD_SCHEDULES: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    ({"valid_until": date(2026, 5, 31)}, [("OUT_OF_RANGE", "validUntil")]),
    (
        {"recurrence": "custom", "weekdays": [], "rrule": "FREQ=HOURLY"},
        [("INVALID_RRULE", "rrule")],
    ),
    ({"recurrence": "custom", "weekdays": []}, [("INVALID_RRULE", "rrule")]),
    (
        {
            "recurrence": "custom",
            "weekdays": [],
            "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        },
        [("INVALID_RRULE", "rrule")],
    ),
    ({"weekdays": []}, [("REQUIRED", "weekdays")]),
    ({"recurrence": "biweekly", "weekdays": None}, [("REQUIRED", "weekdays")]),
    ({"weekdays": [0, 8]}, [("OUT_OF_RANGE", "weekdays")]),
    ({"min_capacity": 16}, [("OUT_OF_RANGE", "minCapacity")]),
    ({"max_capacity": 0}, [("OUT_OF_RANGE", "maxCapacity")]),
    ({"time_zone": "Mars/Olympus_Mons"}, [("INVALID", "timeZone")]),
    ({"rrule": "FREQ=DAILY"}, [("INVALID", "rrule")]),
    ({"price_override": Decimal("-1.00")}, [("OUT_OF_RANGE", "priceOverride")]),
    (
        {"name": " ", "duration_minutes": 0},
        [("INVALID", "name"), ("OUT_OF_RANGE", "durationMinutes")],
    ),
]


async def test_a_bad_schedule_names_its_field_and_stores_nothing(sessions):
    tour = await _tour(sessions)

    for changes, expected in BAD_SCHEDULES:
        with pytest.raises(ServiceError) as caught:
            async with sessions() as session, session.begin():
                await schedules.create_schedule(
                    session, tour.id, schedules.ScheduleData(**{**GOOD, **changes}), SYSTEM
                )
        assert [(p.code, p.field) for p in caught.value.problems] == expected, changes

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Schedule)) == 0


def test_start_time_is_hh_mm():
    assert schedules.parse_local_time("07:05") == time(7, 5)
    for text in ("7:05", "25:00", "09:60", "nine", "09:00:00"):
        with pytest.raises(ServiceError) as caught:
            schedules.parse_local_time(text)
        assert caught.value.problems[0].field == "startTime"


async def test_an_edit_is_checked_against_what_it_leaves_and_null_clears_an_end(sessions):
    tour = await _tour(sessions)
    async with sessions() as session, session.begin():
        schedule = await schedules.create_schedule(
            session,
            tour.id,
            schedules.ScheduleData(**{**GOOD, "valid_until": date(2026, 9, 30)}),
            SYSTEM,
        )

    # A new start after the old end: the end is at fault
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await schedules.update_schedule(
                session,
                schedule.id,
                schedules.ScheduleData(valid_from=date(2026, 10, 1)),
                clear=set(),
            )
    assert [(p.code, p.field) for p in caught.value.problems] == [("OUT_OF_RANGE", "validUntil")]

    # Turning it daily drops its weekdays; clearing the end makes it open-ended
    async with sessions() as session, session.begin():
        changed = await schedules.update_schedule(
            session,
            schedule.id,
            schedules.ScheduleData(recurrence="daily", max_capacity=20),
            clear={"valid_until"},
        )
    assert (changed.recurrence, changed.weekdays, changed.valid_until) == ("daily", [], None)
    assert (changed.max_capacity, changed.min_capacity) == (20, 4)


BAD_TOURS: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    ({"min_party": 5, "max_party": 4}, [("OUT_OF_RANGE", "maxParty")]),
    ({"min_party": 0}, [("OUT_OF_RANGE", "minParty")]),
    ({"base_price": Decimal("-5.00")}, [("OUT_OF_RANGE", "basePrice")]),
    ({"time_zone": "Nowhere/Town"}, [("INVALID", "timeZone")]),
    ({"meeting_latitude": Decimal(91)}, [("OUT_OF_RANGE", "meetingLatitude")]),
    ({"name": ""}, [("INVALID", "name")]),
]


async def test_a_bad_tour_names_its_field_and_stores_nothing(sessions):
    for changes, expected in BAD_TOURS:
        data = {
            "name": "Harbour",
            "duration_minutes": 90,
            "base_price": Decimal("40.00"),
            **changes,
        }
        with pytest.raises(ServiceError) as caught:
            async with sessions() as session, session.begin():
                await tours.create_tour(session, tours.TourData(**data))
        assert [(p.code, p.field) for p in caught.value.problems] == expected, changes

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Tour)) == 0


async def test_a_tour_edit_is_checked_against_the_limits_it_keeps(sessions):
    tour = await _tour(sessions)  # parties of 1 to 50

    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await tours.update_tour(session, tour.id, tours.TourData(min_party=60))
    assert [(p.code, p.field) for p in caught.value.problems] == [("OUT_OF_RANGE", "maxParty")]

    async with sessions() as session, session.begin():
        changed = await tours.update_tour(
            session, tour.id, tours.TourData(min_party=2, active=False, name="  Harbour  lights ")
        )
    assert (changed.min_party, changed.max_party, changed.active, changed.name) == (
        2,
        50,
        False,
        "Harbour lights",
    )
