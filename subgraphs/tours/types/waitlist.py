"""The waitlist as the graph shows it: entries, their offers, inputs and payloads.

Who may read an entry is decided where it is fetched (the root fields: staff
and its owner; a mutation's payload: whoever just proved it theirs), so the
type stays thin; its nested fields ask loaders.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.kit.payloads import UserError
from subgraphs.tours import loaders as L
from subgraphs.tours.types.bookings import TourBooking
from subgraphs.tours.types.catalogue import DepartureSlot, Tour


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.enum(
    description="active -> notified (seats held for an offer) -> converted (booked) or expired; "
    "active or notified -> cancelled; an offer on a departure staff cancel goes back to active."
)
class TourWaitlistStatus(Enum):
    ACTIVE = "active"
    NOTIFIED = "notified"
    CONVERTED = "converted"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@strawberry.type(
    description="A party waiting for seats on a tour's day; freed seats are offered to the "
    "highest priority, then the oldest entry that fits."
)
class TourWaitlistEntry:
    id: strawberry.ID
    requested_date: date
    party_size: int = strawberry.field(description="Seats wanted, infants included.")
    customer_name: str
    customer_email: str
    customer_phone: str
    notes: str
    priority: int = strawberry.field(description="Higher is offered first (staff set it).")
    status: TourWaitlistStatus
    offered_at: datetime | None
    offer_expires_at: datetime | None = strawberry.field(
        description="While NOTIFIED: the held seats are released at this instant unless booked."
    )
    converted_at: datetime | None
    created_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> TourWaitlistEntry:
        return cls(
            id=gid(row.id),
            requested_date=row.requested_date,
            party_size=row.party_size,
            customer_name=row.customer_name,
            customer_email=row.customer_email,
            customer_phone=row.customer_phone,
            notes=row.notes,
            priority=row.priority,
            status=TourWaitlistStatus(row.status),
            offered_at=row.offered_at,
            offer_expires_at=row.offer_expires_at,
            converted_at=row.converted_at,
            created_at=row.created_at,
            _row=row,
        )

    @strawberry.field
    async def tour(self, info: Info) -> Tour:
        row = await info.context.loaders.get(L.TourByIdLoader).load(self._row.tour_id)
        return Tour.from_row(row)

    @strawberry.field(
        description="The departure of its offer: held while NOTIFIED, kept afterwards as history "
        "(null while waiting)."
    )
    async def offer_slot(self, info: Info) -> DepartureSlot | None:
        if self._row.offer_slot_id is None:
            return None
        row = await info.context.loaders.get(L.DepartureSlotByIdLoader).load(
            self._row.offer_slot_id
        )
        return DepartureSlot.from_row(row) if row is not None else None

    @strawberry.field(description="The booking its accepted offer became (CONVERTED).")
    async def booking(self, info: Info) -> TourBooking | None:
        if self._row.booking_id is None:
            return None
        row = await info.context.loaders.get(L.BookingByIdLoader).load(self._row.booking_id)
        return TourBooking.from_row(row) if row is not None else None


@strawberry.input
class JoinTourWaitlistInput:
    tour_id: strawberry.ID
    date: date
    party_size: int = strawberry.field(description="Seats wanted, infants included.")
    customer_name: str
    customer_email: str
    customer_phone: str = ""
    notes: str = ""


@strawberry.input(
    description="Book an offer's held seats: at most its party size; who travels may change."
)
class AcceptTourWaitlistOfferInput:
    entry_id: strawberry.ID
    email: str | None = strawberry.field(
        default=None, description="The entry's e-mail: how a customer without an account proves it."
    )
    adults: int
    children: int = 0
    infants: int = 0
    customer_phone: str | None = strawberry.field(
        default=None, description="Null keeps the entry's."
    )
    special_requirements: str = ""
    dietary_restrictions: str = ""
    accessibility_needs: str = ""


@strawberry.type
class TourWaitlistPayload:
    entry: TourWaitlistEntry | None
    user_errors: list[UserError]


@strawberry.type
class AcceptTourWaitlistOfferPayload:
    entry: TourWaitlistEntry | None
    booking: TourBooking | None
    user_errors: list[UserError]
