"""Generating a schedule's departures, at the service level on real PostgreSQL.

Given a tour and a schedule, when departures are generated for a range,
then they follow the recurrence in local wall time (DST-correct), skip
blackouts and days begun, never crash on month ends, and a second run
creates nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import DepartureSlot, Schedule, Tour
from subgraphs.tours.service import blackouts, schedules, tours
from subgraphs.tours.service.changes import SYSTEM

CHICAGO = "America/Chicago"
#: A fixed "now": everything generated lies after it.
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def tour_(session: Any, **changes: Any) -> Tour:
    data = tours.TourData(
        name="Riverwalk history",
        duration_minutes=120,
        base_price=Decimal("75.00"),
        time_zone=CHICAGO,
    )
    return await tours.create_tour(session, replace(data, **changes))


async def schedule_(session: Any, tour: Tour, **changes: Any) -> Schedule:
    fields: dict[str, Any] = {
        "name": "Mornings",
        "start_time": time(9, 0),
        "recurrence": "weekly",
        "weekdays": [1],
        "max_capacity": 15,
        "min_capacity": 4,
        "valid_from": date(2026, 1, 5),
    }
    fields.update(changes)
    return await schedules.create_schedule(
        session, tour.id, schedules.ScheduleData(**fields), SYSTEM
    )


async def test_weekly_0900_stays_0900_local_across_both_dst_changes(sessions):
    # Given a Monday 09:00 Chicago schedule, from before the March 2026 change to after November's
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        schedule = await schedule_(session, tour, price_override=Decimal("80.00"))

        # When a year of departures is generated
        result = await schedules.generate_departures(
            session, schedule.id, date(2026, 1, 5), date(2026, 12, 31), NOW
        )

    # Then every Monday has one, at 09:00 local, its UTC instant following the offset
    slots = {s.date: s for s in result.created}
    assert len(slots) == 52
    assert {s.local_start for s in slots.values()} == {time(9, 0)}
    assert {s.local_end for s in slots.values()} == {time(11, 0)}
    assert slots[date(2026, 3, 2)].starts_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # CST
    assert slots[date(2026, 3, 9)].starts_at == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # CDT
    assert slots[date(2026, 10, 26)].starts_at == datetime(2026, 10, 26, 14, 0, tzinfo=UTC)
    assert slots[date(2026, 11, 2)].starts_at == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    first = slots[date(2026, 1, 5)]
    assert (first.max_capacity, first.min_capacity, first.seats_available) == (15, 4, 15)
    assert first.price_per_person == Decimal("80.00")  # the schedule's override
    assert first.time_zone == CHICAGO
    assert result.skipped == []


async def test_a_second_run_creates_nothing_and_two_at_once_create_each_departure_once(sessions):
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        schedule = await schedule_(session, tour, recurrence="daily", weekdays=[])

    async def generate() -> int:
        async with sessions() as session, session.begin():
            result = await schedules.generate_departures(
                session, schedule.id, date(2026, 2, 1), date(2026, 2, 28), NOW
            )
            return len(result.created)

    # When generation runs twice at once, then once more
    together = await asyncio.gather(generate(), generate())
    again = await generate()

    # Then February's 28 departures exist once each
    assert sorted(together) == [0, 28]
    assert again == 0
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(DepartureSlot.schedule_id == schedule.id)
        )
    assert count == 28


async def test_monthly_on_the_31st_runs_only_in_months_with_a_31st(sessions):
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        schedule = await schedule_(
            session, tour, recurrence="monthly", weekdays=[], valid_from=date(2026, 1, 31)
        )
        result = await schedules.generate_departures(
            session, schedule.id, date(2026, 1, 1), date(2026, 12, 31), NOW
        )

    assert [s.date for s in result.created] == [date(2026, m, 31) for m in (1, 3, 5, 7, 8, 10, 12)]


async def test_biweekly_counts_fortnights_from_the_first_week_and_none_runs_once(sessions):
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        # valid from Wednesday 7 January: its week is the first of each fortnight
        biweekly = await schedule_(
            session, tour, recurrence="biweekly", weekdays=[1, 3], valid_from=date(2026, 1, 7)
        )
        once = await schedule_(
            session,
            tour,
            name="Launch",
            recurrence="none",
            weekdays=[],
            valid_from=date(2026, 2, 14),
        )
        fortnights = await schedules.generate_departures(
            session, biweekly.id, date(2026, 1, 1), date(2026, 2, 5), NOW
        )
        single = await schedules.generate_departures(
            session, once.id, date(2026, 1, 1), date(2026, 12, 31), NOW
        )

    assert [s.date for s in fortnights.created] == [
        date(2026, 1, 7),  # Wednesday of the first week (its Monday is before valid_from)
        date(2026, 1, 19),
        date(2026, 1, 21),
        date(2026, 2, 2),
        date(2026, 2, 4),
    ]
    assert [s.date for s in single.created] == [date(2026, 2, 14)]


async def test_custom_rule_and_valid_until_bound_the_departures(sessions):
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        schedule = await schedule_(
            session,
            tour,
            recurrence="custom",
            weekdays=[],
            rrule="FREQ=MONTHLY;BYDAY=1SA",
            valid_until=date(2026, 4, 30),
        )
        result = await schedules.generate_departures(
            session, schedule.id, date(2026, 1, 1), date(2026, 12, 31), NOW
        )

    # January's first Saturday (the 3rd) is before valid_from; May's is after valid_until
    assert [s.date for s in result.created] == [
        date(2026, 2, 7),
        date(2026, 3, 7),
        date(2026, 4, 4),
    ]


async def test_blackouts_and_days_begun_are_skipped_and_reported(sessions):
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        other = await tour_(session, name="Other tour")
        schedule = await schedule_(session, tour, recurrence="daily", weekdays=[])
        for tour_id, name, day in (
            (tour.id, "Dock repairs", date(2026, 1, 8)),
            (None, "Company holiday", date(2026, 1, 9)),
            (other.id, "Not this tour's", date(2026, 1, 10)),
        ):
            await blackouts.create_blackout(
                session,
                blackouts.BlackoutData(
                    name=name,
                    blackout_type="maintenance",
                    start_date=day,
                    end_date=day,
                    tour_id=tour_id,
                ),
                SYSTEM,
            )
        # "now" is 5 January 12:00 UTC = 06:00 in Chicago: the 5th's 09:00 is still ahead;
        # at 16:00 UTC (10:00 Chicago) it has begun
        later = NOW.replace(hour=16)
        result = await schedules.generate_departures(
            session, schedule.id, date(2026, 1, 4), date(2026, 1, 11), later
        )

    assert [s.date for s in result.created] == [
        date(2026, 1, 6),
        date(2026, 1, 7),
        date(2026, 1, 10),
        date(2026, 1, 11),
    ]
    assert [(s.day, s.reason) for s in result.skipped] == [
        (date(2026, 1, 5), schedules.IN_THE_PAST),
        (date(2026, 1, 8), schedules.BLACKED_OUT),
        (date(2026, 1, 9), schedules.BLACKED_OUT),
    ]
    assert "Company holiday" in result.skipped[2].message


async def test_a_range_over_366_days_or_backwards_is_refused_and_nothing_is_created(sessions):
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        schedule = await schedule_(session, tour, recurrence="daily", weekdays=[])

    # 367 days (2026 has 365), and a range that ends before it starts
    for start, end in ((date(2026, 1, 5), date(2027, 1, 6)), (date(2026, 2, 1), date(2026, 1, 31))):
        with pytest.raises(ServiceError) as caught:
            async with sessions() as session, session.begin():
                await schedules.generate_departures(session, schedule.id, start, end, NOW)
        assert [(p.code, p.field) for p in caught.value.problems] == [("OUT_OF_RANGE", "to")]

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DepartureSlot)) == 0


async def test_an_inactive_or_unknown_schedule_generates_nothing(sessions):
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        schedule = await schedule_(session, tour, active=False)

    for schedule_id in (schedule.id, uuid.uuid4()):
        with pytest.raises(ServiceError) as caught:
            async with sessions() as session, session.begin():
                await schedules.generate_departures(
                    session, schedule_id, date(2026, 1, 5), date(2026, 2, 5), NOW
                )
        assert caught.value.problems[0].field == "scheduleId"


async def test_a_new_start_time_applies_to_new_days_and_never_doubles_a_day(sessions):
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        schedule = await schedule_(session, tour, recurrence="daily", weekdays=[])
        await schedules.generate_departures(
            session, schedule.id, date(2026, 2, 1), date(2026, 2, 2), NOW
        )
        await schedules.update_schedule(
            session, schedule.id, schedules.ScheduleData(start_time=time(10, 30)), clear=set()
        )
        result = await schedules.generate_departures(
            session, schedule.id, date(2026, 2, 1), date(2026, 2, 3), NOW
        )
        times = (
            await session.execute(
                select(DepartureSlot.date, DepartureSlot.local_start).order_by(DepartureSlot.date)
            )
        ).all()

    assert [s.date for s in result.created] == [date(2026, 2, 3)]
    assert [tuple(t) for t in times] == [
        (date(2026, 2, 1), time(9, 0)),
        (date(2026, 2, 2), time(9, 0)),
        (date(2026, 2, 3), time(10, 30)),
    ]
