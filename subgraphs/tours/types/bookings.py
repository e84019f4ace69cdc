"""Bookings as the graph shows them: the booking, its change log, inputs and payloads.

Who may read a booking is decided where it is fetched (the root fields and
`DepartureSlot.bookings`), so the types stay thin; the one exception is the
change log's caller address and user agent, which only staff see (a
customer reads its own log with those null).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.payloads import UserError
from subgraphs.kit.scalars import Money
from subgraphs.tours import loaders as L
from subgraphs.tours.service.access import READ_OPERATIONS
from subgraphs.tours.types.catalogue import DepartureSlot, Tour


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.enum(
    description="pending -> confirmed -> completed; pending or confirmed -> cancelled -> "
    "refunded; confirmed -> no_show (completed and no_show once the departure has left)."
)
class TourBookingStatus(Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    NO_SHOW = "no_show"


@strawberry.enum
class TourBookingChangeType(Enum):
    CREATED = "created"
    STATUS_CHANGE = "status_change"
    SLOT_CHANGE = "slot_change"
    PARTY_CHANGE = "party_change"
    CANCELLATION = "cancellation"


@strawberry.type(description="One change of a booking: who, what, from and to, why.")
class TourBookingChange:
    id: strawberry.ID
    change_type: TourBookingChangeType
    old_value: JSON | None
    new_value: JSON | None
    amount_difference: Money | None = strawberry.field(
        description="How much the total changed (a modification's repricing); on the first row "
        "of a modification that changed both departure and party."
    )
    reason: str
    changed_at: datetime
    changed_by: strawberry.ID | None = strawberry.field(
        description="The account that made it; null: an anonymous customer or the system."
    )
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> TourBookingChange:
        return cls(
            id=gid(row.id),
            change_type=TourBookingChangeType(row.change_type),
            old_value=row.old_value,
            new_value=row.new_value,
            amount_difference=row.amount_difference,
            reason=row.reason,
            changed_at=row.created_at,
            changed_by=gid(row.changed_by) if row.changed_by else None,
            _row=row,
        )

    @strawberry.field(description="The caller's address (staff only; null for others).")
    async def ip_address(self, info: Info) -> str | None:
        if not (await info.context.get_viewer()).has_any_role(*READ_OPERATIONS):
            return None
        return str(self._row.ip_address) if self._row.ip_address is not None else None

    @strawberry.field(description="The caller's browser or app (staff only; null for others).")
    async def user_agent(self, info: Info) -> str | None:
        if not (await info.context.get_viewer()).has_any_role(*READ_OPERATIONS):
            return None
        return str(self._row.user_agent)


@strawberry.type(description="Seats booked on a departure by one party.")
class TourBooking:
    id: strawberry.ID
    reference: str = strawberry.field(
        description="TB-YYYYMMDD-XXXXXX; with the e-mail, all a customer needs to find it."
    )
    adults: int
    children: int = strawberry.field(description="Aged 3 to 12, at the child rate.")
    infants: int = strawberry.field(description="Aged 0 to 2: free, but they take a seat.")
    seats: int
    customer_name: str
    customer_email: str
    customer_phone: str
    special_requirements: str
    dietary_restrictions: str
    accessibility_needs: str
    adult_price: Money
    child_price: Money
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    status: TourBookingStatus
    refund_due: Money | None = strawberry.field(description="Set when cancelled: owed back.")
    cancelled_at: datetime | None
    cancellation_reason: str | None
    created_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> TourBooking:
        return cls(
            id=gid(row.id),
            reference=row.reference,
            adults=row.adults,
            children=row.children,
            infants=row.infants,
            seats=row.seats,
            customer_name=row.customer_name,
            customer_email=row.customer_email,
            customer_phone=row.customer_phone,
            special_requirements=row.special_requirements,
            dietary_restrictions=row.dietary_restrictions,
            accessibility_needs=row.accessibility_needs,
            adult_price=row.adult_price,
            child_price=row.child_price,
            subtotal=row.subtotal,
            discount=row.discount,
            tax=row.tax,
            total=row.total,
            status=TourBookingStatus(row.status),
            refund_due=row.refund_due,
            cancelled_at=row.cancelled_at,
            cancellation_reason=row.cancellation_reason,
            created_at=row.created_at,
            _row=row,
        )

    @strawberry.field
    async def tour(self, info: Info) -> Tour:
        row = await info.context.loaders.get(L.TourByIdLoader).load(self._row.tour_id)
        return Tour.from_row(row)

    @strawberry.field
    async def slot(self, info: Info) -> DepartureSlot:
        row = await info.context.loaders.get(L.DepartureSlotByIdLoader).load(self._row.slot_id)
        return DepartureSlot.from_row(row)

    @strawberry.field(description="Every change, oldest first.")
    async def changes(self, info: Info) -> list[TourBookingChange]:
        rows = await info.context.loaders.get(L.ChangesByBookingIdLoader).load(self._row.id)
        return [TourBookingChange.from_row(r) for r in rows]


@strawberry.input(description="Staff's booking list: every filter optional, all must hold.")
class TourBookingFilter:
    tour_id: strawberry.ID | None = None
    slot_id: strawberry.ID | None = None
    status: TourBookingStatus | None = None
    from_: date | None = strawberry.field(
        default=None, name="from", description="Departures on or after this local date."
    )
    to: date | None = strawberry.field(
        default=None, description="Departures on or before this local date."
    )


@strawberry.input(description="Seats on a departure for a party; anyone may book.")
class BookTourInput:
    slot_id: strawberry.ID
    adults: int
    customer_name: str
    customer_email: str
    children: int = 0
    infants: int = 0
    customer_phone: str = ""
    special_requirements: str = ""
    dietary_restrictions: str = ""
    accessibility_needs: str = ""
    discount: Money | None = strawberry.field(
        default=None, description="Off the subtotal, before tax (staff only)."
    )


@strawberry.input(
    description="Move a booking and/or change its party. The booking's reference; the e-mail "
    "it was booked with unless you are its signed-in owner or staff. Left out: unchanged."
)
class ModifyTourBookingInput:
    reference: str
    email: str | None = None
    slot_id: strawberry.ID | None = strawberry.field(
        default=None, description="Another departure of the same tour."
    )
    adults: int | None = None
    children: int | None = None
    infants: int | None = None
    reason: str = ""


@strawberry.input(
    description="Cancel a booking (reference, and its e-mail unless owner or staff). The "
    "refund is the total before the booking cutoff, nothing within it; staff may name it."
)
class CancelTourBookingInput:
    reference: str
    email: str | None = None
    reason: str = ""
    refund_amount: Money | None = strawberry.field(
        default=None, description="Staff only: 0 up to the total."
    )


@strawberry.type
class TourBookingPayload:
    booking: TourBooking | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
