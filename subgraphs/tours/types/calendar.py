"""Availability and the month calendar as the graph shows them (issue 15 §4)."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from subgraphs.tours.types.catalogue import DepartureSlot


@strawberry.enum(
    description="Share of a day's capacity still bookable: HIGH >= 50 %, MEDIUM >= 20 %, "
    "LOW > 0, NONE 0 or no departures; BLACKOUT when a blackout closes the day."
)
class AvailabilityLevel(Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"
    BLACKOUT = "blackout"


@strawberry.type(description="Whether a party can book a tour on a day, and where.")
class TourAvailability:
    available: bool
    reason: str | None = strawberry.field(description="Why nothing fits, in words.")
    reason_code: str | None = strawberry.field(
        description="TOUR_INACTIVE, PARTY_SIZE, BLACKED_OUT, NO_DEPARTURES, SOLD_OUT, "
        "TOO_FAR_AHEAD or BOOKING_CLOSED (the first that applies)."
    )
    slots: list[DepartureSlot] = strawberry.field(
        description="The departures the party could book now, earliest first."
    )
    waitlist_open: bool = strawberry.field(
        description="The day has departures still open for booking but none fits: join the "
        "waitlist to be offered seats freed later."
    )


@strawberry.type
class TourCalendarDay:
    date: date
    seats_available: int = strawberry.field(
        description="Seats bookable now on the day's departures (open, before the cutoff, "
        "within the sales window, not blacked out)."
    )
    slot_count: int = strawberry.field(description="Departures that day, not cancelled.")
    level: AvailabilityLevel = strawberry.field(
        description="seatsAvailable as a share of the day's capacity: HIGH >= 50 %, "
        "MEDIUM >= 20 %, LOW > 0, NONE 0 or no departures; BLACKOUT: a blackout closes it."
    )
    blackout_name: str | None


@strawberry.type(description="A tour's month, one entry per day.")
class TourCalendar:
    tour_id: strawberry.ID
    year: int
    month: int
    days: list[TourCalendarDay]
