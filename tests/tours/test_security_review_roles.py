"""Every tours root query and mutation, for every role and anonymous: the table is data.

A role not in a row gets a top-level `FORBIDDEN` (anonymous
`UNAUTHENTICATED`); a role in it gets past the gate (whatever the business
rules then say, as `userErrors`, null or NOT_FOUND). A root field added
without a row fails here (`test_the_table_names_every_root_field`). The
policy itself is `subgraphs/tours/service/access.py`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.tours.app import schema
from tests.support.graphql_client import GraphQLClient
from tests.support.roles import ROLES
from tests.tours.booking_data import make_tour

SIGNED_IN = set(ROLES)
ANYONE = {*ROLES, "anonymous"}
CATALOGUE = {"admin", "manager", "dispatcher"}
BOOKINGS_STAFF = {*CATALOGUE, "sales_agent", "sales_support"}

EXPECTED: dict[str, set[str]] = {
    # The catalogue: anyone reads it; tour staff run it; admins and managers set the rules.
    "tours": ANYONE,
    "tour": ANYONE,
    "departureSlot": ANYONE,
    "tourBlackouts": ANYONE,
    "toursConfig": ANYONE,
    "createTour": CATALOGUE,
    "updateTour": CATALOGUE,
    "createTourSchedule": CATALOGUE,
    "updateTourSchedule": CATALOGUE,
    "generateDepartures": CATALOGUE,
    "updateDepartureSlot": CATALOGUE,
    "cancelDepartureSlot": CATALOGUE,
    "createTourBlackout": CATALOGUE,
    "updateTourBlackout": CATALOGUE,
    "updateToursConfig": {"admin", "manager"},
    # Bookings: anyone books and finds by reference plus e-mail (rate limited); a signed-in
    # customer reads its own; staff who sell work every booking.
    "myTourBookings": SIGNED_IN,
    "tourBooking": ANYONE,
    "tourBookingByReference": ANYONE,
    "tourBookings": BOOKINGS_STAFF,
    "bookTour": ANYONE,
    "modifyTourBooking": ANYONE,
    "cancelTourBooking": ANYONE,
    "setTourBookingStatus": BOOKINGS_STAFF,
    # The waitlist and the calendars.
    "myTourWaitlistEntries": SIGNED_IN,
    "tourWaitlist": BOOKINGS_STAFF,
    "availability": ANYONE,
    "tourCalendar": ANYONE,
    "joinTourWaitlist": ANYONE,
    "setTourWaitlistPriority": BOOKINGS_STAFF,
    "cancelTourWaitlistEntry": ANYONE,
    "acceptTourWaitlistOffer": ANYONE,
    # The catalogue's and waitlist's audit trail.
    "tourAuditLog": BOOKINGS_STAFF,
}


def operations(tour_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    some = str(uuid.uuid4())
    out = "{ __typename userErrors { code } }"
    return {
        "tours": ("{ tours { id } }", {}),
        "tour": ("query($id: ID!) { tour(id: $id) { id } }", {"id": some}),
        "departureSlot": ("query($id: ID!) { departureSlot(id: $id) { id } }", {"id": some}),
        "tourBlackouts": ("{ tourBlackouts { id } }", {}),
        "toursConfig": ("{ toursConfig { cutoffHours } }", {}),
        "createTour": (
            'mutation { createTour(input: {name: "", durationMinutes: 0, basePrice: "1.00"}) '
            f"{out} }}",
            {},
        ),
        "updateTour": (
            f"mutation($id: ID!) {{ updateTour(id: $id, input: {{}}) {out} }}",
            {"id": some},
        ),
        "createTourSchedule": (
            'mutation($id: ID!) { createTourSchedule(input: {tourId: $id, name: "x", '
            'startTime: "09:00", recurrence: DAILY, maxCapacity: 1, validFrom: "2026-01-01"}) '
            f"{out} }}",
            {"id": some},
        ),
        "updateTourSchedule": (
            f"mutation($id: ID!) {{ updateTourSchedule(id: $id, input: {{}}) {out} }}",
            {"id": some},
        ),
        "generateDepartures": (
            'mutation($id: ID!) { generateDepartures(scheduleId: $id, from: "2026-01-01", '
            f'to: "2026-01-02") {out} }}',
            {"id": some},
        ),
        "updateDepartureSlot": (
            f"mutation($id: ID!) {{ updateDepartureSlot(id: $id, input: {{}}) {out} }}",
            {"id": some},
        ),
        "cancelDepartureSlot": (
            f'mutation($id: ID!) {{ cancelDepartureSlot(id: $id, reason: "x") {out} }}',
            {"id": some},
        ),
        "createTourBlackout": (
            'mutation { createTourBlackout(input: {name: "x", blackoutType: HOLIDAY, '
            f'startDate: "2026-01-02", endDate: "2026-01-01"}}) {out} }}',
            {},
        ),
        "updateTourBlackout": (
            f"mutation($id: ID!) {{ updateTourBlackout(id: $id, input: {{}}) {out} }}",
            {"id": some},
        ),
        "updateToursConfig": (
            f"mutation {{ updateToursConfig(input: {{cutoffHours: -1}}) {out} }}",
            {},
        ),
        "myTourWaitlistEntries": ("{ myTourWaitlistEntries { id } }", {}),
        "tourWaitlist": (
            'query($t: ID!) { tourWaitlist(tourId: $t, date: "2026-01-01") { id } }',
            {"t": tour_id},
        ),
        "availability": (
            'query($t: ID!) { availability(tourId: $t, date: "2026-01-01") { available } }',
            {"t": tour_id},
        ),
        "tourCalendar": (
            "query($t: ID!) { tourCalendar(tourId: $t, year: 2026, month: 1) { month } }",
            {"t": tour_id},
        ),
        "joinTourWaitlist": (
            'mutation($t: ID!) { joinTourWaitlist(input: {tourId: $t, date: "2020-01-01", '
            f'partySize: 1, customerName: "A", customerEmail: "a@example.com"}}) {out} }}',
            {"t": tour_id},
        ),
        "setTourWaitlistPriority": (
            f"mutation($id: ID!) {{ setTourWaitlistPriority(id: $id, priority: 1) {out} }}",
            {"id": some},
        ),
        "cancelTourWaitlistEntry": (
            f"mutation($id: ID!) {{ cancelTourWaitlistEntry(id: $id) {out} }}",
            {"id": some},
        ),
        "acceptTourWaitlistOffer": (
            "mutation($id: ID!) { acceptTourWaitlistOffer(input: {entryId: $id, adults: 1}) "
            f"{out} }}",
            {"id": some},
        ),
        "myTourBookings": ("{ myTourBookings { id } }", {}),
        "tourBooking": ("query($id: ID!) { tourBooking(id: $id) { id } }", {"id": some}),
        "tourBookingByReference": (
            '{ tourBookingByReference(reference: "TB-20260101-AAAAAA", email: "a@b.co") { id } }',
            {},
        ),
        "tourBookings": ("{ tourBookings { totalCount } }", {}),
        "bookTour": (
            'mutation($id: ID!) { bookTour(input: {slotId: $id, adults: 0, customerName: "",'
            f' customerEmail: "x"}}) {out} }}',
            {"id": some},
        ),
        "modifyTourBooking": (
            'mutation { modifyTourBooking(input: {reference: "TB-20260101-AAAAAA", '
            f'email: "a@b.co", adults: 2}}) {out} }}',
            {},
        ),
        "cancelTourBooking": (
            'mutation { cancelTourBooking(input: {reference: "TB-20260101-AAAAAA", '
            f'email: "a@b.co"}}) {out} }}',
            {},
        ),
        "setTourBookingStatus": (
            f"mutation($id: ID!) {{ setTourBookingStatus(id: $id, status: CONFIRMED) {out} }}",
            {"id": some},
        ),
        "tourAuditLog": ("{ tourAuditLog(first: 1) { action } }", {}),
    }


def _root_fields() -> set[str]:
    graphql = schema._schema
    names = set(graphql.query_type.fields) | set(graphql.mutation_type.fields)
    return {n for n in names if not n.startswith("_")}  # federation's _service, _entities


def test_the_table_names_every_root_field() -> None:
    assert _root_fields() == set(EXPECTED) == set(operations("x"))


async def test_every_operation_as_every_role(
    tours_as: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # one test for all roles: the inputs change nothing, so nothing is emptied between them
    async with sessions() as session, session.begin():
        tour_id = str((await make_tour(session)).id)
    for role in (*ROLES, None):
        caller: GraphQLClient = await tours_as(*([role] if role else []))
        for name, (query, variables) in operations(tour_id).items():
            answer = await caller(query, variables)
            if (role or "anonymous") in EXPECTED[name]:
                assert "FORBIDDEN" not in answer.error_codes, (name, role, answer.body)
                assert "UNAUTHENTICATED" not in answer.error_codes, (name, role, answer.body)
                assert answer.data is not None, (name, role, answer.body)
            elif role is None:
                assert answer.error_codes == ["UNAUTHENTICATED"], (name, answer.body)
            else:
                assert answer.error_codes == ["FORBIDDEN"], (name, role, answer.body)
