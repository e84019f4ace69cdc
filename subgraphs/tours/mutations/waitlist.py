"""Joining the waitlist, giving up a place, accepting an offer; staff set priorities.

Anyone may join (anonymous callers are limited per address, like booking).
An entry is cancelled or its offer accepted by staff, by its signed-in
owner, or by whoever gives the e-mail it was made with; anyone else is told
it does not exist (NOT_FOUND). Callers who prove themselves by e-mail are
counted like booking lookups, so guessing through these mutations is
limited too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow
from subgraphs.tours.service import lookups, waitlist
from subgraphs.tours.service.access import WORK_BOOKINGS
from subgraphs.tours.service.changes import actor_of
from subgraphs.tours.service.waitlist import NewEntry, OfferParty
from subgraphs.tours.types.bookings import TourBooking
from subgraphs.tours.types.waitlist import (
    AcceptTourWaitlistOfferInput,
    AcceptTourWaitlistOfferPayload,
    JoinTourWaitlistInput,
    TourWaitlistEntry,
    TourWaitlistPayload,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.payloads import UserError
    from subgraphs.tours.models import Booking, WaitlistEntry

#: Anonymous joins are counted apart from anonymous bookings, with the same hourly limit.
ANONYMOUS_JOIN = "anonymous-waitlist"


def _payload(row: WaitlistEntry | None, errors: list[UserError]) -> TourWaitlistPayload:
    return TourWaitlistPayload(
        entry=TourWaitlistEntry.from_row(row) if row is not None else None, user_errors=errors
    )


@strawberry.type
class WaitlistMutations:
    @strawberry.mutation(
        description="Wait for seats on a tour's day (anyone; anonymous callers are limited per "
        "address, RATE_LIMITED). Refused for a past, blacked-out or not-yet-sold day "
        "(IN_THE_PAST, BLACKED_OUT, TOO_FAR_AHEAD) or a party outside the limits (PARTY_SIZE). "
        "Joining while a departure that day still fits is allowed and makes no offer: book it."
    )
    async def join_tour_waitlist(
        self, info: Info, input: JoinTourWaitlistInput
    ) -> TourWaitlistPayload:
        actor = await actor_of(info)
        context = info.context
        if not actor.viewer.is_authenticated:
            await lookups.check(
                context.redis,
                ANONYMOUS_JOIN,
                context.client_ip,
                context.settings.tours_anonymous_bookings_per_hour,
            )
        now = datetime.now(UTC)

        async def work(session: AsyncSession) -> WaitlistEntry:
            data = NewEntry(
                tour_id=input_uuid(input.tour_id, "tourId"),
                requested_date=input.date,
                party_size=input.party_size,
                customer_name=input.customer_name,
                customer_email=input.customer_email,
                customer_phone=input.customer_phone,
                notes=input.notes,
            )
            return await waitlist.join(session, data, actor, now)

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*WORK_BOOKINGS)],
        description="Move an entry up (higher) or down the line (staff, -1000 to 1000); it "
        "counts from the next seats freed.",
    )
    async def set_tour_waitlist_priority(
        self, info: Info, id: strawberry.ID, priority: int
    ) -> TourWaitlistPayload:
        actor = await actor_of(info)

        async def work(session: AsyncSession) -> WaitlistEntry:
            return await waitlist.set_priority(session, input_uuid(id, "id"), priority, actor=actor)

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        description="Give up a place in line (staff, the owner, or whoever gives the entry's "
        "e-mail); seats held for its offer go to the next in line."
    )
    async def cancel_tour_waitlist_entry(
        self, info: Info, id: strawberry.ID, email: str | None = None
    ) -> TourWaitlistPayload:
        actor = await actor_of(info)
        await lookups.count_stranger(info.context, actor.viewer)
        now = datetime.now(UTC)

        async def work(session: AsyncSession) -> WaitlistEntry:
            return await waitlist.cancel(
                session, input_uuid(id, "id"), actor.viewer, now, email=email
            )

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        description="Book an offer's held seats (staff, the owner, or whoever gives the entry's "
        "e-mail): NOTIFIED and before offerExpiresAt (else OFFER_EXPIRED), at most its party "
        "size; today's price and booking rules apply. Seats not used go to the next in line."
    )
    async def accept_tour_waitlist_offer(
        self, info: Info, input: AcceptTourWaitlistOfferInput
    ) -> AcceptTourWaitlistOfferPayload:
        actor = await actor_of(info)
        await lookups.count_stranger(info.context, actor.viewer)
        now = datetime.now(UTC)

        async def work(session: AsyncSession) -> tuple[WaitlistEntry, Booking]:
            party = OfferParty(
                adults=input.adults,
                children=input.children,
                infants=input.infants,
                customer_phone=input.customer_phone,
                special_requirements=input.special_requirements,
                dietary_restrictions=input.dietary_restrictions,
                accessibility_needs=input.accessibility_needs,
            )
            return await waitlist.accept(
                session, input_uuid(input.entry_id, "entryId"), party, actor, now, email=input.email
            )

        done, errors = await transact(info, work)
        if done is None:
            return AcceptTourWaitlistOfferPayload(entry=None, booking=None, user_errors=errors)
        entry, booking = done
        return AcceptTourWaitlistOfferPayload(
            entry=TourWaitlistEntry.from_row(entry),
            booking=TourBooking.from_row(booking),
            user_errors=errors,
        )
