"""Departures (issue 15 §1): reading them, changing what staff may change, cancelling them.

Seats are not counted here: `seats.*` does that in one conditional UPDATE
each. What this module changes runs under the slot's row lock (`SELECT ...
FOR UPDATE`), which every seat UPDATE also takes, so a capacity cut and a
concurrent booking cannot both pass: whichever comes second sees the
other's seats (and the table's `no_oversell` CHECK is the backstop).

Cancelling a departure is staff's act (or the cutoff job's, for a
departure under its minimum): every live booking (pending or confirmed) is
cancelled with a full refund due, logged and announced to its customer;
waitlist offers holding seats on it go back in line; the seats are released
and charters hears the departure is cancelled (it cancels the charter).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import Booking, DepartureSlot, Tour
from subgraphs.tours.service import audit, changes, events, seats, waitlist
from subgraphs.tours.service import bookings as booking_service

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.service.changes import Actor

CENT = Decimal("0.01")
MAX_CAPACITY = 1000
MAX_PRICE = Decimal("100000.00")
MAX_REASON = 2000
#: A read of departures spans at most this many days (about three months).
MAX_RANGE_DAYS = 92


async def get_slot(
    session: AsyncSession, slot_id: uuid.UUID, *, lock: bool = False, field: str = "id"
) -> DepartureSlot:
    stmt = select(DepartureSlot).where(DepartureSlot.id == slot_id)
    if lock:
        stmt = stmt.with_for_update()
    slot = await session.scalar(stmt)
    if slot is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such departure.", field)
    return slot


def range_problems(start: date, end: date, most: int = MAX_RANGE_DAYS) -> list[Problem]:
    if end < start:
        return [Problem(Code.OUT_OF_RANGE, "The range ends before it starts.", "to")]
    if (end - start).days + 1 > most:
        return [Problem(Code.OUT_OF_RANGE, f"At most {most} days at a time.", "to")]
    return []


# --- changing a departure -----------------------------------------------------------------


@dataclass(frozen=True)
class SlotChange:
    """What staff change; None leaves it as it is. Bookings made keep their prices."""

    max_capacity: int | None = None
    price_per_person: Decimal | None = None
    available: bool | None = None


async def update_slot(
    session: AsyncSession,
    slot_id: uuid.UUID,
    change: SlotChange,
    now: datetime,
    *,
    actor: Actor = changes.SYSTEM,
) -> DepartureSlot:
    """Change capacity, price or the open flag; freed or re-opened seats go to the waitlist."""
    slot = await get_slot(session, slot_id, lock=True)
    before = audit.snapshot(slot, audit.SEAT_COUNTS)
    problems: list[Problem] = []
    if slot.cancelled_at is not None:
        raise ServiceError.of(Code.SLOT_CANCELLED, "This departure is cancelled.", "id")
    if slot.starts_at <= now:
        raise ServiceError.of(Code.IN_THE_PAST, "This departure has left.", "id")
    taken = slot.seats_booked + slot.seats_held
    if change.max_capacity is not None:
        if not 1 <= change.max_capacity <= MAX_CAPACITY:
            problems.append(
                Problem(Code.OUT_OF_RANGE, f"From 1 to {MAX_CAPACITY} seats.", "maxCapacity")
            )
        elif change.max_capacity < taken:
            problems.append(
                Problem(
                    Code.OUT_OF_RANGE,
                    f"{taken} seats are booked or held for waitlist offers; the capacity cannot "
                    "be less.",
                    "maxCapacity",
                )
            )
        elif change.max_capacity < slot.min_capacity:
            problems.append(
                Problem(
                    Code.OUT_OF_RANGE,
                    f"Less than the departure's minimum of {slot.min_capacity} seats.",
                    "maxCapacity",
                )
            )
    price = change.price_per_person
    if price is not None and (price != price.quantize(CENT) or not 0 <= price <= MAX_PRICE):
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"An amount from 0.00 to {MAX_PRICE}.", "pricePerPerson")
        )
    if problems:
        raise ServiceError(problems)
    frees = (change.max_capacity is not None and change.max_capacity > slot.max_capacity) or (
        change.available is True and not slot.available
    )
    if change.max_capacity is not None:
        slot.max_capacity = change.max_capacity
    if price is not None:
        slot.price_per_person = price
    if change.available is not None:
        slot.available = change.available
    await session.flush()
    await session.refresh(slot)
    audit.record(
        session,
        entity=audit.DEPARTURE,
        entity_id=slot.id,
        tour_id=slot.tour_id,
        action="update",
        actor=actor.viewer,
        before=before,
        after=audit.snapshot(slot, audit.SEAT_COUNTS),
    )
    if frees:
        await waitlist.offer_freed_seats(session, slot.id, now)
        await session.refresh(slot)
    return slot


# --- cancelling a departure ---------------------------------------------------------------


async def cancel_departure(
    session: AsyncSession,
    slot_id: uuid.UUID,
    reason: str,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> DepartureSlot:
    """Cancel the departure, its live bookings (refund due = total), offers and seats.

    Each booking gets a CANCELLATION log row and a `departure_cancelled`
    event (notifications tells its customer, with the refund due); the
    departure a `departure_changed` event (charters cancels its charter).
    """
    when = now or datetime.now(UTC)
    reason = " ".join(reason.split())
    if not reason:
        raise ServiceError.of(Code.REQUIRED, "Say why the departure is cancelled.", "reason")
    if len(reason) > MAX_REASON:
        raise ServiceError.of(Code.INVALID, f"At most {MAX_REASON} characters.", "reason")
    slot = await get_slot(session, slot_id, lock=True)
    if slot.cancelled_at is not None:
        raise ServiceError.of(Code.SLOT_CANCELLED, "This departure is already cancelled.", "id")
    before = audit.snapshot(slot, audit.SEAT_COUNTS)
    tour = await session.get(Tour, slot.tour_id)
    if tour is None:  # pragma: no cover - a foreign key
        raise ServiceError.of(Code.NOT_FOUND, "No such tour.", "id")
    bookings = list(
        await session.scalars(
            select(Booking)
            .where(Booking.slot_id == slot.id, Booking.status.in_(booking_service.OPEN))
            .order_by(Booking.created_at, Booking.id)
            .with_for_update()
        )
    )
    await waitlist.slot_cancelled(session, slot.id)
    freed = sum(b.seats for b in bookings)
    if freed:
        await seats.release(session, slot.id, freed)
    slot.cancelled_at = when
    slot.cancellation_reason = reason
    await session.flush()
    await session.refresh(slot)
    audit.record(
        session,
        entity=audit.DEPARTURE,
        entity_id=slot.id,
        tour_id=slot.tour_id,
        action="cancel",
        actor=actor.viewer,
        before=before,
        after={**audit.snapshot(slot, audit.SEAT_COUNTS), "bookings_cancelled": len(bookings)},
    )
    for booking in bookings:
        old_status = booking.status
        booking_service.BOOKING.check(old_status, "cancelled")
        booking.status = "cancelled"
        booking.refund_due = booking.total
        booking.cancelled_at = when
        booking.cancellation_reason = reason
        await changes.record(
            session,
            booking,
            "cancellation",
            actor,
            old={"status": old_status},
            new={
                "status": "cancelled",
                "refundDue": str(booking.total),
                "departureCancelled": True,
            },
            reason=reason,
        )
        await events.booking_changed(
            session, booking, slot, tour, events.DEPARTURE_CANCELLED, reason=reason
        )
    await events.departure_changed(session, slot, tour)
    return slot
