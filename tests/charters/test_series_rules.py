"""Recurrence rules of charter series, at the service level (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from subgraphs.charters.service.series import (
    InstanceChanges,
    instance_change,
    occurrence_instant,
    occurrences,
    parse_rule,
)
from subgraphs.kit.errors import ServiceError

CHICAGO = "America/Chicago"
NEW_YORK = "America/New_York"


def _dates(rule_text: str, start: datetime, end: datetime | None = None) -> list[date]:
    rule = parse_rule(rule_text, start, CHICAGO)
    return [o.date() for o in occurrences(rule, start, end or start + timedelta(days=3650))]


def test_weekly_0730_stays_0730_local_across_both_us_dst_changes():
    # Given a Monday 07:30 series in New York from before the March 2026 change
    # (Sun 8 March) to after the November 2026 change (Sun 1 November)
    start = datetime(2026, 3, 2, 7, 30)
    rule = parse_rule("FREQ=WEEKLY;BYDAY=MO;UNTIL=20261109", start, NEW_YORK)

    # When its occurrences become instants
    local = occurrences(rule, start, datetime(2027, 1, 1))
    instants = {o.date(): occurrence_instant(o, NEW_YORK) for o in local}

    # Then every one is 07:30 local, and the UTC time follows the offset
    assert {o.time() for o in local} == {time(7, 30)}
    assert instants[date(2026, 3, 2)] == datetime(2026, 3, 2, 12, 30, tzinfo=UTC)  # EST -5
    assert instants[date(2026, 3, 9)] == datetime(2026, 3, 9, 11, 30, tzinfo=UTC)  # EDT -4
    assert instants[date(2026, 10, 26)] == datetime(2026, 10, 26, 11, 30, tzinfo=UTC)  # EDT
    assert instants[date(2026, 11, 2)] == datetime(2026, 11, 2, 12, 30, tzinfo=UTC)  # EST
    assert instants[date(2026, 11, 9)] == datetime(2026, 11, 9, 12, 30, tzinfo=UTC)
    assert len(local) == 37


def test_last_day_of_month_gives_31_28_31_30_and_29_in_a_leap_year():
    start = datetime(2026, 1, 1, 7, 30)

    days = _dates("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4", start)
    leap = _dates("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=2", datetime(2028, 1, 1, 7, 30))

    assert days == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert leap == [date(2028, 1, 31), date(2028, 2, 29)]


def test_bymonthday_31_skips_months_without_a_31st():
    days = _dates("FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20261231", datetime(2026, 1, 1, 7, 30))

    assert [d.month for d in days] == [1, 3, 5, 7, 8, 10, 12]
    assert {d.day for d in days} == {31}


def test_monthly_from_the_30th_skips_february_without_crashing():
    days = _dates("FREQ=MONTHLY;COUNT=3", datetime(2026, 1, 30, 9, 0))

    assert days == [date(2026, 1, 30), date(2026, 3, 30), date(2026, 4, 30)]


def test_count_and_until_bound_the_series():
    start = datetime(2026, 6, 1, 8, 0)  # a Monday

    counted = _dates("FREQ=DAILY;COUNT=3", start)
    until = _dates("RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20260610", start)

    assert counted == [date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)]
    # A date-only UNTIL includes that whole day (the 10th is a Wednesday).
    assert until == [
        date(2026, 6, 1),
        date(2026, 6, 3),
        date(2026, 6, 5),
        date(2026, 6, 8),
        date(2026, 6, 10),
    ]


def test_utc_until_is_read_in_the_series_zone():
    # 2026-06-03T12:00Z is 07:00 in Chicago: before that day's 08:00 pickup.
    start = datetime(2026, 6, 1, 8, 0)
    rule = parse_rule("FREQ=DAILY;UNTIL=20260603T120000Z", start, CHICAGO)

    assert [o.date() for o in occurrences(rule, start, datetime(2026, 7, 1))] == [
        date(2026, 6, 1),
        date(2026, 6, 2),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "BYDAY=MO;COUNT=3",  # no FREQ
        "FREQ=HOURLY;COUNT=3",
        "FREQ=MINUTELY",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=DAILY;COUNT=3;UNTIL=20260101",
        "FREQ=DAILY;BYHOUR=7,9",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;FOO=1",
        "DTSTART:20260101T000000\nRRULE:FREQ=DAILY",
        "FREQ=DAILY;COUNT=2\nEXDATE:20260101",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYMONTH=4,6;BYMONTHDAY=31",
        "FREQ=DAILY;INTERVAL=99999999999",
        "FREQ=DAILY;COUNT=10001",
        "FREQ=DAILY;UNTIL=00010101T000000Z",
        "FREQ=DAILY;COUNT=2;" + "BYMONTH=1;" * 100,
    ],
)
def test_invalid_rules_are_invalid_rrule_on_the_rrule_field(text):
    with pytest.raises(ServiceError) as caught:
        parse_rule(text, datetime(2026, 1, 1, 7, 30), CHICAGO)

    assert [(p.code, p.field) for p in caught.value.problems] == [("INVALID_RRULE", "rrule")]


def test_this_and_following_moves_pickup_end_and_stops_in_local_time():
    # Given an instance on the day after the November change, 07:30 local
    snap = {
        "pickup_local": "2026-11-02T07:30:00",
        "pickup_time_zone": CHICAGO,
        "ends_at": "2026-11-02T17:30:00+00:00",
        "passenger_count": 40,
        "notes": None,
        "stops": [
            {"planned_arrival": None, "planned_departure": "2026-11-02T13:30:00+00:00"},
            {"planned_arrival": "2026-11-02T15:00:00+00:00", "planned_departure": None},
        ],
        "vehicles": [],
    }

    # When its pickup becomes 09:00 and it gets 30 passengers
    after = instance_change(InstanceChanges(pickup_time=time(9, 0), passenger_count=30))(snap)

    # Then everything moved 90 minutes; the original is untouched
    assert after["pickup_local"] == "2026-11-02T09:00:00"
    assert after["ends_at"] == "2026-11-02T19:00:00+00:00"
    assert after["stops"][0]["planned_departure"] == "2026-11-02T15:00:00+00:00"
    assert after["stops"][1]["planned_arrival"] == "2026-11-02T16:30:00+00:00"
    assert after["passenger_count"] == 30
    assert snap["stops"][0]["planned_departure"] == "2026-11-02T13:30:00+00:00"
