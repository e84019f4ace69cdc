"""`bookingPeaks` (issue 16 §2, peak periods): bookings per local ISO week and weekday.

The counting is tested at the service with plain instants in Chicago: a
Sunday-night booking that is Monday in UTC is a Sunday of the week before,
the window is `[from, to)`, cancelled bookings count, quotes do not, and
empty weeks are listed as 0. Over HTTP: who may read it, the default window,
a bad window, and one statement however many charters.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from db.engine import record_statements
from subgraphs.charters.models import Charter
from subgraphs.charters.service import booking_peaks
from subgraphs.kit.errors import ServiceError

CHICAGO = "America/Chicago"
#: Monday 1 June 2026, 00:00 in Chicago (CDT, UTC-5).
JUNE_1 = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
_numbers = count(1)

PEAKS = """query($from: DateTime, $to: DateTime) { bookingPeaks(from: $from, to: $to) {
  from to byWeek { weekStart bookings } byWeekday { weekday name bookings } } }"""


def charter(status: str, booked_at: datetime | None) -> Charter:
    pickup = JUNE_1 + timedelta(days=90)
    return Charter(
        id=uuid.uuid4(),
        reference=f"CH-2026-{next(_numbers):06d}",
        status=status,
        client_id=uuid.uuid4(),
        trip_type="one_way",
        passenger_count=40,
        pickup_local=pickup.replace(tzinfo=None),
        pickup_time_zone="UTC",
        pickup_at=pickup,
        booked_at=booked_at,
    )


async def add(sessions: Any, *rows: Charter) -> None:
    async with sessions() as session, session.begin():
        session.add_all(rows)


async def june(sessions: Any) -> None:
    await add(
        sessions,
        charter("booked", JUNE_1),  # from itself: Monday, week of 1 June
        charter("cancelled", JUNE_1 + timedelta(days=1, hours=10)),  # Tuesday: demand all the same
        # Sunday 7 June 23:30 in Chicago, already Monday 8 June in UTC.
        charter("confirmed", datetime(2026, 6, 8, 4, 30, tzinfo=UTC)),
        charter("completed", datetime(2026, 6, 16, 15, 0, tzinfo=UTC)),  # Tuesday, week of 15 June
        charter("booked", JUNE_1 + timedelta(weeks=4)),  # `to`: outside
        charter("booked", JUNE_1 - timedelta(minutes=1)),  # Sunday 31 May: outside
        charter("quote", None),
    )


async def test_bookings_are_counted_by_local_week_and_weekday_zero_weeks_included(
    sessions: Any,
) -> None:
    await june(sessions)

    async with sessions() as session:
        peaks = await booking_peaks.booking_peaks(
            session, JUNE_1, JUNE_1 + timedelta(weeks=4), CHICAGO
        )

    assert [(w.week_start, w.bookings) for w in peaks.by_week] == [
        (date(2026, 6, 1), 3),
        (date(2026, 6, 8), 0),
        (date(2026, 6, 15), 1),
        (date(2026, 6, 22), 0),
    ]
    assert [(d.weekday, d.name, d.bookings) for d in peaks.by_weekday] == [
        (1, "Monday", 1),
        (2, "Tuesday", 2),
        (3, "Wednesday", 0),
        (4, "Thursday", 0),
        (5, "Friday", 0),
        (6, "Saturday", 0),
        (7, "Sunday", 1),
    ]


async def test_in_utc_the_sunday_night_booking_is_a_monday_of_the_next_week(sessions: Any) -> None:
    await june(sessions)

    async with sessions() as session:
        peaks = await booking_peaks.booking_peaks(
            session, JUNE_1, JUNE_1 + timedelta(weeks=4), "UTC"
        )

    # 29 June 00:00-05:00 UTC is inside the window: a fifth UTC week.
    assert [w.bookings for w in peaks.by_week] == [2, 1, 1, 0, 0]
    assert [d.bookings for d in peaks.by_weekday] == [2, 2, 0, 0, 0, 0, 0]


def test_every_week_the_window_touches_is_listed_and_to_is_excluded() -> None:
    wednesday = datetime(2026, 6, 3, 17, 0, tzinfo=UTC)

    touched = booking_peaks.weeks_between(wednesday, wednesday + timedelta(days=7), CHICAGO)
    up_to_a_monday = booking_peaks.weeks_between(JUNE_1, JUNE_1 + timedelta(weeks=1), CHICAGO)

    assert touched == [date(2026, 6, 1), date(2026, 6, 8)]
    assert up_to_a_monday == [date(2026, 6, 1)]


def test_the_window_defaults_to_the_365_days_to_now_and_refuses_bad_ones() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    assert booking_peaks.window(None, None, now) == (now - timedelta(days=365), now)
    assert booking_peaks.window(JUNE_1, None, now) == (JUNE_1, now)
    assert booking_peaks.window(None, JUNE_1, now) == (JUNE_1 - timedelta(days=365), JUNE_1)
    for start, end, field in (
        (JUNE_1, JUNE_1, "to"),
        (JUNE_1 - timedelta(days=732), JUNE_1, "from"),
        (JUNE_1.replace(tzinfo=None), JUNE_1 + timedelta(days=1), "from"),
    ):
        with pytest.raises(ServiceError) as refused:
            booking_peaks.window(start, end, now)
        assert refused.value.problems[0].field == field


async def test_managers_read_it_in_one_statement_agents_may_not(
    sessions: Any, staff: Any, as_role: Any
) -> None:
    window = {"from": JUNE_1.isoformat(), "to": (JUNE_1 + timedelta(weeks=4)).isoformat()}
    empty = (await staff(PEAKS, window)).ok()["bookingPeaks"]  # a connection is opened
    with record_statements() as recorder:
        (await staff(PEAKS, window)).ok()
    before = len(recorder.statements)
    await june(sessions)
    with record_statements() as recorder:
        data = (await staff(PEAKS, window)).ok()["bookingPeaks"]
    after = len(recorder.statements)
    support = (await (await as_role("sales_support"))(PEAKS, window)).ok()["bookingPeaks"]
    agent = await (await as_role("sales_agent"))(PEAKS, window)
    dispatcher = await (await as_role("dispatcher"))(PEAKS, window)
    backwards = await staff(PEAKS, {"from": window["to"], "to": window["from"]})
    default = (await staff(PEAKS)).ok()["bookingPeaks"]

    assert [w["bookings"] for w in empty["byWeek"]] == [0, 0, 0, 0]
    assert before == after == 1
    assert data["byWeek"] == [
        {"weekStart": "2026-06-01", "bookings": 3},
        {"weekStart": "2026-06-08", "bookings": 0},
        {"weekStart": "2026-06-15", "bookings": 1},
        {"weekStart": "2026-06-22", "bookings": 0},
    ]
    assert data["byWeekday"][6] == {"weekday": 7, "name": "Sunday", "bookings": 1}
    assert support == data
    assert agent.error_codes == dispatcher.error_codes == ["FORBIDDEN"]
    assert backwards.error_codes == ["BAD_USER_INPUT"]
    default_span = datetime.fromisoformat(default["to"]) - datetime.fromisoformat(default["from"])
    assert default_span == timedelta(days=365)
    assert len(default["byWeekday"]) == 7
