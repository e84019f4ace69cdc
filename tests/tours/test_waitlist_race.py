"""Issue 15 §3 under concurrency: ten cancellations at once on one departure, ten people waiting.

Every cancellation frees one seat and offers it in its own transaction, so
the outcome does not depend on the interleaving: the seats go, one freeing
at a time, to the first entry in line that fits, and no seat is left
unoffered while someone waiting would fit it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.tours.models import Booking, DepartureSlot, WaitlistEntry, outbox
from subgraphs.tours.service import bookings, config, waitlist
from subgraphs.tours.service.events import WAITLIST_OFFER_MADE
from tests.tours.booking_data import NOW, STAFF, make_slot, make_tour, new_booking

#: Party sizes of the waiting entries, first in line first.
LINE = (1, 2, 1, 3, 1, 2, 1, 1, 2, 1)


@pytest.mark.slow
async def test_ten_concurrent_cancellations_offer_each_seat_once_and_lose_none(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        tour = await make_tour(session)
        slot = await make_slot(session, tour, capacity=10)
        booked = [
            await bookings.create_booking(
                session,
                new_booking(slot, adults=1, customer_email=f"b{i}@example.com"),
                STAFF,
                now=NOW,
            )
            for i in range(10)
        ]
        line = []
        for position, size in enumerate(LINE):
            row = WaitlistEntry(
                tour_id=tour.id,
                requested_date=slot.date,
                party_size=size,
                customer_name=f"Waiting {position}",
                customer_email=f"w{position}@example.com",
                created_at=NOW - timedelta(minutes=100 - position),
            )
            session.add(row)
            line.append(row)
        await session.flush()
        slot_id, booking_ids, entry_ids = slot.id, [b.id for b in booked], [e.id for e in line]

    async def cancel(booking_id: uuid.UUID) -> None:
        async with sessions() as session, session.begin():
            await bookings.cancel_booking(session, booking_id, STAFF, now=NOW)

    await asyncio.gather(*(cancel(b) for b in booking_ids))

    async with sessions() as session:
        after = await session.get(DepartureSlot, slot_id)
        assert after is not None
        slot = after
        entries = {
            e.id: e
            for e in await session.scalars(
                select(WaitlistEntry).where(WaitlistEntry.id.in_(entry_ids))
            )
        }
        status = [entries[i].status for i in entry_ids]
        offers = Counter(
            p["entryId"]
            for p in await session.scalars(
                select(outbox.c.payload).where(outbox.c.topic == WAITLIST_OFFER_MADE)
            )
        )
        live_booked = await session.scalar(
            select(func.coalesce(func.sum(Booking.seats), 0)).where(
                Booking.slot_id == slot_id, Booking.status.in_(("pending", "confirmed"))
            )
        )
    held = sum(entries[i].party_size for i in entry_ids if entries[i].status == "notified")

    # one seat freed at a time, each to the first entry in line that fits it
    assert status == [
        "notified",
        "notified",
        "notified",
        "active",
        "notified",
        "notified",
        "notified",
        "notified",
        "active",
        "notified",
    ]
    # no double offer: one event per offered entry, each holding its own seats on this slot
    assert set(offers.values()) == {1}
    assert set(offers) == {str(i) for i in entry_ids if entries[i].status == "notified"}
    assert {entries[uuid.UUID(i)].offer_slot_id for i in offers} == {slot_id}
    # no lost seat: every seat is booked, held for an offer, or free, and nobody waiting fits
    assert (slot.seats_booked, slot.seats_held, slot.seats_available) == (0, 10, 0)
    assert slot.seats_booked == live_booked
    assert slot.seats_held == held
    assert slot.seats_booked + slot.seats_held + slot.seats_available == slot.max_capacity
    assert all(
        entries[i].party_size > slot.seats_available
        for i in entry_ids
        if entries[i].status == "active"
    )


@pytest.mark.slow
async def test_two_departures_of_a_day_offering_at_once_never_offer_one_entry_twice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        tour = await make_tour(session)
        morning = await make_slot(session, tour, capacity=4)
        afternoon = await make_slot(session, tour, capacity=4, hours_ahead=None)
        afternoon.local_start = afternoon.local_start.replace(hour=14)
        afternoon.starts_at += timedelta(hours=5)
        afternoon.ends_at += timedelta(hours=5)
        afternoon.schedule_id = None
        waiting = WaitlistEntry(
            tour_id=tour.id,
            requested_date=morning.date,
            party_size=2,
            customer_name="Waiting",
            customer_email="w@example.com",
        )
        session.add(waiting)
        await config.get_config(session)  # made here, so the offers below do not queue on it
        await session.flush()
        slot_ids, entry_id = [morning.id, afternoon.id], waiting.id

    async def offer(slot_id: uuid.UUID) -> int:
        async with sessions() as session, session.begin():
            return len(await waitlist.offer_freed_seats(session, slot_id, NOW))

    made = await asyncio.gather(*(offer(s) for s in slot_ids * 3))

    async with sessions() as session:
        entry = await session.get(WaitlistEntry, entry_id)
        held = await session.scalar(
            select(func.sum(DepartureSlot.seats_held)).where(DepartureSlot.id.in_(slot_ids))
        )
        announced = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.topic == WAITLIST_OFFER_MADE)
        )
    assert entry is not None
    assert sum(made) == 1
    assert entry.status == "notified"
    assert entry.offer_slot_id in slot_ids
    assert held == 2
    assert announced == 1
