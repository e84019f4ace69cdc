"""Availability and the month calendar (issue 15 §4): anyone may ask, nothing is reserved."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError, NotFoundError
from subgraphs.kit.ids import require_uuid
from subgraphs.tours.service import availability, calendar
from subgraphs.tours.types.calendar import (
    AvailabilityLevel,
    TourAvailability,
    TourCalendar,
    TourCalendarDay,
)
from subgraphs.tours.types.catalogue import DepartureSlot

MIN_YEAR, MAX_YEAR = 2000, 2100


def _local_time(value: str) -> time:
    try:
        parsed = datetime.strptime(value.strip(), "%H:%M")
    except ValueError:
        raise BadUserInputError(f"time {value!r} is not a local time HH:MM.") from None
    return parsed.time()


@strawberry.type
class CalendarQueries:
    @strawberry.field(
        description="Can a party of `partySize` (infants included) book the tour that day (at "
        "`time`, HH:MM local, if given)? The departures that fit, or the first reason none "
        "does, and whether the waitlist is open."
    )
    async def availability(
        self,
        info: Info,
        tour_id: strawberry.ID,
        date: date,
        party_size: int = 1,
        time: str | None = None,
    ) -> TourAvailability:
        key = require_uuid(tour_id, "Tour")
        at = _local_time(time) if time is not None else None
        async with info.context.sessions() as session:
            found = await availability.check(session, key, date, party_size, datetime.now(UTC), at)
        if found is None:
            raise NotFoundError("Tour", tour_id)
        return TourAvailability(
            available=found.available,
            reason=found.reason,
            reason_code=found.reason_code,
            slots=[DepartureSlot.from_row(s) for s in found.slots],
            waitlist_open=found.waitlist_open,
        )

    @strawberry.field(
        description="A tour's month: per day the seats bookable now, the departures and a "
        "level (HIGH >= 50 % of the day's capacity still bookable, MEDIUM >= 20 %, LOW > 0, "
        "NONE 0 or no departures, BLACKOUT)."
    )
    async def tour_calendar(
        self, info: Info, tour_id: strawberry.ID, year: int, month: int
    ) -> TourCalendar:
        key = require_uuid(tour_id, "Tour")
        if not 1 <= month <= 12 or not MIN_YEAR <= year <= MAX_YEAR:
            raise BadUserInputError(f"A month 1-12 of a year {MIN_YEAR}-{MAX_YEAR}.")
        async with info.context.sessions() as session:
            days = await calendar.month(session, key, year, month, datetime.now(UTC))
        if days is None:
            raise NotFoundError("Tour", tour_id)
        return TourCalendar(
            tour_id=strawberry.ID(str(key)),
            year=year,
            month=month,
            days=[
                TourCalendarDay(
                    date=d.date,
                    seats_available=d.seats_available,
                    slot_count=d.slot_count,
                    level=AvailabilityLevel(d.level.value),
                    blackout_name=d.blackout_name,
                )
                for d in days
            ],
        )
