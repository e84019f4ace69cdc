"""Booking seats at the service level (issue 15 §2): prices, the rules, the log and the events."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import BlackoutDate, Booking, BookingChange, outbox
from subgraphs.tours.service import bookings, references
from subgraphs.tours.service.bookings import NewBooking
from tests.tours.booking_data import (
    ANONYMOUS,
    NOW,
    STAFF,
    customer,
    make_slot,
    make_tour,
    new_booking,
)


async def _refusal(session: AsyncSession, data: NewBooking, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(ServiceError) as refused:
        async with session.begin_nested():
            await bookings.create_booking(session, data, kwargs.pop("actor", ANONYMOUS), now=NOW)
    return [(p.code, str(p.field)) for p in refused.value.problems]


async def _events(session: AsyncSession, topic: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)
    )
    return [r.payload for r in rows]


async def test_two_adults_and_a_child_book_three_seats_for_222_75_logged_and_announced(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour, price="75.00")
    me = customer()

    booking = await bookings.create_booking(
        session, new_booking(slot, adults=2, children=1), me, now=NOW
    )
    await session.commit()

    assert re.fullmatch(r"TB-20260601-[A-Z2-9]{6}", booking.reference)
    assert (booking.adult_price, booking.child_price, booking.subtotal) == (
        Decimal("75.00"),
        Decimal("52.50"),
        Decimal("202.50"),
    )
    assert (booking.tax, booking.total, booking.status, booking.seats) == (
        Decimal("20.25"),
        Decimal("222.75"),
        "pending",
        3,
    )
    assert booking.user_id == me.user_id
    await session.refresh(slot)
    assert (slot.seats_booked, slot.seats_available) == (3, 12)
    log = (await session.scalars(select(BookingChange))).all()
    assert [(c.change_type, c.changed_by, str(c.ip_address), c.user_agent) for c in log] == [
        ("created", me.user_id, "198.51.100.4", "pytest-customer")
    ]
    [event] = await _events(session, "tours.booking_changed")
    assert (event["change"], event["reference"], event["total"]) == (
        "created",
        booking.reference,
        "222.75",
    )


async def test_staff_book_for_a_customer_without_owning_it_and_may_discount(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)

    booking = await bookings.create_booking(
        session, new_booking(slot, adults=2, discount=Decimal("50.00")), STAFF, now=NOW
    )

    assert (booking.user_id, booking.created_by) == (None, STAFF.user_id)
    assert (booking.discount, booking.tax, booking.total) == (
        Decimal("50.00"),
        Decimal("10.00"),
        Decimal("110.00"),
    )


async def test_a_customer_may_not_give_itself_a_discount(session: AsyncSession) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)

    problems = await _refusal(
        session, new_booking(slot, discount=Decimal("5.00")), actor=customer()
    )

    assert problems == [("FORBIDDEN", "discount")]


@pytest.mark.parametrize(
    ("slot_fields", "booking_fields", "expected"),
    [
        ({"hours_ahead": 23}, {}, [("BOOKING_CLOSED", "slotId")]),
        ({"hours_ahead": -1}, {}, [("IN_THE_PAST", "slotId")]),
        ({"days_ahead": 91}, {}, [("TOO_FAR_AHEAD", "slotId")]),
        ({"capacity": 60}, {"adults": 51}, [("PARTY_SIZE", "adults")]),
        ({}, {"adults": 0, "children": 0, "infants": 0}, [("PARTY_SIZE", "adults")]),
        ({}, {"adults": 0, "children": 1, "infants": 1}, [("INFANTS_NEED_ADULT", "infants")]),
        ({}, {"adults": -1}, [("INVALID", "adults")]),
        (
            {},
            {"customer_name": " ", "customer_email": "nope"},
            [
                ("REQUIRED", "customerName"),
                ("INVALID", "customerEmail"),
            ],
        ),
    ],
)
async def test_each_rule_refuses_by_its_code_and_field_and_stores_nothing(
    session: AsyncSession,
    slot_fields: dict[str, Any],
    booking_fields: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour, **slot_fields)
    data = new_booking(slot, **{"adults": 2, **booking_fields})

    assert await _refusal(session, data) == expected
    assert await session.scalar(select(func.count()).select_from(Booking)) == 0
    await session.refresh(slot)
    assert slot.seats_booked == 0


async def test_the_tours_own_party_limits_and_a_blackout_and_an_inactive_tour_refuse(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session, max_party=4, active=False)
    slot = await make_slot(session, tour)
    session.add(
        BlackoutDate(
            tour_id=None,
            start_date=slot.date,
            end_date=slot.date,
            blackout_type="holiday",
            name="Founders' Day",
        )
    )
    await session.flush()

    problems = await _refusal(session, new_booking(slot, adults=5))

    assert sorted(problems) == [
        ("BLACKED_OUT", "slotId"),
        ("PARTY_SIZE", "adults"),
        ("TOUR_INACTIVE", "slotId"),
    ]


async def test_closed_cancelled_and_full_departures_refuse_from_the_seat_update(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    closed = await make_slot(session, tour)
    closed.available = False
    cancelled = await make_slot(session, tour, days_ahead=11)
    cancelled.cancelled_at = NOW
    full = await make_slot(session, tour, days_ahead=12, capacity=3)
    await session.flush()

    assert await _refusal(session, new_booking(closed)) == [("SLOT_CLOSED", "slotId")]
    assert await _refusal(session, new_booking(cancelled)) == [("SLOT_CANCELLED", "slotId")]
    assert await _refusal(session, new_booking(full, adults=2, infants=2)) == [
        ("SOLD_OUT", "slotId")
    ]


async def test_infants_take_a_seat_but_pay_nothing(session: AsyncSession) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)

    booking = await bookings.create_booking(
        session, new_booking(slot, adults=1, infants=2), ANONYMOUS, now=NOW
    )

    assert (booking.seats, booking.subtotal, booking.user_id) == (3, Decimal("75.00"), None)


async def test_a_taken_reference_is_drawn_again(session: AsyncSession) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)
    first = await bookings.create_booking(session, new_booking(slot, adults=1), ANONYMOUS, now=NOW)
    draws = iter([first.reference, "TB-20260601-ZZZZZZ"])
    second = Booking(
        **{
            c: getattr(first, c)
            for c in (
                "tour_id",
                "slot_id",
                "adults",
                "customer_name",
                "customer_email",
                "adult_price",
                "child_price",
                "subtotal",
                "tax",
                "total",
            )
        }
    )

    await references.insert_with_reference(
        session, second, date(2026, 6, 1), draw=lambda _day: next(draws)
    )

    assert second.reference == "TB-20260601-ZZZZZZ"
    assert await session.scalar(select(func.count()).select_from(Booking)) == 2


async def test_lookup_by_reference_needs_the_matching_email(session: AsyncSession) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour)
    booking = await bookings.create_booking(session, new_booking(slot), ANONYMOUS, now=NOW)

    found = await bookings.by_reference(session, booking.reference.lower(), " ANA@example.com")
    assert found is not None
    assert found.id == booking.id
    assert await bookings.by_reference(session, booking.reference, "eve@example.com") is None
    assert await bookings.by_reference(session, "TB-20260601-AAAAAA", "ana@example.com") is None


async def test_staff_list_filters_by_tour_status_and_departure_dates(
    session: AsyncSession,
) -> None:
    tour, other = await make_tour(session), await make_tour(session, name="Night walk")
    soon, later = await make_slot(session, tour), await make_slot(session, tour, days_ahead=20)
    elsewhere = await make_slot(session, other)
    a = await bookings.create_booking(session, new_booking(soon), ANONYMOUS, now=NOW)
    b = await bookings.create_booking(session, new_booking(later), ANONYMOUS, now=NOW)
    await bookings.create_booking(session, new_booking(elsewhere), ANONYMOUS, now=NOW)

    async def ids(f: bookings.BookingFilter) -> set[Any]:
        return set((await session.scalars(bookings.staff_list(f))).all())

    assert {x.id for x in await ids(bookings.BookingFilter(tour_id=tour.id))} == {a.id, b.id}
    window = bookings.BookingFilter(tour_id=tour.id, start=later.date, end=later.date)
    assert {x.id for x in await ids(window)} == {b.id}
    assert await ids(bookings.BookingFilter(status="cancelled")) == set()


async def test_the_booking_that_reaches_the_minimum_confirms_the_departure(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour, min_capacity=3)

    await bookings.create_booking(session, new_booking(slot, adults=2), ANONYMOUS, now=NOW)
    await session.refresh(slot)
    assert slot.confirmed_to_run_at is None
    await bookings.create_booking(session, new_booking(slot, adults=1), ANONYMOUS, now=NOW)
    await session.refresh(slot)
    assert slot.confirmed_to_run_at == NOW
    [announced] = await _events(session, "tours.departure_changed")
    assert (announced["seatsBooked"], announced["confirmedToRun"]) == (3, True)
