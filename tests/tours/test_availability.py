"""Issue 15 §4 `availability` at the service level: what fits, or the first reason nothing does."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.tours.models import BlackoutDate
from subgraphs.tours.service import availability, seats
from tests.tours.booking_data import NOW, make_slot, make_tour


async def test_the_departures_that_fit_the_party_earliest_first(session: AsyncSession) -> None:
    tour = await make_tour(session)
    morning = await make_slot(session, tour, capacity=10)
    afternoon = await make_slot(session, tour, capacity=10, hours_ahead=None)
    afternoon.local_start, afternoon.schedule_id = time(14, 0), None
    afternoon.starts_at += timedelta(hours=5)
    afternoon.ends_at += timedelta(hours=5)
    small = await make_slot(session, tour, capacity=3)
    small.local_start = time(11, 0)
    small.starts_at += timedelta(hours=2)
    small.ends_at += timedelta(hours=2)
    await session.flush()
    await seats.reserve(session, afternoon.id, 6)

    found = await availability.check(session, tour.id, morning.date, 4, NOW)
    at_two = await availability.check(session, tour.id, morning.date, 4, NOW, time(14, 0))

    assert found is not None
    assert at_two is not None
    assert (found.available, found.reason_code, found.waitlist_open) == (True, None, False)
    assert [s.id for s in found.slots] == [morning.id, afternoon.id]  # 3 seats do not fit 4
    assert [s.id for s in at_two.slots] == [afternoon.id]


@pytest.mark.parametrize(
    ("case", "code", "waitlist_open"),
    [
        ("inactive", "TOUR_INACTIVE", False),
        ("party", "PARTY_SIZE", False),
        ("blackout", "BLACKED_OUT", False),
        ("no_departures", "NO_DEPARTURES", False),
        ("other_time", "NO_DEPARTURES", False),
        ("sold_out", "SOLD_OUT", True),
        ("closed_by_staff", "SOLD_OUT", True),
        ("cutoff", "BOOKING_CLOSED", False),
        ("too_far", "TOO_FAR_AHEAD", False),
    ],
)
async def test_why_nothing_fits_and_whether_the_waitlist_is_open(
    session: AsyncSession, case: str, code: str, waitlist_open: bool
) -> None:
    tour = await make_tour(session, active=case != "inactive")
    if case == "cutoff":
        slot = await make_slot(session, tour, capacity=4, hours_ahead=10)
    else:
        slot = await make_slot(
            session, tour, capacity=4, days_ahead=100 if case == "too_far" else 10
        )
    day, party, at = slot.date, 2, None
    if case == "party":
        party = 51
    elif case == "blackout":
        session.add(
            BlackoutDate(start_date=day, end_date=day, blackout_type="holiday", name="Feast")
        )
    elif case == "no_departures":
        day += timedelta(days=1)
    elif case == "other_time":
        at = time(16, 30)
    elif case == "sold_out":
        await seats.reserve(session, slot.id, 3)
    elif case == "closed_by_staff":
        slot.available = False
    await session.flush()

    found = await availability.check(session, tour.id, day, party, NOW, at)

    assert found is not None
    assert (found.available, found.reason_code, found.waitlist_open, found.slots) == (
        False,
        code,
        waitlist_open,
        [],
    )
    assert found.reason


async def test_an_unknown_tour_is_none(session: AsyncSession) -> None:
    import uuid

    assert await availability.check(session, uuid.uuid4(), NOW.date(), 1, NOW) is None
