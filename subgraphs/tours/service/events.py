"""What tours announces (the outbox): the topics and their payloads, in one place.

- `tours.booking_changed`: a booking was created, confirmed, modified,
  cancelled (by its customer, by staff, or with its departure), completed,
  marked no-show or refunded. Notifications tells the customer.
- `tours.waitlist_offer_made`: seats are held for a waitlist entry until
  `expiresAt`. Notifications tells the customer.
- `tours.departure_changed`: a departure's seats, confirmation to run or
  cancellation changed. Charters operates a confirmed departure as a
  shuttle charter (created once per departure, `slotId` being the key) and
  keeps its passenger count equal to `seatsBooked`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from subgraphs.kit.outbox import emit
from subgraphs.tours.models import outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.models import Booking, DepartureSlot, Tour, WaitlistEntry

BOOKING_CHANGED = "tours.booking_changed"
WAITLIST_OFFER_MADE = "tours.waitlist_offer_made"
DEPARTURE_CHANGED = "tours.departure_changed"

#: `change` values of `tours.booking_changed`.
CREATED = "created"
CONFIRMED = "confirmed"
MODIFIED = "modified"
CANCELLED = "cancelled"
DEPARTURE_CANCELLED = "departure_cancelled"
COMPLETED = "completed"
NO_SHOW = "no_show"
REFUNDED = "refunded"


def _departure(slot: DepartureSlot, tour: Tour) -> dict[str, Any]:
    return {
        "slotId": str(slot.id),
        "tourId": str(tour.id),
        "tourName": tour.name,
        "date": slot.date.isoformat(),
        "startLocal": slot.local_start.strftime("%H:%M"),
        "endLocal": slot.local_end.strftime("%H:%M"),
        "timeZone": slot.time_zone,
        "startsAt": slot.starts_at.isoformat(),
        "endsAt": slot.ends_at.isoformat(),
    }


async def booking_changed(
    session: AsyncSession,
    booking: Booking,
    slot: DepartureSlot,
    tour: Tour,
    change: str,
    *,
    reason: str = "",
) -> None:
    await emit(
        session,
        outbox,
        BOOKING_CHANGED,
        {
            **_departure(slot, tour),
            "bookingId": str(booking.id),
            "reference": booking.reference,
            "change": change,
            "status": booking.status,
            "adults": booking.adults,
            "children": booking.children,
            "infants": booking.infants,
            "total": str(booking.total),
            "refundDue": None if booking.refund_due is None else str(booking.refund_due),
            "customerName": booking.customer_name,
            "customerEmail": booking.customer_email,
            "customerPhone": booking.customer_phone,
            "userId": str(booking.user_id) if booking.user_id else None,
            "reason": reason,
        },
    )


async def waitlist_offer_made(
    session: AsyncSession, entry: WaitlistEntry, slot: DepartureSlot, tour: Tour
) -> None:
    if entry.offer_expires_at is None:
        raise ValueError("an offer without an expiry")
    await emit(
        session,
        outbox,
        WAITLIST_OFFER_MADE,
        {
            **_departure(slot, tour),
            "entryId": str(entry.id),
            "seats": entry.party_size,
            "expiresAt": entry.offer_expires_at.isoformat(),
            "pricePerPerson": str(slot.price_per_person),
            "customerName": entry.customer_name,
            "customerEmail": entry.customer_email,
            "customerPhone": entry.customer_phone,
            "userId": str(entry.user_id) if entry.user_id else None,
        },
    )


async def departure_changed(session: AsyncSession, slot: DepartureSlot, tour: Tour) -> None:
    await emit(
        session,
        outbox,
        DEPARTURE_CHANGED,
        {
            **_departure(slot, tour),
            "meetingPoint": tour.meeting_point,
            "meetingLatitude": None
            if tour.meeting_latitude is None
            else str(tour.meeting_latitude),
            "meetingLongitude": (
                None if tour.meeting_longitude is None else str(tour.meeting_longitude)
            ),
            "seatsBooked": slot.seats_booked,
            "minCapacity": slot.min_capacity,
            "maxCapacity": slot.max_capacity,
            "confirmedToRun": slot.confirmed_to_run_at is not None,
            "cancelled": slot.cancelled_at is not None,
            "cancellationReason": slot.cancellation_reason,
        },
    )
