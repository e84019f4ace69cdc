"""The booking rules of issue 15 §2, each refusal a user error naming its rule.

Every rule is checked and every broken one reported at once (a customer
fixes a too-large party and a closed departure in one go). The limits come
from `tours_config` (the operator's settings) and the tour's own party
limits; seat counts are not checked here: `seats.reserve` decides them in
the statement that takes the seats, so no check can go stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.service import blackouts

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.models import DepartureSlot, Tour, ToursConfig


@dataclass(frozen=True)
class Party:
    adults: int
    children: int = 0
    infants: int = 0

    @property
    def seats(self) -> int:
        """Everyone takes a seat: an infant is a person on the bus."""
        return self.adults + self.children + self.infants


def party_problems(party: Party, config: ToursConfig, tour: Tour) -> list[Problem]:
    problems: list[Problem] = []
    for name, count in (
        ("adults", party.adults),
        ("children", party.children),
        ("infants", party.infants),
    ):
        if count < 0:
            problems.append(Problem(Code.INVALID, f"{name.capitalize()} cannot be negative.", name))
    if problems:
        return problems
    low = max(config.party_min, tour.min_party)
    high = min(config.party_max, tour.max_party)
    if not low <= party.seats <= high:
        problems.append(
            Problem(
                Code.PARTY_SIZE,
                f"A party on this tour is {low} to {high} people; this one is {party.seats}.",
                "adults",
            )
        )
    if party.infants and not party.adults:
        problems.append(
            Problem(Code.INFANTS_NEED_ADULT, "Infants travel with an adult.", "infants")
        )
    return problems


def departure_problems(
    slot: DepartureSlot, tour: Tour, config: ToursConfig, now: datetime, field: str = "slotId"
) -> list[Problem]:
    """Time rules: not departed, not within the cutoff, not beyond the days-ahead limit.

    Days ahead count calendar days in the departure's own zone, so "90 days
    ahead" means the same to a customer whatever time of day they book.
    """
    problems: list[Problem] = []
    if not tour.active:
        problems.append(Problem(Code.TOUR_INACTIVE, "This tour is not sold any more.", field))
    if slot.starts_at <= now:
        problems.append(Problem(Code.IN_THE_PAST, "This departure has already left.", field))
    elif slot.starts_at - now < timedelta(hours=config.cutoff_hours):
        problems.append(
            Problem(
                Code.BOOKING_CLOSED,
                f"Booking closes {config.cutoff_hours} hours before departure.",
                field,
            )
        )
    today = now.astimezone(ZoneInfo(slot.time_zone)).date()
    if (slot.date - today).days > config.max_days_ahead:
        problems.append(
            Problem(
                Code.TOO_FAR_AHEAD,
                f"Departures are sold at most {config.max_days_ahead} days ahead.",
                field,
            )
        )
    return problems


async def blackout_problems(
    session: AsyncSession, slot: DepartureSlot, field: str = "slotId"
) -> list[Problem]:
    blackout = await blackouts.blacked_out(session, slot.tour_id, slot.date)
    if blackout is None:
        return []
    return [
        Problem(
            Code.BLACKED_OUT, f"{slot.date.isoformat()} is blacked out ({blackout.name}).", field
        )
    ]


async def check(
    session: AsyncSession,
    *,
    slot: DepartureSlot,
    tour: Tour,
    party: Party,
    config: ToursConfig,
    now: datetime,
    more: list[Problem] | None = None,
) -> None:
    """Raise one ServiceError listing every rule the booking breaks (and `more` found by the caller)."""
    problems = [*(more or []), *party_problems(party, config, tour)]
    problems += departure_problems(slot, tour, config, now)
    problems += await blackout_problems(session, slot)
    if problems:
        raise ServiceError(problems)
