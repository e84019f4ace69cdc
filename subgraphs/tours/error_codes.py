"""Codes of tours' user errors; clients switch on these, not on messages."""

from __future__ import annotations

from enum import StrEnum


class ToursErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    INVALID_RRULE = "INVALID_RRULE"
    #: A departure without the seats asked for (the waitlist is open).
    SOLD_OUT = "SOLD_OUT"
    SLOT_CANCELLED = "SLOT_CANCELLED"
    #: Staff closed the departure to new bookings.
    SLOT_CLOSED = "SLOT_CLOSED"
    #: The booking rules (each names its rule; all configurable in `ToursConfig`).
    BOOKING_CLOSED = "BOOKING_CLOSED"  # within the cutoff before departure
    TOO_FAR_AHEAD = "TOO_FAR_AHEAD"  # beyond the days-ahead limit
    PARTY_SIZE = "PARTY_SIZE"  # outside 1-50 or the tour's own limits
    INFANTS_NEED_ADULT = "INFANTS_NEED_ADULT"
    BLACKED_OUT = "BLACKED_OUT"
    IN_THE_PAST = "IN_THE_PAST"
    TOUR_INACTIVE = "TOUR_INACTIVE"
    #: A waitlist offer past its hold, or one no longer open.
    OFFER_EXPIRED = "OFFER_EXPIRED"
    #: Too many attempts from one address (anonymous booking and lookups).
    RATE_LIMITED = "RATE_LIMITED"
