"""Booking, changing and cancelling seats; staff move bookings along their statuses.

Anyone may book; anonymous callers are limited per address. A booking is
changed or cancelled by staff, by its signed-in owner, or by whoever gives
its reference with the e-mail it was booked with; anyone else is told it
does not exist (NOT_FOUND on `reference`). Callers who prove themselves by
e-mail are counted like lookups, so guessing pairs through these mutations
is limited too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.kit.ids import input_uuid, require_uuid
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow
from subgraphs.tours.service import bookings, lookups
from subgraphs.tours.service.access import WORK_BOOKINGS
from subgraphs.tours.service.bookings import Modification, NewBooking
from subgraphs.tours.service.changes import actor_of
from subgraphs.tours.types.bookings import (
    BookTourInput,
    CancelTourBookingInput,
    ModifyTourBookingInput,
    TourBooking,
    TourBookingPayload,
    TourBookingStatus,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.payloads import UserError
    from subgraphs.tours.models import Booking


def _payload(row: Booking | None, errors: list[UserError]) -> TourBookingPayload:
    return TourBookingPayload(
        booking=TourBooking.from_row(row) if row is not None else None, user_errors=errors
    )


@strawberry.type
class BookingsMutations:
    @strawberry.mutation(
        description="Book seats (anyone; anonymous callers are limited per address, "
        "RATE_LIMITED). Pending until staff confirm it; refusals name their rule (SOLD_OUT, "
        "BOOKING_CLOSED, TOO_FAR_AHEAD, PARTY_SIZE, INFANTS_NEED_ADULT, BLACKED_OUT, ...)."
    )
    async def book_tour(self, info: Info, input: BookTourInput) -> TourBookingPayload:
        actor = await actor_of(info)
        context = info.context
        if not actor.viewer.is_authenticated:
            await lookups.check(
                context.redis,
                lookups.ANONYMOUS_BOOKING,
                context.client_ip,
                context.settings.tours_anonymous_bookings_per_hour,
            )
        now = datetime.now(UTC)

        async def work(session: AsyncSession) -> Booking:
            data = NewBooking(
                slot_id=input_uuid(input.slot_id, "slotId"),
                adults=input.adults,
                children=input.children,
                infants=input.infants,
                customer_name=input.customer_name,
                customer_email=input.customer_email,
                customer_phone=input.customer_phone,
                special_requirements=input.special_requirements,
                dietary_restrictions=input.dietary_restrictions,
                accessibility_needs=input.accessibility_needs,
                discount=input.discount,
            )
            return await bookings.create_booking(session, data, actor, now=now)

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        description="Move a booking to another departure of its tour and/or change its party: "
        "the old seats released and the new ones taken at once, repriced, the difference "
        "logged. Pending or confirmed bookings, until the cutoff (staff: until departure)."
    )
    async def modify_tour_booking(
        self, info: Info, input: ModifyTourBookingInput
    ) -> TourBookingPayload:
        actor = await actor_of(info)
        await lookups.count_stranger(info.context, actor.viewer)
        now = datetime.now(UTC)

        async def work(session: AsyncSession) -> Booking:
            booking_id = await bookings.for_customer(session, input.reference, input.email, actor)
            change = Modification(
                slot_id=input_uuid(input.slot_id, "slotId") if input.slot_id else None,
                adults=input.adults,
                children=input.children,
                infants=input.infants,
                reason=input.reason,
            )
            return await bookings.modify_booking(session, booking_id, change, actor, now=now)

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        description="Cancel a booking: its seats go back on sale (first to the waitlist), the "
        "refund due is recorded and the customer told."
    )
    async def cancel_tour_booking(
        self, info: Info, input: CancelTourBookingInput
    ) -> TourBookingPayload:
        actor = await actor_of(info)
        await lookups.count_stranger(info.context, actor.viewer)
        now = datetime.now(UTC)

        async def work(session: AsyncSession) -> Booking:
            booking_id = await bookings.for_customer(session, input.reference, input.email, actor)
            return await bookings.cancel_booking(
                session,
                booking_id,
                actor,
                now=now,
                reason=input.reason,
                refund_amount=input.refund_amount,
            )

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*WORK_BOOKINGS)],
        description="Staff move a booking along its statuses (see TourBookingStatus); logged "
        "and announced. CANCELLED is a full cancellation (seats released, refund by the rules).",
    )
    async def set_tour_booking_status(
        self, info: Info, id: strawberry.ID, status: TourBookingStatus, reason: str = ""
    ) -> TourBookingPayload:
        booking_id: uuid.UUID = require_uuid(id, "TourBooking")
        actor = await actor_of(info)
        now = datetime.now(UTC)
        row, errors = await transact(
            info,
            lambda s: bookings.set_status(
                s, booking_id, status.value, actor, now=now, reason=reason
            ),
        )
        return _payload(row, errors)
