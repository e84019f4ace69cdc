"""A tour's month at a glance (issue 15 §4): seats left, departures and a level per day.

For each day of the month:

- `slot_count`: the departures that day that are not cancelled;
- `seats_available`: the seats a customer could book now on them, counted
  only on departures open to booking (an active tour, not closed by staff,
  before the booking cutoff, within the days-ahead limit, not blacked out),
  so a past day or one beyond the sales window shows none, as booking would;
- `level`, from the share of the day's capacity (the sum of its departures'
  maximum capacity) still available:
  BLACKOUT when a blackout closes the day (whatever was sold on it),
  HIGH at 50 % or more, MEDIUM at 20 % or more, LOW above 0,
  NONE at 0 or when the day has no departure.

The month costs a constant number of statements whatever its size: the
tour, the rules, one aggregate over the month's departures grouped by day,
and one over the blackouts.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, and_, cast, false, func, select, true

from subgraphs.tours.models import DepartureSlot, Tour
from subgraphs.tours.service import blackouts, config

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Shares of the day's capacity still available at or above which a day is HIGH, MEDIUM.
HIGH_SHARE = 0.5
MEDIUM_SHARE = 0.2


class Level(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"
    BLACKOUT = "blackout"


@dataclass(frozen=True)
class Day:
    date: date
    seats_available: int
    slot_count: int
    level: Level
    blackout_name: str | None = None


def level_of(seats_available: int, capacity: int, blackout: bool) -> Level:
    if blackout:
        return Level.BLACKOUT
    if capacity <= 0 or seats_available <= 0:
        return Level.NONE
    share = seats_available / capacity
    if share >= HIGH_SHARE:
        return Level.HIGH
    if share >= MEDIUM_SHARE:
        return Level.MEDIUM
    return Level.LOW


async def month(
    session: AsyncSession, tour_id: uuid.UUID, year: int, month: int, now: datetime
) -> list[Day] | None:
    """Every day of the month, in order (days without departures included); None: no such tour."""
    tour = await session.get(Tour, tour_id)
    if tour is None:
        return None
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    rules = await config.get_config(session)
    slot = DepartureSlot
    # the departure's own local "today", so the days-ahead limit reads as booking reads it
    local_today = cast(func.timezone(slot.time_zone, now), Date)
    bookable = and_(
        true() if tour.active else false(),
        slot.available.is_(True),
        slot.starts_at > now + timedelta(hours=rules.cutoff_hours),
        slot.date <= local_today + rules.max_days_ahead,
    )
    rows = (
        await session.execute(
            select(
                slot.date,
                func.count(),
                func.sum(slot.max_capacity),
                func.coalesce(func.sum(slot.seats_available).filter(bookable), 0),
            )
            .where(
                slot.tour_id == tour_id,
                slot.date >= first,
                slot.date <= last,
                slot.cancelled_at.is_(None),
            )
            .group_by(slot.date)
        )
    ).all()
    by_day = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}
    closed = await blackouts.blacked_out_days(session, tour_id, first, last)
    days: list[Day] = []
    day = first
    while day <= last:
        count, capacity, free = by_day.get(day, (0, 0, 0))
        name = closed.get(day)
        if name is not None:
            free = 0  # nothing is sold on a blacked-out day
        days.append(
            Day(
                date=day,
                seats_available=free,
                slot_count=count,
                level=level_of(free, capacity, name is not None),
                blackout_name=name,
            )
        )
        day += timedelta(days=1)
    return days
