"""The waitlist (issue 15 §3): who is next when seats free up, and offers that hold them.

Freed seats are offered, never simply left free: every path that frees seats
on a departure (a cancellation, a smaller party, a booking moved away, a
capacity increase, a re-opened departure, an expired or cancelled offer)
calls `offer_freed_seats` in its own transaction. Under the slot's row lock it
walks the day's active entries (highest priority, then oldest) and gives each
one that fits an offer that holds its seats (`seats.hold`), until the seats
left fit nobody. An entry that does not fit is passed over, not blocked on: a
party of five does not keep a party of two waiting for two seats.

Locks are always taken slot first, then entries, so the offer, expiry,
cancellation and acceptance paths cannot deadlock one another; entries are
picked with SKIP LOCKED so two departures of the same day offering at once
never offer the same entry twice.

An offer's seats are held until `offer_expires_at`: now plus the configured
hold, but never past the booking cutoff of the departure (an offer that could
not be accepted any more would only keep seats from others). No offer is made
on a departure that is cancelled, closed by staff, closed by the cutoff, on a
blacked-out day, or of an inactive tour: none could be booked.

Joining when a departure that day still fits the party is allowed and makes
no offer: `availability` already tells the customer to book; the entry waits
like any other for seats freed later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.state_machine import machine
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import DepartureSlot, Tour, WaitlistEntry
from subgraphs.tours.service import access, audit, blackouts, config, events, seats
from subgraphs.tours.service.changes import SYSTEM

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Services
    from subgraphs.tours.models import Booking
    from subgraphs.tours.service.changes import Actor

ACTIVE = "active"
NOTIFIED = "notified"
CONVERTED = "converted"
EXPIRED = "expired"
CANCELLED = "cancelled"

#: An entry waits (active), is offered seats (notified), then books them (converted), lets
#: the offer lapse (expired) or gives up (cancelled). An offer on a departure that staff
#: cancel goes back to waiting, keeping its place in line.
WAITLIST = machine(
    "waitlist entry",
    {
        ACTIVE: {NOTIFIED, CANCELLED},
        NOTIFIED: {CONVERTED, EXPIRED, CANCELLED, ACTIVE},
        CONVERTED: set(),
        EXPIRED: set(),
        CANCELLED: set(),
    },
)

#: Statuses of an entry still in line (a customer holds one of these per tour and day).
LIVE = (ACTIVE, NOTIFIED)

MAX_NOTES = 2000


@dataclass(frozen=True)
class NewEntry:
    tour_id: uuid.UUID
    requested_date: date
    party_size: int
    customer_name: str
    customer_email: str
    customer_phone: str = ""
    notes: str = ""


@dataclass(frozen=True)
class OfferParty:
    """Who travels on an accepted offer; at most the entry's party size."""

    adults: int
    children: int = 0
    infants: int = 0
    customer_phone: str | None = None
    special_requirements: str = ""
    dietary_restrictions: str = ""
    accessibility_needs: str = ""

    @property
    def seats(self) -> int:
        return self.adults + self.children + self.infants


# ---------------------------------------------------------------- offering seats


async def offer_freed_seats(
    session: AsyncSession, slot_id: uuid.UUID, now: datetime
) -> list[WaitlistEntry]:
    """Offer the slot's free seats to the day's waitlist; the entries offered, in line order.

    Call it in the transaction that freed the seats, after freeing them: the
    offers commit or roll back with the change that made them possible.
    """
    slot = await _lock_slot(session, slot_id)
    if slot is None or slot.cancelled_at is not None or not slot.available:
        return []
    rules = await config.get_config(session)
    closes_at = slot.starts_at - timedelta(hours=rules.cutoff_hours)
    if closes_at <= now or slot.seats_available <= 0:
        return []
    tour = await session.get(Tour, slot.tour_id)
    if tour is None or not tour.active:
        return []
    if await blackouts.blacked_out(session, slot.tour_id, slot.date) is not None:
        return []
    expires_at = min(now + timedelta(hours=rules.offer_hold_hours), closes_at)
    free = slot.seats_available
    offered: list[WaitlistEntry] = []
    while free > 0:
        entry = await session.scalar(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.tour_id == slot.tour_id,
                WaitlistEntry.requested_date == slot.date,
                WaitlistEntry.status == ACTIVE,
                WaitlistEntry.party_size <= free,
            )
            .order_by(WaitlistEntry.priority.desc(), WaitlistEntry.created_at, WaitlistEntry.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if entry is None or not await seats.hold(session, slot.id, entry.party_size):
            break
        before = audit.snapshot(entry)
        entry.status = NOTIFIED
        entry.offer_slot_id = slot.id
        entry.offered_at = now
        entry.offer_expires_at = expires_at
        await session.flush()
        _audit(session, entry, "offer", None, before)
        await events.waitlist_offer_made(session, entry, slot, tour)
        offered.append(entry)
        free -= entry.party_size
    if offered:
        await session.refresh(slot)
    return offered


async def slot_cancelled(session: AsyncSession, slot_id: uuid.UUID) -> None:
    """Staff cancelled the departure: its offers go back in line, their holds released.

    The entries keep their priority and age, so they are first in line again
    for seats freed on another departure of the same day.
    """
    await _lock_slot(session, slot_id)
    entries = await session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.offer_slot_id == slot_id, WaitlistEntry.status == NOTIFIED)
        .order_by(WaitlistEntry.id)
        .with_for_update()
    )
    for entry in entries:
        before = audit.snapshot(entry)
        await seats.release_hold(session, slot_id, entry.party_size)
        _back_in_line(entry)
        _audit(session, entry, "offer_withdrawn", None, before)
    await session.flush()


# ---------------------------------------------------------------- customers and staff


async def join(session: AsyncSession, data: NewEntry, actor: Actor, now: datetime) -> WaitlistEntry:
    """A customer waits for seats on a tour's day; refused where no booking could follow."""
    tour = await session.get(Tour, data.tour_id)
    if tour is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such tour.", "tourId")
    if not tour.active:
        raise ServiceError.of(Code.TOUR_INACTIVE, "This tour is not offered.", "tourId")
    rules = await config.get_config(session)
    problems: list[Problem] = []
    today = now.astimezone(ZoneInfo(tour.time_zone)).date()
    if data.requested_date < today:
        problems.append(Problem(Code.IN_THE_PAST, "That day has passed.", "date"))
    elif data.requested_date > today + timedelta(days=rules.max_days_ahead):
        problems.append(
            Problem(
                Code.TOO_FAR_AHEAD,
                f"Tours are sold at most {rules.max_days_ahead} days ahead.",
                "date",
            )
        )
    else:
        blackout = await blackouts.blacked_out(session, tour.id, data.requested_date)
        if blackout is not None:
            problems.append(
                Problem(Code.BLACKED_OUT, f"No departures that day ({blackout.name}).", "date")
            )
    low, high = max(rules.party_min, tour.min_party), min(rules.party_max, tour.max_party)
    if not low <= data.party_size <= high:
        problems.append(
            Problem(Code.PARTY_SIZE, f"A party is {low} to {high} people.", "partySize")
        )
    name = data.customer_name.strip()
    if not name:
        problems.append(Problem(Code.REQUIRED, "Give the customer's name.", "customerName"))
    email = normal_email(data.customer_email, "customerEmail")
    if isinstance(email, Problem):
        problems.append(email)
    if len(data.notes) > MAX_NOTES:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"Notes are at most {MAX_NOTES} characters.", "notes")
        )
    if problems or isinstance(email, Problem):
        raise ServiceError(problems)
    waiting = await session.scalar(
        select(WaitlistEntry.id).where(
            WaitlistEntry.tour_id == tour.id,
            WaitlistEntry.requested_date == data.requested_date,
            WaitlistEntry.customer_email == email,
            WaitlistEntry.status.in_(LIVE),
        )
    )
    if waiting is not None:
        raise ServiceError.of(
            Code.CONFLICT, "This e-mail is already on the waitlist for that day.", "date"
        )
    viewer = actor.viewer
    entry = WaitlistEntry(
        tour_id=tour.id,
        requested_date=data.requested_date,
        party_size=data.party_size,
        # a customer's own entry; staff adding someone do not own it
        user_id=None if viewer.is_staff else viewer.user_id,
        customer_name=name,
        customer_email=email,
        customer_phone=data.customer_phone.strip(),
        notes=data.notes.strip(),
        priority=0,
        status=ACTIVE,
    )
    session.add(entry)
    await session.flush()
    _audit(session, entry, "join", viewer, None)
    return entry


async def set_priority(
    session: AsyncSession, entry_id: uuid.UUID, priority: int, *, actor: Actor = SYSTEM
) -> WaitlistEntry:
    """Staff move an entry up or down the line; it counts from the next seats freed."""
    entry = await _lock_entry(session, entry_id)
    if entry is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such waitlist entry.", "id")
    if entry.status not in LIVE:
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"This entry is {entry.status}; it is out of line.", "id"
        )
    if not -1000 <= priority <= 1000:
        raise ServiceError.of(Code.OUT_OF_RANGE, "Priority is -1000 to 1000.", "priority")
    before = audit.snapshot(entry)
    entry.priority = priority
    await session.flush()
    _audit(session, entry, "priority", actor.viewer, before)
    return entry


async def cancel(
    session: AsyncSession,
    entry_id: uuid.UUID,
    viewer: Viewer,
    now: datetime,
    *,
    email: str | None = None,
) -> WaitlistEntry:
    """The customer (or staff) gives up the place; a held offer's seats go to the next in line."""
    entry = await _entry_with_its_slot_locked(session, entry_id, viewer, email, "id")
    WAITLIST.check(entry.status, CANCELLED, "id")
    before = audit.snapshot(entry)
    slot_id = entry.offer_slot_id if entry.status == NOTIFIED else None
    if slot_id is not None:
        await seats.release_hold(session, slot_id, entry.party_size)
        _close_offer(entry)
    entry.status = CANCELLED
    await session.flush()
    _audit(session, entry, "cancel", viewer, before)
    if slot_id is not None:
        await offer_freed_seats(session, slot_id, now)
    return entry


async def accept(
    session: AsyncSession,
    entry_id: uuid.UUID,
    party: OfferParty,
    actor: Actor,
    now: datetime,
    *,
    email: str | None = None,
) -> tuple[WaitlistEntry, Booking]:
    """Book the held seats: the offer becomes a booking at today's price and rules.

    Seats the party does not use are released and offered on by `create_booking`.
    """
    from subgraphs.tours.service import bookings  # H2's module; imported late (it imports us)

    entry = await _entry_with_its_slot_locked(session, entry_id, actor.viewer, email, "entryId")
    if entry.status != NOTIFIED or entry.offer_expires_at is None or entry.offer_expires_at <= now:
        raise ServiceError.of(Code.OFFER_EXPIRED, _closed_offer(entry), "entryId")
    if party.adults < 0 or party.children < 0 or party.infants < 0:
        raise ServiceError.of(Code.INVALID, "Counts cannot be negative.", "adults")
    if party.seats > entry.party_size:
        raise ServiceError.of(
            Code.PARTY_SIZE,
            f"The offer holds {entry.party_size} seats; {party.seats} were asked for.",
            "adults",
        )
    slot_id = entry.offer_slot_id
    if slot_id is None:  # the table's CHECK: a notified entry has its offer's slot
        raise RuntimeError(f"notified waitlist entry {entry.id} without an offer slot")
    before = audit.snapshot(entry)
    booking = await bookings.create_booking(
        session,
        bookings.NewBooking(
            slot_id=slot_id,
            adults=party.adults,
            children=party.children,
            infants=party.infants,
            customer_name=entry.customer_name,
            customer_email=entry.customer_email,
            customer_phone=(
                entry.customer_phone if party.customer_phone is None else party.customer_phone
            ),
            special_requirements=party.special_requirements,
            dietary_restrictions=party.dietary_restrictions,
            accessibility_needs=party.accessibility_needs,
        ),
        actor,
        now=now,
        from_offer=entry,
    )
    _close_offer(entry)
    entry.status = CONVERTED
    entry.converted_at = now
    entry.booking_id = booking.id
    await session.flush()
    _audit(session, entry, "convert", actor.viewer, before)
    return entry, booking


# ---------------------------------------------------------------- the expiry job


async def expire_offers(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Lapse every offer past its hold and offer its seats on; the number expired.

    One transaction per offer, so one slow departure does not hold the others'
    locks, and a rerun (or a second replica running at once) finds nothing
    left to do: each entry is re-read under its locks before it changes.
    """
    async with sessions() as session:
        due = (
            await session.execute(
                select(WaitlistEntry.id, WaitlistEntry.offer_slot_id)
                .where(WaitlistEntry.status == NOTIFIED, WaitlistEntry.offer_expires_at <= now)
                .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)
            )
        ).all()
    expired = 0
    for entry_id, slot_id in due:
        if slot_id is None:  # the table's CHECK: a notified entry has its offer's slot
            continue
        async with sessions() as session, session.begin():
            if await _expire(session, entry_id, slot_id, now):
                expired += 1
    return expired


async def offer_expiry_job(services: Services, due: datetime) -> dict[str, int]:
    """`tours.offer_expiry`: the clock decides what lapsed, not `due` (a late run still works)."""
    return {"expired": await expire_offers(services.sessions, datetime.now(UTC))}


async def _expire(
    session: AsyncSession, entry_id: uuid.UUID, slot_id: uuid.UUID, now: datetime
) -> bool:
    await _lock_slot(session, slot_id)
    entry = await session.scalar(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.id == entry_id,
            WaitlistEntry.status == NOTIFIED,
            WaitlistEntry.offer_slot_id == slot_id,
            WaitlistEntry.offer_expires_at <= now,
        )
        .with_for_update(skip_locked=True)
    )
    if entry is None:  # accepted, cancelled or expired meanwhile, or being handled elsewhere
        return False
    before = audit.snapshot(entry)
    await seats.release_hold(session, slot_id, entry.party_size)
    _close_offer(entry)
    entry.status = EXPIRED
    await session.flush()
    _audit(session, entry, "expire", None, before)
    await offer_freed_seats(session, slot_id, now)
    return True


# ---------------------------------------------------------------- reading


def may_read(viewer: Viewer, entry: WaitlistEntry) -> bool:
    return access.works_bookings(viewer) or access.owns(viewer, entry.user_id)


async def entries_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[WaitlistEntry]:
    """A customer's own entries, the latest day first."""
    rows = await session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user_id)
        .order_by(WaitlistEntry.requested_date.desc(), WaitlistEntry.created_at.desc())
    )
    return rows.all()


async def line_for(
    session: AsyncSession, tour_id: uuid.UUID, day: date, status: str | None = None
) -> Sequence[WaitlistEntry]:
    """A day's waitlist in the order offers are made (staff)."""
    stmt = select(WaitlistEntry).where(
        WaitlistEntry.tour_id == tour_id, WaitlistEntry.requested_date == day
    )
    if status is not None:
        stmt = stmt.where(WaitlistEntry.status == status)
    rows = await session.scalars(
        stmt.order_by(WaitlistEntry.priority.desc(), WaitlistEntry.created_at, WaitlistEntry.id)
    )
    return rows.all()


def normal_email(value: str, field: str) -> str | Problem:
    """E-mail validated and lower-cased whole, so an entry is found by it exactly."""
    text = value.strip()
    if not text:
        return Problem(Code.REQUIRED, "Give an e-mail address.", field)
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return Problem(Code.INVALID, f"E-mail is not valid: {exc}", field)
    return checked.normalized.lower()


# ---------------------------------------------------------------- helpers


def _audit(
    session: AsyncSession,
    entry: WaitlistEntry,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
) -> None:
    """Every entry change in the tours audit log; offers and expiries are the system's (None)."""
    audit.record(
        session,
        entity=audit.WAITLIST_ENTRY,
        entity_id=entry.id,
        tour_id=entry.tour_id,
        action=action,
        actor=actor,
        before=before,
        after=audit.snapshot(entry),
    )


async def _lock_slot(session: AsyncSession, slot_id: uuid.UUID) -> DepartureSlot | None:
    # populate_existing: seat counts change by Core UPDATEs the identity map never sees
    return await session.scalar(
        select(DepartureSlot)
        .where(DepartureSlot.id == slot_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _lock_entry(session: AsyncSession, entry_id: uuid.UUID) -> WaitlistEntry | None:
    return await session.scalar(
        select(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _entry_with_its_slot_locked(
    session: AsyncSession,
    entry_id: uuid.UUID,
    viewer: Viewer,
    email: str | None,
    field: str,
) -> WaitlistEntry:
    """The entry, locked after the slot its offer holds seats on (the one lock order).

    Whoever may not act on it is told it does not exist, like a missing one:
    staff, its owner, or whoever gives its e-mail.
    """
    for _attempt in range(3):
        peek = await session.scalar(
            select(WaitlistEntry.offer_slot_id).where(WaitlistEntry.id == entry_id)
        )
        if peek is not None:
            await _lock_slot(session, peek)
        entry = await _lock_entry(session, entry_id)
        if entry is None or not _may_act(viewer, entry, email):
            raise ServiceError.of(Code.NOT_FOUND, "No such waitlist entry.", field)
        if entry.offer_slot_id is None or entry.offer_slot_id == peek:
            return entry
        # an offer was made between the peek and the lock: take its slot's lock too, re-check
    raise ServiceError.of(Code.CONFLICT, "The entry is changing; try again.", field)


def _may_act(viewer: Viewer, entry: WaitlistEntry, email: str | None) -> bool:
    if access.works_bookings(viewer) or access.owns(viewer, entry.user_id):
        return True
    return email is not None and email.strip().lower() == entry.customer_email.lower() != ""


def _close_offer(entry: WaitlistEntry) -> None:
    """The offer is over (taken, lapsed, given up): no hold any more, its slot kept as history.

    The table allows an expiry only on a notified entry, so the expiry goes.
    """
    entry.offer_expires_at = None


def _clear_offer(entry: WaitlistEntry) -> None:
    entry.offer_slot_id = None
    entry.offered_at = None
    entry.offer_expires_at = None


def _back_in_line(entry: WaitlistEntry) -> None:
    WAITLIST.check(entry.status, ACTIVE, None)
    entry.status = ACTIVE
    _clear_offer(entry)


def _closed_offer(entry: WaitlistEntry) -> str:
    if entry.status == NOTIFIED:
        return "This offer's hold has passed; its seats go to the next in line."
    return f"There is no open offer on this entry (it is {entry.status})."
