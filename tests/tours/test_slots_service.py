"""Changing and cancelling a departure, at the service level on real PostgreSQL.

Bookings and waitlist offers are written straight to the tables with their
seats taken through `seats`, as bookings and the waitlist do.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import Booking, BookingChange, DepartureSlot, WaitlistEntry, outbox
from subgraphs.tours.service import events, schedules, seats, slots, tours
from subgraphs.tours.service.changes import Actor

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
MANAGER = Actor(
    viewer=Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER})),
    ip_address="192.0.2.10",
    user_agent="pytest",
)


async def _slot(sessions: Any, capacity: int = 10) -> DepartureSlot:
    """One departure on 20 January 2026, 09:00 Chicago, at 75.00."""
    async with sessions() as session, session.begin():
        tour = await tours.create_tour(
            session,
            tours.TourData(name="Harbour", duration_minutes=90, base_price=Decimal("75.00")),
        )
        schedule = await schedules.create_schedule(
            session,
            tour.id,
            schedules.ScheduleData(
                name="Once",
                start_time=time(9),
                recurrence="none",
                max_capacity=capacity,
                valid_from=date(2026, 1, 20),
            ),
            MANAGER,
        )
        generated = await schedules.generate_departures(
            session, schedule.id, date(2026, 1, 20), date(2026, 1, 20), NOW
        )
        return generated.created[0]


async def _book(session: Any, slot: DepartureSlot, adults: int, status: str = "pending") -> Booking:
    await seats.reserve(session, slot.id, adults)
    total = Decimal("82.50") * adults
    booking = Booking(
        reference=f"TB-20260105-{uuid.uuid4().hex[:6].upper()}",
        tour_id=slot.tour_id,
        slot_id=slot.id,
        adults=adults,
        customer_name="Ada Customer",
        customer_email="ada@example.com",
        adult_price=Decimal("75.00"),
        child_price=Decimal("52.50"),
        subtotal=Decimal("75.00") * adults,
        tax=Decimal("7.50") * adults,
        total=total,
        status=status,
    )
    session.add(booking)
    await session.flush()
    return booking


async def _offer(session: Any, slot: DepartureSlot, party: int) -> WaitlistEntry:
    assert await seats.hold(session, slot.id, party)
    entry = WaitlistEntry(
        tour_id=slot.tour_id,
        requested_date=slot.date,
        party_size=party,
        customer_name="Wen Waiting",
        customer_email="wen@example.com",
        status="notified",
        offer_slot_id=slot.id,
        offered_at=NOW,
        offer_expires_at=NOW + timedelta(hours=24),
    )
    session.add(entry)
    await session.flush()
    return entry


async def test_cancelling_a_departure_cancels_its_live_bookings_with_full_refunds(sessions):
    # Given a departure with a pending and a confirmed booking, one already cancelled, and an offer
    slot = await _slot(sessions)
    async with sessions() as session, session.begin():
        pending = await _book(session, slot, 2)
        confirmed = await _book(session, slot, 3, status="confirmed")
        gone = await _book(session, slot, 1, status="cancelled")
        await seats.release(session, slot.id, 1)  # the cancelled one gave its seat back
        entry = await _offer(session, slot, 2)

    # When staff cancel it
    async with sessions() as session, session.begin():
        cancelled = await slots.cancel_departure(
            session, slot.id, "  Storm   warning ", MANAGER, now=NOW
        )

    # Then the departure is cancelled with every seat free and no hold left
    assert (cancelled.cancelled_at, cancelled.cancellation_reason) == (NOW, "Storm warning")
    assert (cancelled.seats_booked, cancelled.seats_held) == (0, 0)
    async with sessions() as session:
        rows = {b.id: b for b in await session.scalars(select(Booking))}
        log = list(await session.scalars(select(BookingChange).order_by(BookingChange.reason)))
        waiting = await session.get(WaitlistEntry, entry.id)
        events_ = (
            await session.execute(select(outbox.c.topic, outbox.c.payload).order_by(outbox.c.id))
        ).all()
    # the live bookings are cancelled with their total due back; the cancelled one is untouched
    for booking in (pending, confirmed):
        row = rows[booking.id]
        assert (row.status, row.refund_due, row.cancelled_at) == ("cancelled", row.total, NOW)
        assert row.cancellation_reason == "Storm warning"
    assert rows[gone.id].refund_due is None
    # each is logged with who cancelled it and from where
    assert sorted((c.booking_id, c.change_type) for c in log) == sorted(
        [(pending.id, "cancellation"), (confirmed.id, "cancellation")]
    )
    assert {(c.changed_by, str(c.ip_address), c.reason) for c in log} == {
        (MANAGER.user_id, "192.0.2.10", "Storm warning")
    }
    assert {c.old_value["status"] for c in log} == {"pending", "confirmed"}
    # the waitlist offer went back in line
    assert waiting is not None
    assert (waiting.status, waiting.offer_slot_id) == ("active", None)
    # each customer is told, then charters hears the departure is cancelled
    changed = [p for t, p in events_ if t == events.BOOKING_CHANGED]
    assert sorted(p["bookingId"] for p in changed) == sorted([str(pending.id), str(confirmed.id)])
    assert {(p["change"], p["refundDue"]) for p in changed} == {
        ("departure_cancelled", "165.00"),
        ("departure_cancelled", "247.50"),
    }
    assert events_[-1][0] == events.DEPARTURE_CHANGED
    assert events_[-1][1]["cancelled"] is True
    assert events_[-1][1]["seatsBooked"] == 0


async def test_a_cancelled_departure_cannot_be_cancelled_again_and_a_reason_is_required(sessions):
    slot = await _slot(sessions)
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await slots.cancel_departure(session, slot.id, "   ", MANAGER, now=NOW)
    assert [(p.code, p.field) for p in caught.value.problems] == [("REQUIRED", "reason")]

    async with sessions() as session, session.begin():
        await slots.cancel_departure(session, slot.id, "Guide ill", MANAGER, now=NOW)
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await slots.cancel_departure(session, slot.id, "Again", MANAGER, now=NOW)
    assert [(p.code, p.field) for p in caught.value.problems] == [("SLOT_CANCELLED", "id")]


async def test_capacity_cannot_drop_below_the_seats_booked_and_held(sessions):
    slot = await _slot(sessions)
    async with sessions() as session, session.begin():
        await _book(session, slot, 4)
        await _offer(session, slot, 2)

    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await slots.update_slot(session, slot.id, slots.SlotChange(max_capacity=5), NOW)
    assert [(p.code, p.field) for p in caught.value.problems] == [("OUT_OF_RANGE", "maxCapacity")]

    async with sessions() as session, session.begin():
        changed = await slots.update_slot(
            session,
            slot.id,
            slots.SlotChange(max_capacity=6, price_per_person=Decimal("90.00"), available=False),
            NOW,
        )
    assert (changed.max_capacity, changed.seats_available, changed.available) == (6, 0, False)
    assert changed.price_per_person == Decimal("90.00")


async def test_more_capacity_or_reopening_offers_the_seats_to_the_waitlist(sessions):
    # Given a full departure and a party of 2 waiting for that day
    slot = await _slot(sessions, capacity=4)
    async with sessions() as session, session.begin():
        await _book(session, slot, 4)
        entry = WaitlistEntry(
            tour_id=slot.tour_id,
            requested_date=slot.date,
            party_size=2,
            customer_name="Wen Waiting",
            customer_email="wen@example.com",
        )
        session.add(entry)

    # When staff add two seats
    async with sessions() as session, session.begin():
        changed = await slots.update_slot(session, slot.id, slots.SlotChange(max_capacity=6), NOW)

    # Then the waiting party is offered them: they are held for it
    assert (changed.max_capacity, changed.seats_held, changed.seats_available) == (6, 2, 0)
    async with sessions() as session:
        offered = await session.get(WaitlistEntry, entry.id)
    assert offered is not None
    assert (offered.status, offered.offer_slot_id) == ("notified", slot.id)


async def test_a_departure_that_has_left_or_is_cancelled_is_not_changed(sessions):
    slot = await _slot(sessions)
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await slots.update_slot(
                session, slot.id, slots.SlotChange(max_capacity=20), slot.starts_at
            )
    assert [(p.code, p.field) for p in caught.value.problems] == [("IN_THE_PAST", "id")]

    async with sessions() as session, session.begin():
        await slots.cancel_departure(session, slot.id, "Guide ill", MANAGER, now=NOW)
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await slots.update_slot(session, slot.id, slots.SlotChange(available=True), NOW)
    assert [(p.code, p.field) for p in caught.value.problems] == [("SLOT_CANCELLED", "id")]
