"""Issue 15 §3 at the service level: who is offered freed seats, for how long, and what follows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protocol.viewer import Viewer
from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import BlackoutDate, DepartureSlot, Tour, WaitlistEntry, outbox
from subgraphs.tours.service import seats, waitlist
from subgraphs.tours.service.events import WAITLIST_OFFER_MADE
from subgraphs.tours.service.waitlist import NewEntry, OfferParty
from tests.tours.booking_data import ANONYMOUS, NOW, STAFF, customer, make_slot, make_tour


async def entry(
    session: AsyncSession,
    tour: Tour,
    day: date,
    party_size: int,
    *,
    minutes_ago: int,
    priority: int = 0,
    email: str | None = None,
    user_id: uuid.UUID | None = None,
) -> WaitlistEntry:
    row = WaitlistEntry(
        tour_id=tour.id,
        requested_date=day,
        party_size=party_size,
        customer_name="Waiting Person",
        customer_email=email or f"w{uuid.uuid4().hex[:8]}@example.com",
        priority=priority,
        status="active",
        user_id=user_id,
        created_at=NOW - timedelta(minutes=minutes_ago),
    )
    session.add(row)
    await session.flush()
    return row


async def full_slot(session: AsyncSession, capacity: int = 10, **kw: Any) -> DepartureSlot:
    tour = await make_tour(session)
    slot = await make_slot(session, tour, capacity=capacity, **kw)
    await seats.reserve(session, slot.id, capacity)
    return slot


async def fresh(session: AsyncSession, row: Any) -> Any:
    await session.refresh(row)
    return row


async def offers_announced(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(outbox.c.payload).where(outbox.c.topic == WAITLIST_OFFER_MADE).order_by(outbox.c.id)
    )
    return list(rows)


async def test_freed_seats_go_to_the_highest_priority_then_the_oldest_entry_that_fits(
    session: AsyncSession,
) -> None:
    slot = await full_slot(session)
    tour = await session.get(Tour, slot.tour_id)
    assert tour is not None
    oldest_three = await entry(session, tour, slot.date, 3, minutes_ago=50)
    urgent_five = await entry(session, tour, slot.date, 5, minutes_ago=10, priority=1)
    newer_two = await entry(session, tour, slot.date, 2, minutes_ago=40)
    other_day = await entry(session, tour, slot.date + timedelta(days=1), 1, minutes_ago=90)

    await seats.release(session, slot.id, 6)
    first = await waitlist.offer_freed_seats(session, slot.id, NOW)

    # five to the priority entry; the one seat left fits nobody, so nobody else is offered
    assert [e.id for e in first] == [urgent_five.id]
    assert (await fresh(session, slot)).seats_held == 5
    assert (await fresh(session, oldest_three)).status == "active"

    await seats.release(session, slot.id, 4)  # five free now
    second = await waitlist.offer_freed_seats(session, slot.id, NOW)

    assert [e.id for e in second] == [oldest_three.id, newer_two.id]
    for offered in (urgent_five, oldest_three, newer_two):
        row = await fresh(session, offered)
        assert (row.status, row.offer_slot_id) == ("notified", slot.id)
        assert row.offered_at == NOW
        assert row.offer_expires_at == NOW + timedelta(hours=24)
    assert (await fresh(session, other_day)).status == "active"
    slot = await fresh(session, slot)
    assert (slot.seats_booked, slot.seats_held, slot.seats_available) == (0, 10, 0)
    announced = await offers_announced(session)
    assert [a["entryId"] for a in announced] == [
        str(urgent_five.id),
        str(oldest_three.id),
        str(newer_two.id),
    ]
    assert announced[0]["seats"] == 5
    assert announced[0]["expiresAt"] == (NOW + timedelta(hours=24)).isoformat()


async def test_an_offer_never_outlives_the_booking_cutoff(session: AsyncSession) -> None:
    slot = await full_slot(session, capacity=4, hours_ahead=30)
    tour = await session.get(Tour, slot.tour_id)
    assert tour is not None
    waiting = await entry(session, tour, slot.date, 2, minutes_ago=5)

    await seats.release(session, slot.id, 2)
    await waitlist.offer_freed_seats(session, slot.id, NOW)

    # 24 h hold, but booking closes 24 h before a departure 30 h away: 6 h from now
    assert (await fresh(session, waiting)).offer_expires_at == NOW + timedelta(hours=6)


@pytest.mark.parametrize("why", ["cancelled", "closed", "within_cutoff", "blacked_out", "inactive"])
async def test_no_offer_is_made_where_nobody_could_book(session: AsyncSession, why: str) -> None:
    slot = await full_slot(
        session, capacity=4, **({"hours_ahead": 20} if why == "within_cutoff" else {})
    )
    tour = await session.get(Tour, slot.tour_id)
    assert tour is not None
    waiting = await entry(session, tour, slot.date, 1, minutes_ago=5)
    await seats.release(session, slot.id, 2)
    if why == "cancelled":
        slot.cancelled_at = NOW
    elif why == "closed":
        slot.available = False
    elif why == "blacked_out":
        session.add(
            BlackoutDate(
                start_date=slot.date, end_date=slot.date, blackout_type="weather", name="Storm"
            )
        )
    elif why == "inactive":
        tour.active = False
    await session.flush()

    assert await waitlist.offer_freed_seats(session, slot.id, NOW) == []
    assert (await fresh(session, waiting)).status == "active"
    assert (await fresh(session, slot)).seats_held == 0


async def test_a_cancelled_departure_puts_its_offers_back_in_line(session: AsyncSession) -> None:
    slot = await full_slot(session, capacity=6)
    tour = await session.get(Tour, slot.tour_id)
    assert tour is not None
    offered = await entry(session, tour, slot.date, 2, minutes_ago=30, priority=3)
    await seats.release(session, slot.id, 2)
    await waitlist.offer_freed_seats(session, slot.id, NOW)
    assert (await fresh(session, slot)).seats_held == 2

    await waitlist.slot_cancelled(session, slot.id)

    row = await fresh(session, offered)
    assert (row.status, row.offer_slot_id, row.offered_at, row.offer_expires_at) == (
        "active",
        None,
        None,
        None,
    )
    assert row.priority == 3  # its place in line is kept
    assert (await fresh(session, slot)).seats_held == 0


# ---------------------------------------------------------------- joining


def new_entry(tour: Tour, day: date, party_size: int = 2, **kw: Any) -> NewEntry:
    values: dict[str, Any] = {
        "customer_name": "Ana Lima",
        "customer_email": "Ana@Example.com",
        **kw,
    }
    return NewEntry(tour_id=tour.id, requested_date=day, party_size=party_size, **values)


async def test_a_signed_in_customer_joins_and_owns_the_entry(session: AsyncSession) -> None:
    tour = await make_tour(session)
    day = NOW.date() + timedelta(days=5)
    me = uuid.uuid4()

    row = await waitlist.join(
        session, new_entry(tour, day, notes="window seats"), customer(me), NOW
    )

    assert (row.status, row.user_id, row.customer_email, row.party_size, row.notes) == (
        "active",
        me,
        "ana@example.com",
        2,
        "window seats",
    )
    # staff adding a customer do not own the entry; anonymous callers own none
    staff_row = await waitlist.join(
        session, new_entry(tour, day, customer_email="bo@example.com"), STAFF, NOW
    )
    anonymous_row = await waitlist.join(
        session, new_entry(tour, day, customer_email="cy@example.com"), ANONYMOUS, NOW
    )
    assert staff_row.user_id is None
    assert anonymous_row.user_id is None


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"day": -1}, "date", "IN_THE_PAST"),
        ({"day": 91}, "date", "TOO_FAR_AHEAD"),
        ({"blackout": True}, "date", "BLACKED_OUT"),
        ({"party_size": 0}, "partySize", "PARTY_SIZE"),
        ({"party_size": 51}, "partySize", "PARTY_SIZE"),
        ({"customer_email": "not-an-address"}, "customerEmail", "INVALID"),
        ({"customer_name": "  "}, "customerName", "REQUIRED"),
        ({"inactive": True}, "tourId", "TOUR_INACTIVE"),
    ],
)
async def test_joining_is_refused_where_no_booking_could_follow(
    session: AsyncSession, change: dict[str, Any], field: str, code: str
) -> None:
    tour = await make_tour(session, active=not change.pop("inactive", False))
    day = NOW.date() + timedelta(days=change.pop("day", 5))
    if change.pop("blackout", False):
        session.add(
            BlackoutDate(
                tour_id=tour.id, start_date=day, end_date=day, blackout_type="holiday", name="Fête"
            )
        )
        await session.flush()

    with pytest.raises(ServiceError) as refused:
        await waitlist.join(session, new_entry(tour, day, **change), ANONYMOUS, NOW)

    assert [(p.field, p.code) for p in refused.value.problems] == [(field, code)]
    assert await session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0


async def test_one_email_waits_once_per_tour_and_day(session: AsyncSession) -> None:
    tour = await make_tour(session)
    day = NOW.date() + timedelta(days=5)
    await waitlist.join(session, new_entry(tour, day), ANONYMOUS, NOW)

    with pytest.raises(ServiceError) as refused:
        await waitlist.join(
            session, new_entry(tour, day, customer_email="ANA@example.com"), ANONYMOUS, NOW
        )

    assert [(p.field, p.code) for p in refused.value.problems] == [("date", "CONFLICT")]


async def test_joining_while_a_departure_still_fits_joins_without_an_offer(
    session: AsyncSession,
) -> None:
    tour = await make_tour(session)
    slot = await make_slot(session, tour, capacity=10)

    row = await waitlist.join(session, new_entry(tour, slot.date, 2), ANONYMOUS, NOW)

    assert row.status == "active"
    assert (await fresh(session, slot)).seats_held == 0


# ---------------------------------------------------------------- staff and customers acting on it


async def test_staff_set_a_priority_that_counts_from_the_next_seats_freed(
    session: AsyncSession,
) -> None:
    slot = await full_slot(session, capacity=4)
    tour = await session.get(Tour, slot.tour_id)
    assert tour is not None
    older = await entry(session, tour, slot.date, 2, minutes_ago=60)
    newer = await entry(session, tour, slot.date, 2, minutes_ago=1)

    await waitlist.set_priority(session, newer.id, 5)
    await seats.release(session, slot.id, 2)
    offered = await waitlist.offer_freed_seats(session, slot.id, NOW)

    assert [e.id for e in offered] == [newer.id]
    assert (await fresh(session, older)).status == "active"
    with pytest.raises(ServiceError) as refused:
        await waitlist.set_priority(session, older.id, 5000)
    assert [(p.field, p.code) for p in refused.value.problems] == [("priority", "OUT_OF_RANGE")]


async def test_cancelling_a_held_offer_offers_its_seats_to_the_next_in_line(
    session: AsyncSession,
) -> None:
    slot = await full_slot(session, capacity=4)
    tour = await session.get(Tour, slot.tour_id)
    assert tour is not None
    first = await entry(session, tour, slot.date, 2, minutes_ago=60, email="first@example.com")
    second = await entry(session, tour, slot.date, 2, minutes_ago=30)
    await seats.release(session, slot.id, 2)
    await waitlist.offer_freed_seats(session, slot.id, NOW)

    # an anonymous customer proves it is theirs with the e-mail; a wrong one is "no such entry"
    with pytest.raises(ServiceError) as refused:
        await waitlist.cancel(session, first.id, Viewer(), NOW, email="other@example.com")
    assert [(p.field, p.code) for p in refused.value.problems] == [("id", "NOT_FOUND")]
    cancelled = await waitlist.cancel(session, first.id, Viewer(), NOW, email="FIRST@example.com")

    # the offer's departure stays as history; its hold is gone
    assert (cancelled.status, cancelled.offer_slot_id, cancelled.offer_expires_at) == (
        "cancelled",
        slot.id,
        None,
    )
    row = await fresh(session, second)
    assert (row.status, row.offer_slot_id) == ("notified", slot.id)
    assert (await fresh(session, slot)).seats_held == 2


async def test_a_customer_acts_only_on_its_own_entry(session: AsyncSession) -> None:
    tour = await make_tour(session)
    owner = uuid.uuid4()
    mine = await entry(
        session, tour, NOW.date() + timedelta(days=3), 1, minutes_ago=1, user_id=owner
    )

    with pytest.raises(ServiceError):
        await waitlist.cancel(session, mine.id, customer().viewer, NOW)
    done = await waitlist.cancel(session, mine.id, customer(owner).viewer, NOW)

    assert done.status == "cancelled"
    with pytest.raises(ServiceError) as again:
        await waitlist.cancel(session, mine.id, customer(owner).viewer, NOW)
    assert [p.code for p in again.value.problems] == ["INVALID_TRANSITION"]


# ---------------------------------------------------------------- accepting


async def offered_entry(
    session: AsyncSession, party_size: int = 3, **kw: Any
) -> tuple[DepartureSlot, WaitlistEntry]:
    slot = await full_slot(session, capacity=6)
    tour = await session.get(Tour, slot.tour_id)
    assert tour is not None
    row = await entry(session, tour, slot.date, party_size, minutes_ago=10, **kw)
    await seats.release(session, slot.id, party_size)
    await waitlist.offer_freed_seats(session, slot.id, NOW)
    return slot, row


async def test_accepting_an_offer_books_the_held_seats(session: AsyncSession) -> None:
    owner = uuid.uuid4()
    slot, offered = await offered_entry(session, user_id=owner)

    row, booking = await waitlist.accept(
        session, offered.id, OfferParty(adults=2, children=1), customer(owner), NOW
    )

    assert (row.status, row.booking_id, row.converted_at) == ("converted", booking.id, NOW)
    assert (booking.slot_id, booking.seats, booking.user_id) == (slot.id, 3, owner)
    assert booking.waitlist_entry_id == offered.id
    slot = await fresh(session, slot)
    assert (slot.seats_booked, slot.seats_held, slot.seats_available) == (6, 0, 0)


async def test_seats_an_accepting_party_does_not_use_go_to_the_next_in_line(
    session: AsyncSession,
) -> None:
    slot, offered = await offered_entry(session, party_size=3, email="ana@example.com")
    tour = await session.get(Tour, slot.tour_id)
    assert tour is not None
    next_one = await entry(session, tour, slot.date, 1, minutes_ago=5)

    await waitlist.accept(
        session, offered.id, OfferParty(adults=2), ANONYMOUS, NOW, email="ana@example.com"
    )

    assert (await fresh(session, next_one)).status == "notified"
    slot = await fresh(session, slot)
    assert (slot.seats_booked, slot.seats_held) == (5, 1)


@pytest.mark.parametrize(
    ("when", "party", "field", "code"),
    [
        (timedelta(hours=24), OfferParty(adults=1), "entryId", "OFFER_EXPIRED"),
        (timedelta(0), OfferParty(adults=3, children=1), "adults", "PARTY_SIZE"),
    ],
)
async def test_an_offer_is_accepted_only_open_and_for_at_most_its_seats(
    session: AsyncSession, when: timedelta, party: OfferParty, field: str, code: str
) -> None:
    _slot, offered = await offered_entry(session, party_size=3)

    with pytest.raises(ServiceError) as refused:
        await waitlist.accept(session, offered.id, party, STAFF, NOW + when)

    assert [(p.field, p.code) for p in refused.value.problems] == [(field, code)]


async def test_a_stranger_cannot_accept_someone_elses_offer(session: AsyncSession) -> None:
    _slot, offered = await offered_entry(session, user_id=uuid.uuid4())

    for actor, email in ((customer(), None), (ANONYMOUS, None), (ANONYMOUS, "x@example.com")):
        with pytest.raises(ServiceError) as refused:
            await waitlist.accept(
                session, offered.id, OfferParty(adults=1), actor, NOW, email=email
            )
        assert [(p.field, p.code) for p in refused.value.problems] == [("entryId", "NOT_FOUND")]


# ---------------------------------------------------------------- the expiry job


async def test_expired_offers_lapse_and_their_seats_go_to_the_next_entry_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        slot, offered = await offered_entry(session, party_size=2)
        tour = await session.get(Tour, slot.tour_id)
        assert tour is not None
        next_one = await entry(session, tour, slot.date, 2, minutes_ago=1)
        slot_id, offered_id, next_id = slot.id, offered.id, next_one.id
    later = NOW + timedelta(hours=24, minutes=1)

    # two replicas at once, then a rerun: one expiry in all
    counts = await asyncio.gather(
        waitlist.expire_offers(sessions, later), waitlist.expire_offers(sessions, later)
    )
    again = await waitlist.expire_offers(sessions, later)

    assert sorted(counts) == [0, 1]
    assert again == 0
    async with sessions() as session:
        lapsed = await session.get(WaitlistEntry, offered_id)
        following = await session.get(WaitlistEntry, next_id)
        slot_now = await session.get(DepartureSlot, slot_id)
        assert lapsed is not None
        assert following is not None
        assert slot_now is not None
        assert lapsed.status == "expired"
        assert (following.status, following.offer_expires_at) == (
            "notified",
            later + timedelta(hours=24),
        )
        assert (slot_now.seats_booked, slot_now.seats_held) == (4, 2)
        assert len(await offers_announced(session)) == 2
