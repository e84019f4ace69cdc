"""The waitlist, availability and calendar through the tours subgraph over HTTP.

The rules are tested at the service level (test_waitlist*, test_availability,
test_calendar), who gets past each gate in test_security_review_roles; here:
the customer's path from a sold-out day to a booking, and that lists cost the
same SQL for 1 row or 20.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import record_statements
from subgraphs.tours.models import Tour, WaitlistEntry
from subgraphs.tours.service import bookings, seats, waitlist
from tests.support.graphql_client import GraphQLClient
from tests.tours.booking_data import STAFF, make_slot, make_tour, new_booking

AVAILABILITY = """
query($t: ID!, $d: Date!) {
  availability(tourId: $t, date: $d, partySize: 2) {
    available reasonCode waitlistOpen slots { id seatsAvailable }
  }
}
"""
JOIN = """
mutation($t: ID!, $d: Date!) {
  joinTourWaitlist(input: {tourId: $t, date: $d, partySize: 2, customerName: "Ana Lima",
                           customerEmail: "ana@example.com"}) {
    entry { id status partySize } userErrors { field code message }
  }
}
"""
ACCEPT = """
mutation($id: ID!, $email: String) {
  acceptTourWaitlistOffer(input: {entryId: $id, email: $email, adults: 1, children: 1}) {
    entry { status booking { reference } offerSlot { id } }
    booking { seats total status slot { id seatsBooked seatsHeld } }
    userErrors { field code message }
  }
}
"""


async def test_a_customer_goes_from_a_sold_out_day_to_a_booked_offer(
    tours_as: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        tour = await make_tour(session)
        slot = await make_slot(session, tour, capacity=2, now=now)
        taken = await bookings.create_booking(session, new_booking(slot), STAFF, now=now)
        tour_id, slot_id, day, taken_id = str(tour.id), str(slot.id), slot.date, taken.id
    anonymous: GraphQLClient = await tours_as()
    asked = {"t": tour_id, "d": day.isoformat()}

    before = (await anonymous(AVAILABILITY, asked)).ok()["availability"]
    joined = (await anonymous(JOIN, asked)).ok()["joinTourWaitlist"]
    async with sessions() as session, session.begin():
        await bookings.cancel_booking(session, taken_id, STAFF, now=now)
    wrong = (await anonymous(ACCEPT, {"id": joined["entry"]["id"], "email": "x@example.com"})).ok()
    accepted = (
        await anonymous(ACCEPT, {"id": joined["entry"]["id"], "email": "ANA@example.com"})
    ).ok()["acceptTourWaitlistOffer"]

    assert before == {
        "available": False,
        "reasonCode": "SOLD_OUT",
        "waitlistOpen": True,
        "slots": [],
    }
    assert joined["entry"]["status"] == "ACTIVE"
    assert joined["userErrors"] == []
    assert [e["code"] for e in wrong["acceptTourWaitlistOffer"]["userErrors"]] == ["NOT_FOUND"]
    assert accepted["userErrors"] == []
    booking = accepted["booking"]
    assert accepted["entry"]["status"] == "CONVERTED"
    assert accepted["entry"]["offerSlot"] == {"id": slot_id}
    assert accepted["entry"]["booking"]["reference"].startswith("TB-")
    # 75.00 + 52.50 = 127.50, tax 12.75
    assert (booking["seats"], booking["total"], booking["status"]) == (2, "140.25", "PENDING")
    assert booking["slot"] == {"id": slot_id, "seatsBooked": 2, "seatsHeld": 0}


WAITLIST = """
query($t: ID!, $d: Date!) {
  tourWaitlist(tourId: $t, date: $d) {
    id tour { name } offerSlot { id seatsHeld } booking { reference }
  }
}
"""
CALENDAR = """
query($t: ID!, $y: Int!, $m: Int!) {
  tourCalendar(tourId: $t, year: $y, month: $m) {
    days { date seatsAvailable slotCount level blackoutName }
  }
}
"""


def tours_sql(statements: list[str]) -> int:
    """Tours' own statements (identity's key reloads, same process, may fall in any request)."""
    return sum("tours." in s for s in statements)


async def _waitlist_of(session: AsyncSession, tour: Tour, day: Any, sizes: int) -> None:
    for i in range(sizes):
        session.add(
            WaitlistEntry(
                tour_id=tour.id,
                requested_date=day,
                party_size=1,
                customer_name=f"W {i}",
                customer_email=f"w{i}@example.com",
            )
        )
    await session.flush()


async def test_lists_cost_the_same_sql_for_one_row_or_twenty(
    tours_manager: GraphQLClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        small, large = (
            await make_tour(session, name="Small"),
            await make_tour(session, name="Large"),
        )
        one = await make_slot(session, small, capacity=1, now=now, days_ahead=40)
        many = await make_slot(session, large, capacity=20, now=now, days_ahead=40)
        await seats.reserve(session, one.id, 1)
        await seats.reserve(session, many.id, 20)
        await _waitlist_of(session, small, one.date, 1)
        await _waitlist_of(session, large, many.date, 20)
        for i in range(1, 20):  # a departure on 20 days of the large tour's month
            await make_slot(session, large, capacity=5, now=now, days_ahead=40 + i)
        await seats.release(session, one.id, 1)
        await seats.release(session, many.id, 20)
        await waitlist.offer_freed_seats(session, one.id, now)
        await waitlist.offer_freed_seats(session, many.id, now)
        ids = {"small": str(small.id), "large": str(large.id)}
        day = one.date

    counts = {}
    for name, tour_id in ids.items():
        with record_statements() as recorder:
            data = (await tours_manager(WAITLIST, {"t": tour_id, "d": day.isoformat()})).ok()
        counts[f"waitlist-{name}"] = tours_sql(recorder.statements)
        assert len(data["tourWaitlist"]) == (1 if name == "small" else 20)
        assert all(e["offerSlot"]["seatsHeld"] >= 1 for e in data["tourWaitlist"])
        with record_statements() as recorder:
            month = (
                await tours_manager(CALENDAR, {"t": tour_id, "y": day.year, "m": day.month})
            ).ok()
        counts[f"calendar-{name}"] = tours_sql(recorder.statements)
        assert month["tourCalendar"]["days"]

    assert counts["waitlist-small"] == counts["waitlist-large"], counts
    assert counts["calendar-small"] == counts["calendar-large"]
    assert 0 < counts["calendar-large"] <= 5
    assert counts["waitlist-large"] > 0
