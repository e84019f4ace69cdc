"""Bookings through the tours subgraph's GraphQL API: who may do and read what, and the shapes.

The rules themselves are tested at the service level (test_booking_service,
test_booking_changes); these tests prove the edges: input to service,
payloads, user errors, access, the per-address limit, and the SQL count.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import record_statements
from subgraphs.tours.models import DepartureSlot
from tests.tours.booking_data import make_slot, make_tour
from tests.tours.conftest import ERRORS

BOOKING = "id reference seats adultPrice childPrice subtotal tax total status"
BOOK = f"""
mutation($input: BookTourInput!) {{
  bookTour(input: $input) {{ booking {{ {BOOKING} }} {ERRORS} }}
}}"""
BY_REFERENCE = """
query($reference: String!, $email: String!) {
  tourBookingByReference(reference: $reference, email: $email) {
    reference total slot { id seatsBooked } tour { name }
    changes { changeType newValue ipAddress userAgent }
  }
}"""


async def _departure(
    sessions: async_sessionmaker[AsyncSession], capacity: int = 15
) -> tuple[str, str]:
    async with sessions() as session, session.begin():
        tour = await make_tour(session)
        slot = await make_slot(session, tour, capacity=capacity, now=datetime.now(UTC))
    return str(tour.id), str(slot.id)


def _input(slot_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "input": {
            "slotId": slot_id,
            "adults": 2,
            "customerName": "Ana Lima",
            "customerEmail": "ana@example.com",
            **fields,
        }
    }


async def test_an_anonymous_customer_books_2_adults_and_a_child_for_222_75_and_finds_it(
    sessions: async_sessionmaker[AsyncSession], tours_as: Any, tours_manager: Any
) -> None:
    _, slot_id = await _departure(sessions)
    anonymous = await tours_as()

    booked = (await anonymous(BOOK, _input(slot_id, children=1))).ok()["bookTour"]

    assert booked["userErrors"] == []
    booking = booked["booking"]
    assert {k: booking[k] for k in ("seats", "childPrice", "subtotal", "tax", "total")} == {
        "seats": 3,
        "childPrice": "52.50",
        "subtotal": "202.50",
        "tax": "20.25",
        "total": "222.75",
    }
    assert booking["status"] == "PENDING"
    found = (
        await anonymous(
            BY_REFERENCE, {"reference": booking["reference"], "email": "ANA@example.com"}
        )
    ).ok()["tourBookingByReference"]
    assert found["slot"] == {"id": slot_id, "seatsBooked": 3}
    assert [(c["changeType"], c["ipAddress"], c["userAgent"]) for c in found["changes"]] == [
        ("CREATED", None, None)
    ]
    wrong = await anonymous(BY_REFERENCE, {"reference": booking["reference"], "email": "x@y.com"})
    assert wrong.ok()["tourBookingByReference"] is None
    staff_view = (
        await tours_manager(
            BY_REFERENCE, {"reference": booking["reference"], "email": "ana@example.com"}
        )
    ).ok()["tourBookingByReference"]
    assert staff_view["changes"][0]["ipAddress"] == "127.0.0.1"


async def test_refusals_are_user_errors_naming_the_rule_and_field(
    sessions: async_sessionmaker[AsyncSession], tours_as: Any
) -> None:
    _, slot_id = await _departure(sessions, capacity=2)
    anonymous = await tours_as()

    full = (await anonymous(BOOK, _input(slot_id, adults=3))).ok()["bookTour"]
    party = (await anonymous(BOOK, _input(slot_id, adults=51))).ok()["bookTour"]
    discount = (await anonymous(BOOK, _input(slot_id, discount="5.00"))).ok()["bookTour"]
    unknown = (await anonymous(BOOK, _input("not-an-id"))).ok()["bookTour"]

    assert full == {
        "booking": None,
        "userErrors": [
            {
                "field": "slotId",
                "code": "SOLD_OUT",
                "message": "Only 2 seats are left on this departure; 3 were asked for.",
            }
        ],
    }
    assert [(e["field"], e["code"]) for e in party["userErrors"]] == [("adults", "PARTY_SIZE")]
    assert [(e["field"], e["code"]) for e in discount["userErrors"]] == [("discount", "FORBIDDEN")]
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [("slotId", "NOT_FOUND")]


async def test_anyone_with_the_email_modifies_and_cancels_others_are_told_it_does_not_exist(
    sessions: async_sessionmaker[AsyncSession], tours_as: Any
) -> None:
    _, slot_id = await _departure(sessions)
    anonymous = await tours_as()
    reference = (await anonymous(BOOK, _input(slot_id))).ok()["bookTour"]["booking"]["reference"]
    modify = f"""mutation($input: ModifyTourBookingInput!) {{
      modifyTourBooking(input: $input) {{ booking {{ seats total }} {ERRORS} }} }}"""
    cancel = f"""mutation($input: CancelTourBookingInput!) {{
      cancelTourBooking(input: $input) {{ booking {{ status refundDue }} {ERRORS} }} }}"""

    stranger = await anonymous(
        modify, {"input": {"reference": reference, "email": "eve@example.com", "adults": 3}}
    )
    other_customer = await (await tours_as("client"))(cancel, {"input": {"reference": reference}})
    changed = await anonymous(
        modify,
        {
            "input": {
                "reference": reference,
                "email": "ana@example.com",
                "adults": 3,
                "reason": "Gran",
            }
        },
    )
    cancelled = await anonymous(
        cancel, {"input": {"reference": reference, "email": "ana@example.com", "reason": "Ill"}}
    )

    for refused, name in ((stranger, "modifyTourBooking"), (other_customer, "cancelTourBooking")):
        errors = refused.ok()[name]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [("reference", "NOT_FOUND")]
    assert changed.ok()["modifyTourBooking"] == {
        "booking": {"seats": 3, "total": "247.50"},
        "userErrors": [],
    }
    assert cancelled.ok()["cancelTourBooking"] == {
        "booking": {"status": "CANCELLED", "refundDue": "247.50"},
        "userErrors": [],
    }


async def test_lookups_by_reference_are_limited_per_address(
    sessions: async_sessionmaker[AsyncSession], tours_as: Any, redis: Redis, settings: Any
) -> None:
    anonymous = await tours_as()
    variables = {"reference": "TB-20260601-AAAAAA", "email": "ana@example.com"}

    first = await anonymous(BY_REFERENCE, variables)
    # the rest of the hour's allowance used up, as by a guessing script
    await redis.incrby("tours:lookup:127.0.0.1", settings.tours_lookups_per_hour - 1)
    over = await anonymous(BY_REFERENCE, variables)

    assert first.ok()["tourBookingByReference"] is None
    assert over.error_codes == ["RATE_LIMITED"]


async def test_anonymous_bookings_are_limited_per_address_signed_in_ones_are_not(
    sessions: async_sessionmaker[AsyncSession], tours_as: Any, redis: Redis, settings: Any
) -> None:
    _, slot_id = await _departure(sessions)
    await redis.set("tours:anonymous-booking:127.0.0.1", settings.tours_anonymous_bookings_per_hour)

    anonymous = await (await tours_as())(BOOK, _input(slot_id))
    signed_in = await (await tours_as("client"))(BOOK, _input(slot_id))

    assert anonymous.error_codes == ["RATE_LIMITED"]
    assert signed_in.ok()["bookTour"]["booking"]["seats"] == 2


async def test_customers_read_their_own_bookings_staff_read_every_booking(
    sessions: async_sessionmaker[AsyncSession], tours_as: Any, tours_manager: Any
) -> None:
    tour_id, slot_id = await _departure(sessions)
    me, them = uuid.uuid4(), uuid.uuid4()
    mine, theirs = await tours_as("client", user_id=me), await tours_as("client", user_id=them)
    booking_id = (await mine(BOOK, _input(slot_id))).ok()["bookTour"]["booking"]["id"]
    await theirs(BOOK, _input(slot_id, adults=1))
    one = "query($id: ID!) { tourBooking(id: $id) { id } }"
    my_list = "{ myTourBookings(status: PENDING) { id } }"
    staff_list = """query($f: TourBookingFilter) {
      tourBookings(filter: $f, first: 1) { totalCount edges { node { seats } } pageInfo { hasNextPage } } }"""
    slot_bookings = "query($id: ID!) { departureSlot(id: $id) { bookings { seats } } }"

    assert (await mine(one, {"id": booking_id})).ok()["tourBooking"] == {"id": booking_id}
    assert (await theirs(one, {"id": booking_id})).ok()["tourBooking"] is None
    assert (await mine(my_list)).ok()["myTourBookings"] == [{"id": booking_id}]
    assert (await (await tours_as())(my_list)).error_codes == ["UNAUTHENTICATED"]
    assert (await mine(staff_list)).error_codes == ["FORBIDDEN"]
    slot_for_customer = await mine(slot_bookings, {"id": slot_id})
    assert slot_for_customer.error_codes == ["FORBIDDEN"]
    assert slot_for_customer.data == {"departureSlot": {"bookings": None}}
    page = (await tours_manager(staff_list, {"f": {"tourId": tour_id, "status": "PENDING"}})).ok()
    assert page["tourBookings"]["totalCount"] == 2
    assert page["tourBookings"]["edges"] == [{"node": {"seats": 1}}]
    assert page["tourBookings"]["pageInfo"] == {"hasNextPage": True}


async def test_staff_confirm_and_a_departures_bookings_load_in_constant_statements(
    sessions: async_sessionmaker[AsyncSession], tours_as: Any, tours_manager: Any
) -> None:
    _, slot_id = await _departure(sessions)
    anonymous = await tours_as()
    ids = [
        (await anonymous(BOOK, _input(slot_id, adults=1))).ok()["bookTour"]["booking"]["id"]
        for _ in range(2)
    ]
    confirm = f"""mutation($id: ID!) {{
      setTourBookingStatus(id: $id, status: CONFIRMED, reason: "Paid") {{
        booking {{ status }} {ERRORS} }} }}"""
    assert (await anonymous(confirm, {"id": ids[0]})).error_codes == ["UNAUTHENTICATED"]
    done = (await tours_manager(confirm, {"id": ids[0]})).ok()["setTourBookingStatus"]
    assert done == {"booking": {"status": "CONFIRMED"}, "userErrors": []}
    query = """query($id: ID!) { departureSlot(id: $id) { bookings {
      reference tour { name } slot { id } changes { changeType ipAddress } } } }"""

    async def statements() -> int:
        with record_statements() as recorder:
            (await tours_manager(query, {"id": slot_id})).ok()
        return sum("tours." in s for s in recorder.statements)

    few = await statements()
    for _ in range(3):
        await anonymous(BOOK, _input(slot_id, adults=1))
    many = await statements()

    assert few == many, (few, many)
    assert 0 < few <= 6
    async with sessions() as session:
        slot = await session.get_one(DepartureSlot, uuid.UUID(slot_id))
        assert slot.seats_booked == 5
