"""A schedule's recurrence as one RFC 5545 rule, so every kind is generated the same way.

The named kinds are rules too (DTSTART = `valid_from` at `start_time`, local):
- NONE: the one departure on `valid_from` (COUNT=1).
- DAILY: FREQ=DAILY.
- WEEKLY: FREQ=WEEKLY;BYDAY=<weekdays>.
- BIWEEKLY: FREQ=WEEKLY;INTERVAL=2;BYDAY=<weekdays>, fortnights counted from
  the week of `valid_from` (its Monday: WKST=MO).
- MONTHLY: FREQ=MONTHLY;BYMONTHDAY=<valid_from's day>: a schedule starting
  on the 31st runs only in months with a 31st (RFC 5545), never crashes.
- CUSTOM: the schedule's own `rrule`, parsed by the same code as charter
  series (`subgraphs/kit/recurrence.py`).
`valid_until` bounds every kind (the whole day included). The rule is
evaluated in naive local time and each occurrence becomes an instant in the
schedule's zone, so 09:00 stays 09:00 across DST changes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule

from subgraphs.kit import recurrence
from subgraphs.tours.error_codes import ToursErrorCode as Code

WEEKDAY_CODES = {1: "MO", 2: "TU", 3: "WE", 4: "TH", 5: "FR", 6: "SA", 7: "SU"}
NEEDS_WEEKDAYS = ("weekly", "biweekly")


def rule_text(kind: str, weekdays: list[int], valid_from: date, rrule_text: str | None) -> str:
    """The RFC 5545 rule of a named kind (a custom one's own text, as given)."""
    days = ",".join(WEEKDAY_CODES[d] for d in sorted(set(weekdays)))
    if kind == "none":
        return "FREQ=DAILY;COUNT=1"
    if kind == "daily":
        return "FREQ=DAILY"
    if kind == "weekly":
        return f"FREQ=WEEKLY;BYDAY={days}"
    if kind == "biweekly":
        return f"FREQ=WEEKLY;INTERVAL=2;WKST=MO;BYDAY={days}"
    if kind == "monthly":
        return f"FREQ=MONTHLY;BYMONTHDAY={valid_from.day}"
    if kind == "custom":
        return rrule_text or ""
    raise ValueError(f"unknown recurrence {kind!r}")


def parse(
    kind: str,
    weekdays: list[int],
    valid_from: date,
    start_time: time,
    time_zone: str,
    rrule_text: str | None,
) -> rrule:
    """The schedule's rule; INVALID_RRULE on `rrule`, an unknown zone INVALID on `timeZone`."""
    return recurrence.parse_rule(
        rule_text(kind, weekdays, valid_from, rrule_text),
        datetime.combine(valid_from, start_time),
        time_zone,
        code=Code.INVALID_RRULE,
        field="rrule",
        zone_code=Code.INVALID,
        zone_field="timeZone",
    )


def local_starts(rule: rrule, valid_until: date | None, start: date, end: date) -> list[datetime]:
    """The rule's naive local starts on days in [start, end] and up to `valid_until`."""
    last = min(end, valid_until) if valid_until is not None else end
    if last < start:
        return []
    first = datetime.combine(start, time.min)
    upto = datetime.combine(last, time.max)
    return recurrence.occurrences(rule, first, upto)


def zone_of(name: str) -> ZoneInfo:
    return recurrence.zone(name, code=Code.INVALID, field="timeZone")


def instant(local: datetime, time_zone: str) -> datetime:
    return recurrence.to_instant(local, time_zone, code=Code.INVALID, field="timeZone")


def end_of(starts_at: datetime, minutes: int) -> datetime:
    return starts_at + timedelta(minutes=minutes)
