"""Booking seats on a departure: create, modify, cancel, and move through the statuses.

Each function runs inside its caller's transaction and does everything a
change means there: the seats (`seats`, one conditional UPDATE each), the
booking row, its change-log row (`changes.record`), its event (outbox) and
the departure's own follow-ups (`departures.seats_changed`, the waitlist),
so a refused or failed change leaves nothing behind.

Locks are always taken in one order, departures (in `seats.in_lock_order`)
before the booking row: a booking is read without a lock to learn its
departure, the departures are locked, then the booking is re-read under
its lock and must still be on the departure that was locked (else the
caller is told to try again). Two customers moving bookings between the
same two departures in opposite directions therefore queue instead of
deadlocking, and a departure's cancellation (departure, then its bookings)
meets the same order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, func, select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.state_machine import machine
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import Booking, DepartureSlot, Tour, WaitlistEntry
from subgraphs.tours.service import (
    access,
    booking_rules,
    changes,
    config,
    departures,
    events,
    pricing,
    references,
    seats,
    waitlist,
)
from subgraphs.tours.service.booking_rules import Party

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.service.changes import Actor

#: Issue 15 §2: pending -> confirmed -> completed; cancelled (from pending or confirmed) ->
#: refunded; no_show from confirmed. Completed and no_show only once the departure has left.
BOOKING = machine(
    "tour booking",
    {
        "pending": {"confirmed", "cancelled"},
        "confirmed": {"completed", "cancelled", "no_show"},
        "completed": set(),
        "cancelled": {"refunded"},
        "refunded": set(),
        "no_show": set(),
    },
)
AFTER_DEPARTURE = frozenset({"completed", "no_show"})
#: Bookings that still hold their seats and may be changed by their customer.
OPEN = ("pending", "confirmed")
#: Bookings whose seats count in `departure_slots.seats_booked`.
HOLDING_SEATS = ("pending", "confirmed", "completed", "no_show")
STATUS_EVENTS = {
    "confirmed": events.CONFIRMED,
    "completed": events.COMPLETED,
    "no_show": events.NO_SHOW,
    "refunded": events.REFUNDED,
    "cancelled": events.CANCELLED,
}
MAX_TEXT = 2000


@dataclass(frozen=True)
class NewBooking:
    """A booking as asked for; who asks (and may give a discount) is the actor."""

    slot_id: uuid.UUID
    adults: int
    customer_name: str
    customer_email: str
    children: int = 0
    infants: int = 0
    customer_phone: str = ""
    special_requirements: str = ""
    dietary_restrictions: str = ""
    accessibility_needs: str = ""
    discount: Decimal | None = None


@dataclass(frozen=True)
class Modification:
    """What changes; None keeps the booking's own value."""

    slot_id: uuid.UUID | None = None
    adults: int | None = None
    children: int | None = None
    infants: int | None = None
    reason: str = ""


def _customer_problems(data: NewBooking) -> list[Problem]:
    problems: list[Problem] = []
    if not data.customer_name.strip():
        problems.append(Problem(Code.REQUIRED, "Who is travelling?", "customerName"))
    elif len(data.customer_name.strip()) > 200:
        problems.append(Problem(Code.INVALID, "At most 200 characters.", "customerName"))
    try:
        validate_email(data.customer_email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        problems.append(Problem(Code.INVALID, f"E-mail is not valid: {exc}", "customerEmail"))
    if len(data.customer_phone) > 40:
        problems.append(Problem(Code.INVALID, "At most 40 characters.", "customerPhone"))
    for name, value in (
        ("specialRequirements", data.special_requirements),
        ("dietaryRestrictions", data.dietary_restrictions),
        ("accessibilityNeeds", data.accessibility_needs),
    ):
        if len(value) > MAX_TEXT:
            problems.append(Problem(Code.INVALID, f"At most {MAX_TEXT} characters.", name))
    return problems


async def _departure(
    session: AsyncSession, slot_id: uuid.UUID, field: str = "slotId"
) -> tuple[DepartureSlot, Tour]:
    slot = await session.get(DepartureSlot, slot_id, populate_existing=True)
    if slot is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such departure.", field)
    tour = await session.get(Tour, slot.tour_id)
    if tour is None:  # a foreign key holds it
        raise RuntimeError(f"departure {slot_id} without its tour")
    return slot, tour


def _offer_problems(
    entry: WaitlistEntry, slot_id: uuid.UUID, party: Party, now: datetime
) -> list[Problem]:
    if (
        entry.status != "notified"
        or entry.offer_slot_id != slot_id
        or entry.offer_expires_at is None
        or entry.offer_expires_at <= now
    ):
        return [Problem(Code.OFFER_EXPIRED, "This offer is no longer open.", "entryId")]
    if party.seats > entry.party_size:
        return [
            Problem(
                Code.PARTY_SIZE,
                f"The offer holds {entry.party_size} seats; this party is {party.seats}.",
                "adults",
            )
        ]
    return []


def _owner(actor: Actor, from_offer: WaitlistEntry | None) -> uuid.UUID | None:
    """The customer's account: a signed-in customer's own, or the waitlist entry's; staff own none."""
    if from_offer is not None and from_offer.user_id is not None:
        return from_offer.user_id
    viewer = actor.viewer
    return viewer.user_id if viewer.is_authenticated and not viewer.is_staff else None


def snapshot(booking: Booking) -> dict[str, Any]:
    return {
        "reference": booking.reference,
        "slotId": str(booking.slot_id),
        "adults": booking.adults,
        "children": booking.children,
        "infants": booking.infants,
        "total": str(booking.total),
        "status": booking.status,
    }


async def create_booking(
    session: AsyncSession,
    data: NewBooking,
    actor: Actor,
    *,
    now: datetime,
    from_offer: WaitlistEntry | None = None,
) -> Booking:
    """Book a party on a departure, pending until staff confirm it.

    With `from_offer` (an accepted waitlist offer) the seats the offer held
    become booked (`seats.book_held`) and any the party does not use are
    released and offered on; the time rules still apply.
    """
    problems = _customer_problems(data)
    if data.discount is not None and not access.works_bookings(actor.viewer):
        problems.append(Problem(Code.FORBIDDEN, "Only staff give discounts.", "discount"))
    slot, tour = await _departure(session, data.slot_id)
    rules = await config.get_config(session)
    party = Party(data.adults, data.children, data.infants)
    if from_offer is not None:
        problems += _offer_problems(from_offer, slot.id, party, now)
    await booking_rules.check(
        session, slot=slot, tour=tour, party=party, config=rules, now=now, more=problems
    )
    priced = pricing.price(
        slot.price_per_person,
        party.adults,
        party.children,
        child_rate_percent=rules.child_rate_percent,
        tax_rate_percent=rules.tax_rate_percent,
        discount=data.discount or pricing.ZERO,
    )
    spare = 0
    if from_offer is None:
        await seats.reserve(session, slot.id, party.seats)
    else:
        await seats.book_held(session, slot.id, party.seats)
        spare = from_offer.party_size - party.seats
        if spare:
            await seats.release_hold(session, slot.id, spare)
    viewer = actor.viewer
    booking = Booking(
        tour_id=tour.id,
        slot_id=slot.id,
        user_id=_owner(actor, from_offer),
        created_by=viewer.user_id,
        adults=party.adults,
        children=party.children,
        infants=party.infants,
        customer_name=data.customer_name.strip(),
        customer_email=data.customer_email.strip(),
        customer_phone=data.customer_phone.strip(),
        special_requirements=data.special_requirements,
        dietary_restrictions=data.dietary_restrictions,
        accessibility_needs=data.accessibility_needs,
        adult_price=priced.adult_price,
        child_price=priced.child_price,
        subtotal=priced.subtotal,
        discount=priced.discount,
        tax=priced.tax,
        total=priced.total,
        status="pending",
        waitlist_entry_id=from_offer.id if from_offer is not None else None,
    )
    await references.insert_with_reference(session, booking, now.date())
    await changes.record(session, booking, "created", actor, new=snapshot(booking))
    await events.booking_changed(session, booking, slot, tour, events.CREATED)
    if spare:
        await waitlist.offer_freed_seats(session, slot.id, now)
    await departures.seats_changed(session, slot.id, now=now)
    return booking


async def _locked(session: AsyncSession, booking_id: uuid.UUID, *also: uuid.UUID) -> Booking:
    """The booking under its lock, its departure (and `also`) locked first, in lock order."""
    current = await session.get(Booking, booking_id)
    if current is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such booking.", "reference")
    slot_id = current.slot_id
    await seats.lock(session, [slot_id, *also])
    booking = await session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None or booking.slot_id != slot_id:
        raise ServiceError.of(
            Code.CONFLICT, "The booking changed meanwhile; please try again.", "reference"
        )
    return booking


def _left_problems(
    slot: DepartureSlot, rules_cutoff_hours: int, actor: Actor, now: datetime
) -> list[Problem]:
    """A customer changes a booking only until its departure's cutoff; staff until it leaves."""
    if slot.starts_at <= now:
        return [Problem(Code.IN_THE_PAST, "This departure has already left.", "reference")]
    if not access.works_bookings(actor.viewer) and slot.starts_at - now < timedelta(
        hours=rules_cutoff_hours
    ):
        return [
            Problem(
                Code.BOOKING_CLOSED,
                f"Bookings change until {rules_cutoff_hours} hours before departure; "
                "please call us.",
                "reference",
            )
        ]
    return []


async def modify_booking(
    session: AsyncSession,
    booking_id: uuid.UUID,
    change: Modification,
    actor: Actor,
    *,
    now: datetime,
) -> Booking:
    """Move a booking to another departure of its tour and/or change its party, repriced.

    The old seats are released and the new ones reserved in this one
    transaction with both departures locked: if the new seats are not there
    the release rolls back with everything else (never both, never neither).
    The booking keeps its discount (up to the new subtotal) and is repriced
    at today's rates; the change of total is logged as `amount_difference`
    on the first row of the modification (the slot change when there is one).
    """
    booking = await _locked(session, booking_id, *([change.slot_id] if change.slot_id else []))
    if booking.status not in OPEN:
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"A {booking.status} booking cannot be changed.", "reference"
        )
    old_party = Party(booking.adults, booking.children, booking.infants)
    new_party = Party(
        booking.adults if change.adults is None else change.adults,
        booking.children if change.children is None else change.children,
        booking.infants if change.infants is None else change.infants,
    )
    target = change.slot_id or booking.slot_id
    slot_changed, party_changed = target != booking.slot_id, new_party != old_party
    if not slot_changed and not party_changed:
        return booking
    rules = await config.get_config(session)
    old_slot, tour = await _departure(session, booking.slot_id)
    new_slot = old_slot
    problems = _left_problems(old_slot, rules.cutoff_hours, actor, now)
    problems += booking_rules.party_problems(new_party, rules, tour)
    if slot_changed:
        new_slot, _ = await _departure(session, target)
        if new_slot.tour_id != booking.tour_id:
            problems.append(
                Problem(
                    Code.INVALID, "A booking moves only between its tour's departures.", "slotId"
                )
            )
        else:
            problems += booking_rules.departure_problems(new_slot, tour, rules, now)
            problems += await booking_rules.blackout_problems(session, new_slot)
    if problems:
        raise ServiceError(problems)

    if slot_changed:
        await seats.release(session, old_slot.id, old_party.seats)
        await seats.reserve(session, new_slot.id, new_party.seats)
    elif new_party.seats > old_party.seats:
        await seats.reserve(session, old_slot.id, new_party.seats - old_party.seats, "adults")
    elif new_party.seats < old_party.seats:
        await seats.release(session, old_slot.id, old_party.seats - new_party.seats)

    before = snapshot(booking)
    undiscounted = pricing.price(
        new_slot.price_per_person,
        new_party.adults,
        new_party.children,
        child_rate_percent=rules.child_rate_percent,
        tax_rate_percent=rules.tax_rate_percent,
    )
    priced = pricing.price(
        new_slot.price_per_person,
        new_party.adults,
        new_party.children,
        child_rate_percent=rules.child_rate_percent,
        tax_rate_percent=rules.tax_rate_percent,
        discount=min(booking.discount, undiscounted.subtotal),
    )
    difference = priced.total - booking.total
    booking.slot_id = new_slot.id
    booking.adults, booking.children, booking.infants = (
        new_party.adults,
        new_party.children,
        new_party.infants,
    )
    booking.adult_price, booking.child_price = priced.adult_price, priced.child_price
    booking.subtotal, booking.discount = priced.subtotal, priced.discount
    booking.tax, booking.total = priced.tax, priced.total
    await session.flush()
    await session.refresh(booking)
    after = snapshot(booking)
    carried = False
    if slot_changed:
        await changes.record(
            session,
            booking,
            "slot_change",
            actor,
            old={**_slot_view(old_slot), "total": before["total"]},
            new={**_slot_view(new_slot), "total": after["total"]},
            reason=change.reason,
            amount_difference=difference,
        )
        carried = True
    if party_changed:
        keys = ("adults", "children", "infants", "total")
        await changes.record(
            session,
            booking,
            "party_change",
            actor,
            old={k: before[k] for k in keys},
            new={k: after[k] for k in keys},
            reason=change.reason,
            amount_difference=None if carried else difference,
        )
    await events.booking_changed(
        session, booking, new_slot, tour, events.MODIFIED, reason=change.reason
    )
    if slot_changed or new_party.seats < old_party.seats:
        await waitlist.offer_freed_seats(session, old_slot.id, now)
    for slot_id in seats.in_lock_order(old_slot.id, new_slot.id):
        await departures.seats_changed(session, slot_id, now=now)
    return booking


def _slot_view(slot: DepartureSlot) -> dict[str, Any]:
    return {
        "slotId": str(slot.id),
        "date": slot.date.isoformat(),
        "localStart": slot.local_start.strftime("%H:%M"),
    }


def refund_due(booking: Booking, slot: DepartureSlot, cutoff_hours: int, now: datetime) -> Decimal:
    """The whole total before the cutoff, nothing within it (staff may decide otherwise)."""
    if slot.starts_at - now >= timedelta(hours=cutoff_hours):
        return booking.total
    return pricing.ZERO


async def cancel_booking(
    session: AsyncSession,
    booking_id: uuid.UUID,
    actor: Actor,
    *,
    now: datetime,
    reason: str = "",
    refund_amount: Decimal | None = None,
) -> Booking:
    """Cancel: seats released and offered to the waitlist, the refund due recorded.

    A customer cancels until departure (within the cutoff nothing is refunded);
    staff may cancel later and name the refund (0 to the total).
    """
    booking = await _locked(session, booking_id)
    BOOKING.check(booking.status, "cancelled", "reference")
    slot, tour = await _departure(session, booking.slot_id)
    rules = await config.get_config(session)
    staff = access.works_bookings(actor.viewer)
    problems: list[Problem] = []
    if not staff and slot.starts_at <= now:
        problems.append(Problem(Code.IN_THE_PAST, "This departure has already left.", "reference"))
    if refund_amount is not None:
        if not staff:
            problems.append(Problem(Code.FORBIDDEN, "Only staff decide a refund.", "refundAmount"))
        elif not pricing.ZERO <= refund_amount <= booking.total:
            problems.append(
                Problem(
                    Code.OUT_OF_RANGE,
                    f"A refund from 0.00 to the total ({booking.total}).",
                    "refundAmount",
                )
            )
    if problems:
        raise ServiceError(problems)
    refund = (
        refund_due(booking, slot, rules.cutoff_hours, now)
        if refund_amount is None
        else refund_amount
    )
    await seats.release(session, slot.id, booking.seats)
    old_status = booking.status
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.cancellation_reason = reason
    booking.refund_due = refund
    await session.flush()
    await changes.record(
        session,
        booking,
        "cancellation",
        actor,
        old={"status": old_status},
        new={"status": "cancelled", "refundDue": str(refund)},
        reason=reason,
    )
    await events.booking_changed(session, booking, slot, tour, events.CANCELLED, reason=reason)
    await waitlist.offer_freed_seats(session, slot.id, now)
    await departures.seats_changed(session, slot.id, now=now)
    return booking


async def set_status(
    session: AsyncSession,
    booking_id: uuid.UUID,
    status: str,
    actor: Actor,
    *,
    now: datetime,
    reason: str = "",
) -> Booking:
    """Staff move a booking along its table; a cancellation is a full `cancel_booking`."""
    if status == "cancelled":
        return await cancel_booking(session, booking_id, actor, now=now, reason=reason)
    booking = await session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such booking.", "id")
    BOOKING.check(booking.status, status, "status")
    slot, tour = await _departure(session, booking.slot_id)
    if status in AFTER_DEPARTURE and slot.starts_at > now:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"A booking becomes {status} only once its departure has left.",
            "status",
        )
    old_status = booking.status
    booking.status = status
    await session.flush()
    await changes.record(
        session,
        booking,
        "status_change",
        actor,
        old={"status": old_status},
        new={"status": status},
        reason=reason,
    )
    await events.booking_changed(session, booking, slot, tour, STATUS_EVENTS[status], reason=reason)
    return booking


# --- reading -----------------------------------------------------------------


async def by_reference(session: AsyncSession, reference: str, email: str) -> Booking | None:
    """The booking with this reference and e-mail (any case), or None for any other pair."""
    return await session.scalar(
        select(Booking).where(
            Booking.reference == references.normalise(reference),
            func.lower(Booking.customer_email) == email.strip().lower(),
        )
    )


async def for_customer(
    session: AsyncSession, reference: str, email: str | None, actor: Actor
) -> uuid.UUID:
    """The booking a caller may change: staff any, a customer its own, anyone with its e-mail.

    Anything else answers NOT_FOUND, exactly like a missing reference, so the
    answer never tells a stranger that a reference exists.
    """
    missing = ServiceError.of(
        Code.NOT_FOUND, "No booking with this reference and e-mail.", "reference"
    )
    row = await session.scalar(
        select(Booking).where(Booking.reference == references.normalise(reference))
    )
    if row is None:
        raise missing
    viewer = actor.viewer
    if access.works_bookings(viewer) or access.owns(viewer, row.user_id):
        return row.id
    if email and row.customer_email.strip().lower() == email.strip().lower():
        return row.id
    raise missing


async def mine(session: AsyncSession, user_id: uuid.UUID, status: str | None) -> list[Booking]:
    """A customer's own bookings, the latest departure first."""
    stmt = (
        select(Booking)
        .join(DepartureSlot, DepartureSlot.id == Booking.slot_id)
        .where(Booking.user_id == user_id)
        .order_by(DepartureSlot.starts_at.desc(), Booking.id)
    )
    if status is not None:
        stmt = stmt.where(Booking.status == status)
    return list((await session.scalars(stmt)).all())


@dataclass(frozen=True)
class BookingFilter:
    tour_id: uuid.UUID | None = None
    slot_id: uuid.UUID | None = None
    status: str | None = None
    #: Departure dates, both inclusive.
    start: date | None = None
    end: date | None = None


def staff_list(f: BookingFilter) -> Select[Any]:
    """Staff's booking list; the connection orders it newest booking first."""
    stmt = select(Booking)
    if f.tour_id is not None:
        stmt = stmt.where(Booking.tour_id == f.tour_id)
    if f.slot_id is not None:
        stmt = stmt.where(Booking.slot_id == f.slot_id)
    if f.status is not None:
        stmt = stmt.where(Booking.status == f.status)
    if f.start is not None or f.end is not None:
        dates = select(DepartureSlot.id)
        if f.start is not None:
            dates = dates.where(DepartureSlot.date >= f.start)
        if f.end is not None:
            dates = dates.where(DepartureSlot.date <= f.end)
        stmt = stmt.where(Booking.slot_id.in_(dates))
    return stmt
