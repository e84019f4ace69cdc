"""Issue 15 §4 `tourCalendar` at the service level: per day the seats, departures and level."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.tours.models import BlackoutDate
from subgraphs.tours.service import calendar, seats
from subgraphs.tours.service.calendar import Level, level_of
from tests.tours.booking_data import NOW, make_slot, make_tour


@pytest.mark.parametrize(
    ("free", "capacity", "level"),
    [
        (10, 20, Level.HIGH),  # 50 %
        (9, 20, Level.MEDIUM),
        (4, 20, Level.MEDIUM),  # 20 %
        (3, 20, Level.LOW),
        (1, 20, Level.LOW),
        (0, 20, Level.NONE),
        (0, 0, Level.NONE),
    ],
)
def test_levels_follow_the_documented_thresholds(free: int, capacity: int, level: Level) -> None:
    assert level_of(free, capacity, blackout=False) == level
    assert level_of(free, capacity, blackout=True) == Level.BLACKOUT


async def test_a_month_day_by_day(session: AsyncSession) -> None:
    tour = await make_tour(session)
    busy = await make_slot(session, tour, days_ahead=3, capacity=10)
    await seats.reserve(session, busy.id, 7)  # 3 of 10 left: MEDIUM (30 %)
    quiet = await make_slot(session, tour, days_ahead=4, capacity=10)
    cancelled = await make_slot(session, tour, days_ahead=5, capacity=10)
    cancelled.cancelled_at = NOW
    closed = await make_slot(session, tour, days_ahead=6, capacity=10)
    closed.available = False
    soon = await make_slot(session, tour, hours_ahead=20, capacity=10)  # within the cutoff
    holiday = await make_slot(session, tour, days_ahead=7, capacity=10)
    session.add(
        BlackoutDate(
            start_date=holiday.date, end_date=holiday.date, blackout_type="holiday", name="Feast"
        )
    )
    other_tour = await make_tour(session, name="Other")
    await make_slot(session, other_tour, days_ahead=4, capacity=10)
    await session.flush()

    days = await calendar.month(session, tour.id, NOW.year, NOW.month, NOW)

    assert days is not None
    assert [d.date for d in days] == [
        NOW.date().replace(day=1) + timedelta(days=i) for i in range(30)
    ]
    by_date = {d.date: d for d in days}
    shown = {
        name: (by_date[s.date].seats_available, by_date[s.date].slot_count, by_date[s.date].level)
        for name, s in {
            "busy": busy,
            "quiet": quiet,
            "cancelled": cancelled,
            "closed": closed,
            "soon": soon,
            "holiday": holiday,
        }.items()
    }
    assert shown == {
        "busy": (3, 1, Level.MEDIUM),
        "quiet": (10, 1, Level.HIGH),  # the other tour's departure that day is not counted
        "cancelled": (0, 0, Level.NONE),
        "closed": (0, 1, Level.NONE),
        "soon": (0, 1, Level.NONE),
        "holiday": (0, 1, Level.BLACKOUT),
    }
    assert by_date[holiday.date].blackout_name == "Feast"
    assert by_date[NOW.date() + timedelta(days=20)] == calendar.Day(
        NOW.date() + timedelta(days=20), 0, 0, Level.NONE, None
    )


async def test_an_unknown_tour_has_no_calendar(session: AsyncSession) -> None:
    assert await calendar.month(session, uuid.uuid4(), 2026, 6, NOW) is None
