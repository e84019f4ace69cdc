"""Tour customers hear of their bookings and waitlist offers (issue 15), at the e-mail they gave.

The events are the ones tours' own payload builders write (`tours.service.events`,
read back from tours' outbox), so a change of their shape breaks these tests.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from subgraphs.notifications.app import PROJECTIONS
from subgraphs.notifications.models import Message
from subgraphs.notifications.service import tour_messages
from subgraphs.notifications.service.templates import install_defaults
from subgraphs.tours.models import Booking, DepartureSlot, Tour, WaitlistEntry
from subgraphs.tours.models import outbox as tours_outbox
from subgraphs.tours.service import events

STARTS = datetime(2026, 7, 4, 14, 0, tzinfo=UTC)


def _tour() -> Tour:
    return Tour(id=uuid.uuid4(), name="Architecture by boat", meeting_point="Dock 3")


def _slot(tour: Tour) -> DepartureSlot:
    return DepartureSlot(
        id=uuid.uuid4(),
        tour_id=tour.id,
        date=date(2026, 7, 4),
        local_start=time(9, 0),
        local_end=time(11, 0),
        time_zone="America/Chicago",
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=2),
        price_per_person=Decimal("75.00"),
    )


def _booking(slot: DepartureSlot, **fields: Any) -> Booking:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "reference": "TB-20260601-K7Q2ZP",
        "tour_id": slot.tour_id,
        "slot_id": slot.id,
        "adults": 2,
        "children": 1,
        "infants": 0,
        "customer_name": "Ada Walker",
        "customer_email": "ada.walker@example.com",
        "customer_phone": "",
        "total": Decimal("222.75"),
        "status": "pending",
        "refund_due": None,
        "user_id": None,
    }
    values.update(fields)
    return Booking(**values)


async def announced(sessions: Any, write: Any) -> dict[str, Any]:
    """What tours' builder writes, as tours' relay delivers it."""
    async with sessions() as session, session.begin():
        await write(session)
    async with sessions() as session:
        row = (
            await session.execute(select(tours_outbox).order_by(tours_outbox.c.id.desc()).limit(1))
        ).one()
    return {
        "id": f"tours:{row.id}",
        "topic": row.topic,
        "payload": row.payload,
        "occurredAt": datetime.now(UTC).isoformat(),
    }


async def booking_event(sessions: Any, change: str, **fields: Any) -> dict[str, Any]:
    tour = _tour()
    slot = _slot(tour)
    booking = _booking(slot, **fields)
    return await announced(
        sessions,
        lambda s: events.booking_changed(s, booking, slot, tour, change, reason="Storm warning"),
    )


async def handle(sessions: Any, handler: Any, event: dict[str, Any]) -> Any:
    async with sessions() as session, session.begin():
        return await handler(session, event)


async def messages(sessions: Any) -> list[Message]:
    async with sessions() as session:
        return list(await session.scalars(select(Message).order_by(Message.created_at)))


@pytest.fixture(autouse=True)
async def _templates(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        await install_defaults(s)


async def test_an_anonymous_customer_gets_one_booking_confirmation(sessions: Any) -> None:
    event = await booking_event(sessions, events.CREATED)

    await handle(sessions, tour_messages.on_booking_changed, event)
    await handle(sessions, tour_messages.on_booking_changed, event)  # redelivered

    [message] = await messages(sessions)
    assert (message.kind, message.channel, message.status) == (
        "tour_booking_confirmation",
        "email",
        "queued",
    )
    assert (message.recipient, message.recipient_name, message.recipient_user_id) == (
        "ada.walker@example.com",
        "Ada Walker",
        None,
    )
    assert message.variables["total"] == {"amount": "222.75", "currency": "USD"}
    body = str(message.body_text)
    assert "TB-20260601-K7Q2ZP" in body
    assert "2 adults, 1 child" in body
    assert "$222.75" in body
    assert "9:00" in body  # the departure's local time in Chicago, not 14:00 UTC


async def test_a_cancelled_departure_tells_the_customer_the_full_refund(sessions: Any) -> None:
    event = await booking_event(
        sessions, events.DEPARTURE_CANCELLED, status="cancelled", refund_due=Decimal("222.75")
    )

    await handle(sessions, tour_messages.on_booking_changed, event)

    [message] = await messages(sessions)
    assert message.kind == "tour_booking_cancelled"
    assert message.variables["departure_cancelled"] is True
    assert message.variables["refund_due"] == {"amount": "222.75", "currency": "USD"}
    assert "we had to cancel the departure" in str(message.body_text)
    assert "Refund: $222.75" in str(message.body_text)


async def test_a_cancellation_within_the_cutoff_says_no_refund_is_due(sessions: Any) -> None:
    event = await booking_event(
        sessions, events.CANCELLED, status="cancelled", refund_due=Decimal("0.00")
    )

    await handle(sessions, tour_messages.on_booking_changed, event)

    [message] = await messages(sessions)
    assert (message.kind, message.variables["refund_due"]) == ("tour_booking_cancelled", None)
    assert "No refund is due." in str(message.body_text)


async def test_modified_and_confirmed_bookings_say_what_they_are_now(sessions: Any) -> None:
    user = uuid.uuid4()
    modified = await booking_event(sessions, events.MODIFIED, total=Decimal("297.00"), user_id=user)
    confirmed = await booking_event(sessions, events.CONFIRMED, status="confirmed")

    await handle(sessions, tour_messages.on_booking_changed, modified)
    await handle(sessions, tour_messages.on_booking_changed, confirmed)

    first, second = await messages(sessions)
    assert (first.kind, first.recipient_user_id) == ("tour_booking_changed", user)
    assert "has been changed" in str(first.body_text)
    assert "$297.00" in str(first.body_text)
    assert second.kind == "tour_booking_changed"
    assert str(second.subject).startswith("[Athena] Tour booking confirmed")


async def test_bookkeeping_changes_tell_the_customer_nothing(sessions: Any) -> None:
    for change in (events.COMPLETED, events.NO_SHOW, events.REFUNDED):
        await handle(
            sessions, tour_messages.on_booking_changed, await booking_event(sessions, change)
        )

    assert await messages(sessions) == []


async def test_a_waitlist_offer_says_how_many_seats_are_held_until_when(sessions: Any) -> None:
    tour = _tour()
    slot = _slot(tour)
    expires = STARTS - timedelta(days=1)
    entry = WaitlistEntry(
        id=uuid.uuid4(),
        tour_id=tour.id,
        requested_date=slot.date,
        party_size=3,
        customer_name="Lin Park",
        customer_email="lin.park@example.com",
        customer_phone="",
        status="notified",
        offer_slot_id=slot.id,
        offer_expires_at=expires,
        user_id=None,
    )
    event = await announced(sessions, lambda s: events.waitlist_offer_made(s, entry, slot, tour))

    await handle(sessions, tour_messages.on_waitlist_offer_made, event)

    [message] = await messages(sessions)
    assert (message.kind, message.recipient) == ("tour_waitlist_offer", "lin.park@example.com")
    assert message.variables["seats"] == 3
    assert message.variables["offer_expires_at"] == expires.isoformat()
    assert "3 seats on Architecture by boat" in str(message.body_text)


def test_the_app_consumes_both_tour_topics_with_these_handlers() -> None:
    assert PROJECTIONS[events.BOOKING_CHANGED][1] is tour_messages.on_booking_changed
    assert PROJECTIONS[events.WAITLIST_OFFER_MADE][1] is tour_messages.on_waitlist_offer_made
