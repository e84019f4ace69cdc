"""Blackout dates at the service level: which days they close, for whom, and what they list."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import Tour
from subgraphs.tours.service import blackouts, schedules, seats, tours
from subgraphs.tours.service.changes import SYSTEM

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def _tour(session: Any, name: str) -> Tour:
    return await tours.create_tour(
        session, tours.TourData(name=name, duration_minutes=60, base_price=Decimal("30.00"))
    )


async def _blackout(
    session: Any, tour_id: Any, start: date, end: date, name: str, **kw: Any
) -> Any:
    return await blackouts.create_blackout(
        session,
        blackouts.BlackoutData(
            name=name,
            blackout_type="holiday",
            start_date=start,
            end_date=end,
            tour_id=tour_id,
            **kw,
        ),
        SYSTEM,
    )


async def test_a_tours_days_are_closed_by_its_own_and_global_active_blackouts(sessions):
    async with sessions() as session, session.begin():
        tour = await _tour(session, "Harbour")
        other = await _tour(session, "Hills")
        await _blackout(session, None, date(2026, 12, 24), date(2026, 12, 26), "Christmas")
        await _blackout(session, tour.id, date(2026, 12, 26), date(2026, 12, 27), "Dock works")
        await _blackout(session, other.id, date(2026, 12, 28), date(2026, 12, 28), "Hills only")
        await _blackout(
            session, tour.id, date(2026, 12, 29), date(2026, 12, 29), "Called off", active=False
        )

        days = await blackouts.blacked_out_days(
            session, tour.id, date(2026, 12, 23), date(2026, 12, 31)
        )
        christmas = await blackouts.blacked_out(session, tour.id, date(2026, 12, 25))
        overlap = await blackouts.blacked_out(session, tour.id, date(2026, 12, 26))
        open_day = await blackouts.blacked_out(session, tour.id, date(2026, 12, 28))

    assert days == {
        date(2026, 12, 24): "Christmas",
        date(2026, 12, 25): "Christmas",
        date(2026, 12, 26): "Dock works",  # the tour's own names a day both close
        date(2026, 12, 27): "Dock works",
    }
    assert christmas is not None
    assert christmas.name == "Christmas"
    assert overlap is not None
    assert overlap.name == "Dock works"
    assert open_day is None


async def test_a_new_blackout_lists_sold_departures_and_cancels_none(sessions):
    async with sessions() as session, session.begin():
        tour = await _tour(session, "Harbour")
        schedule = await schedules.create_schedule(
            session,
            tour.id,
            schedules.ScheduleData(
                name="Daily",
                start_time=time(10),
                recurrence="daily",
                max_capacity=10,
                valid_from=date(2026, 2, 1),
            ),
            SYSTEM,
        )
        made = await schedules.generate_departures(
            session, schedule.id, date(2026, 2, 1), date(2026, 2, 5), NOW
        )
        sold = made.created[2]  # 3 February
        await seats.reserve(session, sold.id, 3)

    async with sessions() as session, session.begin():
        blackout = await _blackout(session, None, date(2026, 2, 2), date(2026, 2, 4), "Ice")
        listed = await blackouts.sold_departures(session, blackout)

    assert [(s.id, s.seats_booked, s.cancelled_at) for s in listed] == [(sold.id, 3, None)]


async def test_a_blackout_ending_before_it_starts_is_refused(sessions):
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await _blackout(session, None, date(2026, 2, 4), date(2026, 2, 2), "")
    assert [(p.code, p.field) for p in caught.value.problems] == [
        ("INVALID", "name"),
        ("OUT_OF_RANGE", "endDate"),
    ]
