"""Modifying, cancelling and moving bookings along their statuses (issue 15 §2), service level."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import BookingChange, WaitlistEntry, outbox
from subgraphs.tours.service import bookings, seats
from subgraphs.tours.service.bookings import Modification
from tests.tours.booking_data import (
    ANONYMOUS,
    NOW,
    STAFF,
    customer,
    make_slot,
    make_tour,
    new_booking,
)


async def _log(session: AsyncSession) -> list[BookingChange]:
    rows = await session.scalars(select(BookingChange).order_by(BookingChange.created_at))
    return [r for r in rows if r.change_type != "created"]


async def _codes(call: object) -> list[tuple[str, str | None]]:
    with pytest.raises(ServiceError) as refused:
        await call  # type: ignore[misc]
    return [(p.code, p.field) for p in refused.value.problems]


async def test_moving_to_another_departure_moves_the_seats_reprices_and_logs_the_difference(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    old = await make_slot(session, tour, price="75.00")
    new = await make_slot(session, tour, days_ahead=12, price="80.00")
    booking = await bookings.create_booking(session, new_booking(old, adults=2), ANONYMOUS, now=NOW)

    changed = await bookings.modify_booking(
        session,
        booking.id,
        Modification(slot_id=new.id, children=1, reason="Rain"),
        ANONYMOUS,
        now=NOW,
    )

    # 2 x 80.00 + 56.00 = 216.00, tax 21.60: 237.60 (was 165.00)
    assert (changed.slot_id, changed.seats, changed.total) == (new.id, 3, Decimal("237.60"))
    await session.refresh(old)
    await session.refresh(new)
    assert (old.seats_booked, new.seats_booked) == (0, 3)
    slot_row, party_row = await _log(session)
    assert (slot_row.change_type, slot_row.amount_difference) == ("slot_change", Decimal("72.60"))
    assert slot_row.old_value["slotId"] == str(old.id)
    assert slot_row.new_value["slotId"] == str(new.id)
    assert (party_row.change_type, party_row.amount_difference) == ("party_change", None)
    assert (party_row.old_value["children"], party_row.new_value["children"]) == (0, 1)
    assert party_row.reason == "Rain"


async def test_a_move_to_a_full_departure_changes_nothing(session: AsyncSession) -> None:
    tour = await make_tour(session)
    old = await make_slot(session, tour)
    full = await make_slot(session, tour, days_ahead=12, capacity=2)
    booking = await bookings.create_booking(session, new_booking(old, adults=2), ANONYMOUS, now=NOW)
    await bookings.create_booking(session, new_booking(full, adults=1), ANONYMOUS, now=NOW)
    await session.commit()

    async with session.begin():
        codes = await _codes(
            bookings.modify_booking(
                session, booking.id, Modification(slot_id=full.id), ANONYMOUS, now=NOW
            )
        )
        await session.rollback()

    assert codes == [("SOLD_OUT", "slotId")]
    await session.refresh(old)
    await session.refresh(full)
    assert (old.seats_booked, full.seats_booked) == (2, 1)
    assert await _log(session) == []


async def test_a_smaller_party_gives_seats_back_and_a_bigger_one_needs_them(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour, capacity=5)
    booking = await bookings.create_booking(
        session, new_booking(slot, adults=4), ANONYMOUS, now=NOW
    )

    smaller = await bookings.modify_booking(
        session, booking.id, Modification(adults=2), ANONYMOUS, now=NOW
    )
    assert (smaller.seats, smaller.total) == (2, Decimal("165.00"))
    await session.refresh(slot)
    assert slot.seats_booked == 2
    [row] = await _log(session)
    assert (row.change_type, row.amount_difference) == ("party_change", Decimal("-165.00"))

    async with session.begin_nested():
        codes = await _codes(
            bookings.modify_booking(session, booking.id, Modification(adults=6), ANONYMOUS, now=NOW)
        )
    assert codes == [("SOLD_OUT", "adults")]


async def test_the_new_departure_must_follow_the_rules_and_belong_to_the_tour(
    session: AsyncSession,
) -> None:
    tour, other = await make_tour(session), await make_tour(session, name="Other")
    slot = await make_slot(session, tour)
    too_soon = await make_slot(session, tour, hours_ahead=5)
    foreign = await make_slot(session, other)
    booking = await bookings.create_booking(session, new_booking(slot), ANONYMOUS, now=NOW)

    for target, expected in ((too_soon, "BOOKING_CLOSED"), (foreign, "INVALID")):
        async with session.begin_nested():
            codes = await _codes(
                bookings.modify_booking(
                    session, booking.id, Modification(slot_id=target.id), ANONYMOUS, now=NOW
                )
            )
        assert codes == [(expected, "slotId")]


async def test_a_customer_cannot_change_a_booking_within_its_cutoff_but_staff_can(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)
    booking = await bookings.create_booking(
        session, new_booking(slot, adults=3), ANONYMOUS, now=NOW
    )
    late = slot.starts_at - timedelta(hours=2)

    async with session.begin_nested():
        codes = await _codes(
            bookings.modify_booking(
                session, booking.id, Modification(adults=2), ANONYMOUS, now=late
            )
        )
    assert codes == [("BOOKING_CLOSED", "reference")]
    changed = await bookings.modify_booking(
        session, booking.id, Modification(adults=2), STAFF, now=late
    )
    assert changed.seats == 2


async def test_cancelling_before_the_cutoff_refunds_everything_and_releases_the_seats(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)
    booking = await bookings.create_booking(
        session, new_booking(slot, adults=2), ANONYMOUS, now=NOW
    )

    cancelled = await bookings.cancel_booking(session, booking.id, ANONYMOUS, now=NOW, reason="Ill")

    assert (cancelled.status, cancelled.refund_due, cancelled.cancelled_at) == (
        "cancelled",
        Decimal("165.00"),
        NOW,
    )
    await session.refresh(slot)
    assert slot.seats_booked == 0
    [row] = await _log(session)
    assert (row.change_type, row.old_value, row.new_value, row.reason) == (
        "cancellation",
        {"status": "pending"},
        {"status": "cancelled", "refundDue": "165.00"},
        "Ill",
    )
    events = (
        await session.execute(
            select(outbox.c.payload)
            .where(outbox.c.topic == "tours.booking_changed")
            .order_by(outbox.c.id)
        )
    ).scalars()
    assert [(e["change"], e["refundDue"]) for e in events] == [
        ("created", None),
        ("cancelled", "165.00"),
    ]
    async with session.begin_nested():
        again = await _codes(bookings.cancel_booking(session, booking.id, ANONYMOUS, now=NOW))
    assert again == [("INVALID_TRANSITION", "reference")]


async def test_within_the_cutoff_nothing_is_refunded_unless_staff_say_so(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)
    late = slot.starts_at - timedelta(hours=3)
    mine = await bookings.create_booking(session, new_booking(slot), ANONYMOUS, now=NOW)
    theirs = await bookings.create_booking(session, new_booking(slot), ANONYMOUS, now=NOW)

    async with session.begin_nested():
        refused = await _codes(
            bookings.cancel_booking(
                session, mine.id, ANONYMOUS, now=late, refund_amount=Decimal("1.00")
            )
        )
    assert refused == [("FORBIDDEN", "refundAmount")]
    assert (await bookings.cancel_booking(session, mine.id, ANONYMOUS, now=late)).refund_due == 0
    async with session.begin_nested():
        too_much = await _codes(
            bookings.cancel_booking(
                session, theirs.id, STAFF, now=late, refund_amount=Decimal("165.01")
            )
        )
    assert too_much == [("OUT_OF_RANGE", "refundAmount")]
    staff_cancelled = await bookings.cancel_booking(
        session, theirs.id, STAFF, now=late, refund_amount=Decimal("80.00")
    )
    assert staff_cancelled.refund_due == Decimal("80.00")


async def test_freed_seats_go_to_the_waitlist(session: AsyncSession) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour, capacity=2)
    booking = await bookings.create_booking(
        session, new_booking(slot, adults=2), ANONYMOUS, now=NOW
    )
    entry = WaitlistEntry(
        tour_id=tour.id,
        requested_date=slot.date,
        party_size=2,
        customer_name="Bo",
        customer_email="bo@example.com",
    )
    session.add(entry)
    await session.flush()

    await bookings.cancel_booking(session, booking.id, ANONYMOUS, now=NOW)

    await session.refresh(entry)
    await session.refresh(slot)
    assert (entry.status, entry.offer_slot_id) == ("notified", slot.id)
    assert (slot.seats_booked, slot.seats_held) == (0, 2)


async def test_an_accepted_offer_books_its_held_seats_and_frees_the_rest(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour, capacity=4)
    assert await seats.hold(session, slot.id, 3)
    me = customer()
    entry = WaitlistEntry(
        tour_id=tour.id,
        requested_date=slot.date,
        party_size=3,
        user_id=me.user_id,
        customer_name="Bo",
        customer_email="bo@example.com",
        status="notified",
        offer_slot_id=slot.id,
        offered_at=NOW,
        offer_expires_at=NOW + timedelta(hours=24),
    )
    session.add(entry)
    await session.flush()

    booking = await bookings.create_booking(
        session, new_booking(slot, adults=2), STAFF, now=NOW, from_offer=entry
    )

    await session.refresh(slot)
    assert (slot.seats_booked, slot.seats_held, slot.seats_available) == (2, 0, 2)
    assert (booking.waitlist_entry_id, booking.user_id) == (entry.id, me.user_id)
    expired = NOW + timedelta(hours=25)
    async with session.begin_nested():
        codes = await _codes(
            bookings.create_booking(
                session, new_booking(slot, adults=1), STAFF, now=expired, from_offer=entry
            )
        )
    assert ("OFFER_EXPIRED", "entryId") in codes


async def test_statuses_follow_the_table_and_the_departure(session: AsyncSession) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)
    booking = await bookings.create_booking(session, new_booking(slot), ANONYMOUS, now=NOW)
    after = slot.starts_at + timedelta(hours=1)

    async with session.begin_nested():
        assert await _codes(
            bookings.set_status(session, booking.id, "completed", STAFF, now=after)
        ) == [("INVALID_TRANSITION", "status")]
    await bookings.set_status(session, booking.id, "confirmed", STAFF, now=NOW, reason="Paid")
    async with session.begin_nested():
        assert await _codes(
            bookings.set_status(session, booking.id, "no_show", STAFF, now=NOW)
        ) == [("INVALID_TRANSITION", "status")]
    done = await bookings.set_status(session, booking.id, "no_show", STAFF, now=after)

    assert done.status == "no_show"
    rows = await _log(session)
    assert [(r.change_type, r.old_value, r.new_value) for r in rows] == [
        ("status_change", {"status": "pending"}, {"status": "confirmed"}),
        ("status_change", {"status": "confirmed"}, {"status": "no_show"}),
    ]
