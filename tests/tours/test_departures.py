"""Operating a departure: confirmed to run at its minimum, cancelled by the cutoff job if short.

Service level, real PostgreSQL. Departures are written straight to the
tables (the catalogue's tests cover generating them); seats are booked
through `seats.reserve`, as bookings do, before `departures.seats_changed`.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.tours import jobs
from subgraphs.tours.models import Booking, DepartureSlot, Tour, outbox
from subgraphs.tours.service import departures, events, seats
from subgraphs.tours.service.config import get_config

ZONE = "America/Chicago"
NOW = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)


async def tour_(session: AsyncSession) -> Tour:
    tour = Tour(
        name="Lakefront loop",
        duration_minutes=90,
        base_price=Decimal("40.00"),
        time_zone=ZONE,
        meeting_point="Navy Pier, Gate 2",
    )
    session.add(tour)
    await session.flush()
    return tour


async def slot_(
    session: AsyncSession, tour: Tour, *, hours_ahead: float, min_capacity: int, capacity: int = 20
) -> DepartureSlot:
    starts = NOW + timedelta(hours=hours_ahead)
    local = starts.astimezone(ZoneInfo(ZONE))
    ends = starts + timedelta(minutes=tour.duration_minutes)
    slot = DepartureSlot(
        tour_id=tour.id,
        date=local.date(),
        local_start=local.time().replace(second=0, microsecond=0),
        local_end=ends.astimezone(ZoneInfo(ZONE)).time().replace(second=0, microsecond=0),
        time_zone=ZONE,
        starts_at=starts,
        ends_at=ends,
        max_capacity=capacity,
        min_capacity=min_capacity,
        price_per_person=Decimal("40.00"),
    )
    session.add(slot)
    await session.flush()
    return slot


async def booking_(session: AsyncSession, slot: DepartureSlot, adults: int) -> Booking:
    """A live booking of `adults` seats, its seats reserved as a booking's are."""
    await seats.reserve(session, slot.id, adults)
    booking = Booking(
        reference=f"TB-20260601-{uuid.uuid4().hex[:6].upper()}",
        tour_id=slot.tour_id,
        slot_id=slot.id,
        adults=adults,
        customer_name="Ada Walker",
        customer_email="ada@example.com",
        adult_price=Decimal("40.00"),
        child_price=Decimal("28.00"),
        subtotal=Decimal(40 * adults),
        tax=Decimal(4 * adults),
        total=Decimal(44 * adults),
        status="confirmed",
    )
    session.add(booking)
    await session.flush()
    return booking


async def departure_events(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(outbox.c.payload)
        .where(outbox.c.topic == events.DEPARTURE_CHANGED)
        .order_by(outbox.c.id)
    )
    return [r.payload for r in rows]


async def book(session: AsyncSession, slot: DepartureSlot, n: int, at: datetime = NOW) -> None:
    await seats.reserve(session, slot.id, n)
    await departures.seats_changed(session, slot.id, now=at)


async def test_a_departure_is_confirmed_the_first_time_its_minimum_is_sold(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        slot = await slot_(session, await tour_(session), hours_ahead=72, min_capacity=6)
        await book(session, slot, 4)
        before = (slot.confirmed_to_run_at, await departure_events(session))
        await book(session, slot, 2, NOW + timedelta(minutes=5))
        await book(session, slot, 3, NOW + timedelta(minutes=9))
        sent = await departure_events(session)

    assert before == (None, [])
    assert slot.confirmed_to_run_at == NOW + timedelta(minutes=5)
    assert [(e["seatsBooked"], e["confirmedToRun"], e["cancelled"]) for e in sent] == [
        (6, True, False),
        (9, True, False),
    ]
    assert sent[0]["slotId"] == str(slot.id)
    assert sent[0]["meetingPoint"] == "Navy Pier, Gate 2"


async def test_a_confirmed_departure_stays_confirmed_and_announces_its_seats(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        slot = await slot_(session, await tour_(session), hours_ahead=72, min_capacity=4)
        await book(session, slot, 5)
        confirmed_at = slot.confirmed_to_run_at
        await seats.release(session, slot.id, 3)
        await departures.seats_changed(session, slot.id, now=NOW + timedelta(hours=1))
        sent = await departure_events(session)

    assert confirmed_at == NOW
    assert slot.confirmed_to_run_at == NOW
    assert [(e["seatsBooked"], e["confirmedToRun"]) for e in sent] == [(5, True), (2, True)]


async def test_a_departure_without_a_minimum_runs_with_its_first_passenger(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        slot = await slot_(session, await tour_(session), hours_ahead=72, min_capacity=0)
        await departures.seats_changed(session, slot.id, now=NOW)
        empty = slot.confirmed_to_run_at
        await book(session, slot, 1)
        sent = await departure_events(session)

    assert empty is None
    assert slot.confirmed_to_run_at == NOW
    assert [e["seatsBooked"] for e in sent] == [1]


async def test_a_cancelled_departure_is_not_confirmed_by_seats_changed(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        slot = await slot_(session, await tour_(session), hours_ahead=72, min_capacity=1)
        await seats.reserve(session, slot.id, 2)
        slot.cancelled_at = NOW
        await session.flush()
        await departures.seats_changed(session, slot.id, now=NOW)
        sent = await departure_events(session)

    assert (slot.confirmed_to_run_at, sent) == (None, [])


async def test_two_concurrent_bookings_reaching_the_minimum_confirm_it_once(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        slot = await slot_(session, await tour_(session), hours_ahead=72, min_capacity=4)
        await seats.reserve(session, slot.id, 3)
    slot_id = slot.id

    async def one(at: datetime) -> None:
        async with sessions() as session, session.begin():
            await seats.reserve(session, slot_id, 1)
            await departures.seats_changed(session, slot_id, now=at)

    await asyncio.gather(one(NOW), one(NOW + timedelta(seconds=1)))
    async with sessions() as session:
        stamped = await session.get(DepartureSlot, slot_id)
        sent = await departure_events(session)

    assert stamped is not None
    assert stamped.seats_booked == 5
    assert stamped.confirmed_to_run_at in (NOW, NOW + timedelta(seconds=1))
    # the first to commit confirms it; the second sees it confirmed and announces its seats
    assert sorted(e["seatsBooked"] for e in sent) == [4, 5]


# --- the cutoff job -------------------------------------------------------------------------


async def _cutoff_world(sessions: Any) -> dict[str, uuid.UUID]:
    """Departures around the 24-hour cutoff: which the job must cancel, which it must leave."""
    async with sessions() as session, session.begin():
        cutoff = (await get_config(session)).cutoff_hours
        tour = await tour_(session)
        short = await slot_(session, tour, hours_ahead=cutoff - 2, min_capacity=6)
        sold = await booking_(session, short, 2)
        full = await slot_(session, tour, hours_ahead=cutoff - 3, min_capacity=2)
        await booking_(session, full, 2)
        await departures.seats_changed(session, full.id, now=NOW)
        later = await slot_(session, tour, hours_ahead=cutoff + 5, min_capacity=6)
        gone = await slot_(session, tour, hours_ahead=-1, min_capacity=6)
        no_minimum = await slot_(session, tour, hours_ahead=cutoff - 1, min_capacity=0)
    return {
        "short": short.id,
        "booking": sold.id,
        "full": full.id,
        "later": later.id,
        "gone": gone.id,
        "no_minimum": no_minimum.id,
    }


async def test_the_cutoff_cancels_a_departure_short_of_its_minimum_and_refunds_it(
    sessions: Any,
) -> None:
    world = await _cutoff_world(sessions)

    async with sessions() as session, session.begin():
        cancelled = await departures.cancel_under_sold(session, NOW)
    async with sessions() as session, session.begin():
        again = await departures.cancel_under_sold(session, NOW)
    async with sessions() as session:
        rows = {
            s.id: s for s in await session.scalars(select(DepartureSlot).order_by(DepartureSlot.id))
        }
        booking = await session.get(Booking, world["booking"])
        sent = await departure_events(session)

    assert cancelled == [world["short"]]
    assert again == []
    short = rows[world["short"]]
    assert short.cancellation_reason == "Fewer than 6 seats sold by the booking cutoff"
    assert (short.cancelled_at, short.seats_booked) == (NOW, 0)
    assert booking is not None
    assert (booking.status, booking.refund_due) == ("cancelled", booking.total)
    assert all(rows[world[k]].cancelled_at is None for k in ("full", "later", "gone", "no_minimum"))
    assert [(e["slotId"], e["cancelled"]) for e in sent if e["cancelled"]] == [
        (str(world["short"]), True)
    ]


async def test_two_cutoff_runs_at_once_cancel_each_departure_once(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        short = [
            (await slot_(session, tour, hours_ahead=h, min_capacity=5)).id for h in (2, 3, 4, 5)
        ]

    async def run() -> list[uuid.UUID]:
        async with sessions() as session, session.begin():
            return await departures.cancel_under_sold(session, NOW)

    first, second = await asyncio.gather(run(), run())
    async with sessions() as session:
        cancelled_events = [e for e in await departure_events(session) if e["cancelled"]]

    assert sorted(first + second) == sorted(short)
    assert not set(first) & set(second)
    assert len(cancelled_events) == 4


async def test_the_cutoff_job_is_scheduled_and_cancels_by_the_clock(
    sessions: Any, settings: Any
) -> None:
    [job] = [j for j in jobs.jobs(settings) if j.name == "tours.departure_cutoff"]
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        tour = await tour_(session)
        short = await slot_(session, tour, hours_ahead=1, min_capacity=3)
        short.starts_at, short.ends_at = now + timedelta(hours=2), now + timedelta(hours=4)

    first = await job.body(SimpleNamespace(sessions=sessions), now)  # type: ignore[arg-type]
    second = await job.body(SimpleNamespace(sessions=sessions), now)  # type: ignore[arg-type]

    async with sessions() as session:
        row = await session.get(DepartureSlot, short.id)
    assert job.cron == settings.tours_departure_cutoff_cron
    assert (first, second) == ({"cancelled": 1}, {"cancelled": 0})
    assert row is not None
    assert row.cancellation_reason == "Fewer than 3 seats sold by the booking cutoff"
