"""Can this party go on this tour that day? (issue 15 §4, seed 004's check_availability).

The answer is the departures a booking made now would get, by the same
rules `bookTour` applies (`booking_rules`): the tour active, the party within
limits, the day not blacked out, the departure not cancelled nor closed by
staff, before the booking cutoff, within the days-ahead limit, with seats
for everyone (infants take seats too). It is advice, not a reservation:
seats are only taken by booking.

When nothing fits, one reason is given, the first that applies in this
order: TOUR_INACTIVE, PARTY_SIZE, BLACKED_OUT, NO_DEPARTURES (none that
day, or none at the time asked), SOLD_OUT (departures still open for
booking, none with the seats), TOO_FAR_AHEAD (every departure beyond the
days-ahead limit), BOOKING_CLOSED (every departure past its cutoff or gone).

The waitlist is open exactly when the answer is SOLD_OUT: the day has
departures still open for booking and none fits, so seats freed later could
be offered to the party. A departure that staff closed counts as open here
(re-opening it offers its seats to the waitlist).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import DepartureSlot, Tour
from subgraphs.tours.service import blackouts, booking_rules, config

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: The one reason that is not also a booking's user error code.
NO_DEPARTURES = "NO_DEPARTURES"


@dataclass(frozen=True)
class Availability:
    available: bool
    #: Departures the party could book now, earliest first.
    slots: list[DepartureSlot] = field(default_factory=list)
    reason_code: str | None = None
    reason: str | None = None
    waitlist_open: bool = False


def _no(code: str, reason: str, *, waitlist_open: bool = False) -> Availability:
    return Availability(
        available=False, reason_code=code, reason=reason, waitlist_open=waitlist_open
    )


async def check(
    session: AsyncSession,
    tour_id: uuid.UUID,
    day: date,
    party_size: int,
    now: datetime,
    at: time | None = None,
) -> Availability | None:
    """The departures that fit, or why none does; None for an unknown tour."""
    tour = await session.get(Tour, tour_id)
    if tour is None:
        return None
    if not tour.active:
        return _no(Code.TOUR_INACTIVE, "This tour is not offered.")
    rules = await config.get_config(session)
    party = booking_rules.party_problems(booking_rules.Party(adults=party_size), rules, tour)
    if party:
        return _no(Code.PARTY_SIZE, party[0].message)
    blackout = await blackouts.blacked_out(session, tour.id, day)
    if blackout is not None:
        return _no(Code.BLACKED_OUT, f"{day.isoformat()} is blacked out ({blackout.name}).")
    stmt = select(DepartureSlot).where(
        DepartureSlot.tour_id == tour.id,
        DepartureSlot.date == day,
        DepartureSlot.cancelled_at.is_(None),
    )
    if at is not None:
        stmt = stmt.where(DepartureSlot.local_start == at)
    # populate_existing: seat counts change by Core UPDATEs the identity map never sees
    stmt = stmt.order_by(DepartureSlot.starts_at).execution_options(populate_existing=True)
    departures = (await session.scalars(stmt)).all()
    if not departures:
        when = f" at {at.strftime('%H:%M')}" if at is not None else ""
        return _no(NO_DEPARTURES, f"This tour has no departure on {day.isoformat()}{when}.")
    timely: list[DepartureSlot] = []
    too_far = 0
    for slot in departures:
        problems = booking_rules.departure_problems(slot, tour, rules, now)
        if not problems:
            timely.append(slot)
        elif all(p.code == Code.TOO_FAR_AHEAD for p in problems):
            too_far += 1
    fitting = [s for s in timely if s.available and s.seats_available >= party_size]
    if fitting:
        return Availability(available=True, slots=fitting)
    if timely:
        return _no(
            Code.SOLD_OUT,
            f"No departure that day has {party_size} seats left; join the waitlist.",
            waitlist_open=True,
        )
    if too_far == len(departures):
        return _no(
            Code.TOO_FAR_AHEAD,
            f"Departures are sold at most {rules.max_days_ahead} days ahead.",
        )
    return _no(
        Code.BOOKING_CLOSED,
        f"Booking closes {rules.cutoff_hours} hours before departure.",
    )
