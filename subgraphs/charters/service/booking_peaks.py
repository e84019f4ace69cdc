"""Peak periods (issue 16 §2, seed 001 §9): bookings per week and per weekday.

A booking is demand: a charter counts at the instant it was booked
(`Charter.booked_at`), in the window `[from, to)`, whatever became of it since
(cancelled ones included). The calendar is the operator's, so a booking at
23:30 on a Sunday in Chicago is a Sunday and belongs to the week that began
the Monday before, though it is Monday in UTC.

Weeks are ISO weeks (Monday first); every week the window touches is listed,
those without bookings as 0, so a chart's axis has no gaps; all seven
weekdays are listed. One statement whatever the window: counts grouped by the
local week and the local ISO weekday, folded into both lists here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, cast, func, select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: The window when none is given: the year to now.
DEFAULT_WINDOW = timedelta(days=365)
#: The longest window asked at once: two years, for a year-on-year look.
MAX_WINDOW = timedelta(days=731)
#: ISO weekday (1 = Monday) to its English name.
WEEKDAY_NAMES = {number: calendar.day_name[number - 1] for number in range(1, 8)}


@dataclass(frozen=True)
class WeekCount:
    #: The Monday the ISO week begins on, in the operator's time zone.
    week_start: date
    bookings: int


@dataclass(frozen=True)
class WeekdayCount:
    #: ISO weekday: 1 = Monday .. 7 = Sunday.
    weekday: int
    name: str
    bookings: int


@dataclass(frozen=True)
class BookingPeaks:
    start: datetime
    end: datetime
    by_week: list[WeekCount]
    by_weekday: list[WeekdayCount]


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """`[from, to)`: the `DEFAULT_WINDOW` to `to` (default now) unless `from` is given."""
    end = end or now
    start = start or end - DEFAULT_WINDOW
    for value, field in ((start, "from"), (end, "to")):
        if value.tzinfo is None:
            raise ServiceError.of(Code.INVALID, f"`{field}` needs a time zone offset.", field)
    if end <= start:
        raise ServiceError.of(Code.OUT_OF_RANGE, "`to` must be after `from`.", "to")
    if end - start > MAX_WINDOW:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, f"The window is at most {MAX_WINDOW.days} days long.", "from"
        )
    return start, end


def monday_of(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def weeks_between(start: datetime, end: datetime, time_zone: str) -> list[date]:
    """The Mondays of every local week `[start, end)` touches, ascending."""
    zone = ZoneInfo(time_zone)
    first = monday_of(start.astimezone(zone).date())
    # `end` is excluded: the last instant inside the window decides the last week.
    last = monday_of((end - timedelta(microseconds=1)).astimezone(zone).date())
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


async def booking_peaks(
    session: AsyncSession, start: datetime, end: datetime, time_zone: str
) -> BookingPeaks:
    """Bookings made in `[start, end)` by local ISO week and by local weekday."""
    # The local wall time once, in a subquery: grouping by expressions that each bind the
    # zone would be two different expressions to PostgreSQL.
    booked = (
        select(func.timezone(time_zone, Charter.booked_at).label("local"))
        .where(
            Charter.is_template.is_(False),
            Charter.booked_at >= start,
            Charter.booked_at < end,
        )
        .subquery()
    )
    week = cast(func.date_trunc("week", booked.c.local), Date).label("week")
    weekday = cast(func.extract("isodow", booked.c.local), Integer).label("weekday")
    rows = await session.execute(select(week, weekday, func.count()).group_by(week, weekday))
    per_week: dict[date, int] = {}
    per_weekday: dict[int, int] = {}
    for week_start, day, count in rows.all():
        per_week[week_start] = per_week.get(week_start, 0) + int(count)
        per_weekday[int(day)] = per_weekday.get(int(day), 0) + int(count)
    return BookingPeaks(
        start=start,
        end=end,
        by_week=[
            WeekCount(monday, per_week.get(monday, 0))
            for monday in weeks_between(start, end, time_zone)
        ],
        by_weekday=[
            WeekdayCount(number, name, per_weekday.get(number, 0))
            for number, name in WEEKDAY_NAMES.items()
        ],
    )
