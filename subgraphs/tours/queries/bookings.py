"""Reading bookings: a customer its own, anyone one by reference plus e-mail, staff all.

A booking someone may not read answers exactly like a missing one (null),
so no answer tells a stranger that a booking exists.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import UnauthenticatedError
from subgraphs.kit.ids import parse_uuid, require_uuid
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow
from subgraphs.tours.models import Booking
from subgraphs.tours.service import access, bookings, lookups
from subgraphs.tours.service.access import WORK_BOOKINGS
from subgraphs.tours.types.bookings import TourBooking, TourBookingFilter, TourBookingStatus

NEWEST_FIRST = KeysetOrder((Booking.created_at, Booking.id), descending=True)


@strawberry.type
class BookingsQueries:
    @strawberry.field(
        extensions=[allow()],
        description="The signed-in customer's own bookings, latest departure first.",
    )
    async def my_tour_bookings(
        self, info: Info, status: TourBookingStatus | None = None
    ) -> list[TourBooking]:
        viewer = await info.context.get_viewer()
        if viewer.user_id is None:  # allow() admits only signed-in callers
            raise UnauthenticatedError()
        async with info.context.sessions() as session:
            rows = await bookings.mine(
                session, viewer.user_id, status.value if status is not None else None
            )
        return [TourBooking.from_row(r) for r in rows]

    @strawberry.field(description="A booking by id: staff, or its signed-in owner; else null.")
    async def tour_booking(self, info: Info, id: strawberry.ID) -> TourBooking | None:
        key = parse_uuid(id)
        if key is None:
            return None
        viewer = await info.context.get_viewer()
        async with info.context.sessions() as session:
            row = await session.get(Booking, key)
        if row is None or not access.may_read_booking(viewer, row.user_id):
            return None
        return TourBooking.from_row(row)

    @strawberry.field(
        description="A booking by its reference and the e-mail it was made with (any case); "
        "a wrong pair is null like a missing one. Limited per caller address (RATE_LIMITED)."
    )
    async def tour_booking_by_reference(
        self, info: Info, reference: str, email: str
    ) -> TourBooking | None:
        context = info.context
        await lookups.check(
            context.redis,
            lookups.LOOKUP,
            context.client_ip,
            context.settings.tours_lookups_per_hour,
        )
        async with context.sessions() as session:
            row = await bookings.by_reference(session, reference, email)
        return TourBooking.from_row(row) if row is not None else None

    @strawberry.field(
        extensions=[allow(*WORK_BOOKINGS)],
        description="Every booking (staff), newest first, filtered by tour, departure, status "
        "and departure dates.",
    )
    async def tour_bookings(
        self,
        info: Info,
        filter: TourBookingFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[TourBooking]:
        f = filter or TourBookingFilter()
        wanted = bookings.BookingFilter(
            tour_id=require_uuid(f.tour_id, "Tour") if f.tour_id is not None else None,
            slot_id=require_uuid(f.slot_id, "DepartureSlot") if f.slot_id is not None else None,
            status=f.status.value if f.status is not None else None,
            start=f.from_,
            end=f.to,
        )
        async with info.context.sessions() as session:
            return await paginate(
                session,
                bookings.staff_list(wanted),
                NEWEST_FIRST,
                first=first,
                after=after,
                to_node=TourBooking.from_row,
            )
