"""RFC 5545 recurrence in local wall time, shared by charter series and tour schedules.

A rule is parsed with DTSTART = a NAIVE local start and each occurrence is
turned into an instant in the owner's IANA zone (`to_instant`), so a 07:30
departure stays 07:30 local across DST changes while its UTC offset
changes. A local time that does not exist on a spring-forward day takes the
offset before the change (zoneinfo's fold=0); an ambiguous one the earlier.

Month ends are dateutil's (RFC) semantics: BYMONTHDAY=-1 is each month's
last day; BYMONTHDAY=31 skips months without a 31st. No date arithmetic by
hand, so the 29th-31st never crash.

Accepted: FREQ DAILY, WEEKLY, MONTHLY or YEARLY with the usual BY* parts,
INTERVAL, and COUNT or UNTIL (not both, as RFC 5545 says). Refused: no
FREQ, FREQ finer than DAILY, BYHOUR / BYMINUTE / BYSECOND (one start per
day, at the start's own time), DTSTART or EXDATE lines (the owner has its
own fields for those), and month/day combinations that can never occur
(BYMONTH=2;BYMONTHDAY=30: dateutil would scan to year 9999). UNTIL may be
local (floating), a date (that whole day is included) or UTC with `Z`
(converted to the owner's local time).

Every refusal is a `ServiceError` whose code and field the caller names, so
each subgraph reports it in its own vocabulary (charters' `INVALID_RRULE`
on `rrule`, tours' the same on its schedule input).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, rrule, rrulestr

from subgraphs.kit.errors import ServiceError

MAX_RRULE = 500
MAX_COUNT = 10_000
MAX_INTERVAL = 1_000
ALLOWED_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")
KNOWN_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYSETPOS",
    "WKST",
}
TIME_PARTS = {"BYHOUR", "BYMINUTE", "BYSECOND"}
_UTC_UNTIL = re.compile(r"^(\d{8}T\d{6})Z$")
_DATE_UNTIL = re.compile(r"^\d{8}$")
#: The most days a month can have, leap years included.
_MONTH_DAYS = {
    m: max(calendar.monthrange(2024, m)[1], calendar.monthrange(2023, m)[1]) for m in range(1, 13)
}

RRULE_CODE = "INVALID_RRULE"
ZONE_CODE = "INVALID_TIME_ZONE"


def zone(name: str, *, code: str = ZONE_CODE, field: str = "timeZone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ServiceError.of(code, f"{name!r} is not an IANA time zone.", field) from exc


def to_instant(
    local: datetime, time_zone: str, *, code: str = ZONE_CODE, field: str = "timeZone"
) -> datetime:
    """The UTC instant of a local wall time; the earlier one when ambiguous."""
    return local.replace(tzinfo=zone(time_zone, code=code, field=field), fold=0).astimezone(UTC)


def normalise(
    text: str,
    time_zone: str,
    *,
    code: str = RRULE_CODE,
    field: str = "rrule",
    zone_code: str = ZONE_CODE,
    zone_field: str = "timeZone",
) -> str:
    """The rule as dateutil reads it with a naive DTSTART, or `code` on `field`."""

    def bad(message: str) -> ServiceError:
        return ServiceError.of(code, message, field)

    body = text.strip()
    if len(body) > MAX_RRULE:
        raise bad(f"The rule is longer than {MAX_RRULE} characters.")
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body:
        raise bad("The rule is empty; give e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.")
    if "\n" in body or "\r" in body or ":" in body:
        raise bad("Give one RRULE only: the start and the exceptions have fields of their own.")
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        key = key.strip().upper()
        if not sep or not value.strip():
            raise bad(f"{piece!r} is not NAME=VALUE.")
        if key in parts:
            raise bad(f"{key} is given twice.")
        if key in TIME_PARTS:
            raise bad(f"{key} is not supported: one start per day, at the start's own time.")
        if key not in KNOWN_PARTS:
            raise bad(f"Unknown rule part {key}.")
        parts[key] = value.strip().upper()
    freq = parts.get("FREQ")
    if freq is None:
        raise bad("FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY).")
    if freq not in ALLOWED_FREQS:
        raise bad(f"FREQ={freq} is not supported: use DAILY, WEEKLY, MONTHLY or YEARLY.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise bad("Give COUNT or UNTIL, not both.")
    for key, most in (("COUNT", MAX_COUNT), ("INTERVAL", MAX_INTERVAL)):
        if key in parts and (not parts[key].isdigit() or not 1 <= int(parts[key]) <= most):
            raise bad(f"{key} must be a whole number from 1 to {most}.")
    until = parts.get("UNTIL")
    if until is not None:
        if match := _UTC_UNTIL.match(until):
            local_zone = zone(time_zone, code=zone_code, field=zone_field)
            try:
                instant = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
                local = instant.astimezone(local_zone).replace(tzinfo=None)
            except (ValueError, OverflowError) as exc:
                raise bad(f"UNTIL={until} is not a valid date-time.") from exc
            parts["UNTIL"] = local.strftime("%Y%m%dT%H%M%S")
        elif _DATE_UNTIL.match(until):
            parts["UNTIL"] = f"{until}T235959"
    return ";".join(f"{k}={v}" for k, v in parts.items())


def parse_rule(
    text: str,
    starts_local: datetime,
    time_zone: str,
    *,
    code: str = RRULE_CODE,
    field: str = "rrule",
    zone_code: str = ZONE_CODE,
    zone_field: str = "timeZone",
) -> rrule:
    """Parse an RRULE with DTSTART = the naive local start; `code` on `field` when invalid."""
    if starts_local.tzinfo is not None:
        raise ValueError("starts_local must be naive local time")
    body = normalise(
        text, time_zone, code=code, field=field, zone_code=zone_code, zone_field=zone_field
    )
    try:
        rule = rrulestr(body, dtstart=starts_local)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ServiceError.of(code, f"Not a valid RFC 5545 rule: {exc}.", field) from exc
    if not isinstance(rule, rrule) or getattr(rule, "_freq", None) not in range(DAILY + 1):
        raise ServiceError.of(code, "Not a single daily, weekly, monthly or yearly rule.", field)
    if not _possible(rule):
        raise ServiceError.of(code, "The rule never occurs: no listed month has such a day.", field)
    return rule


def _possible(rule: rrule) -> bool:
    """False for month/day combinations that never occur."""
    # dateutil keeps the expanded parts (implicit ones from DTSTART included) privately.
    months = getattr(rule, "_bymonth", None) or tuple(range(1, 13))
    days = [
        *(getattr(rule, "_bymonthday", None) or ()),
        *(-d for d in getattr(rule, "_bynmonthday", None) or ()),
    ]
    return not days or any(d <= _MONTH_DAYS[m] for m in months for d in days)


def occurrences(rule: rrule, start: datetime, end: datetime) -> list[datetime]:
    """Naive local occurrences in [start, end], oldest first."""
    return list(rule.between(start, end, inc=True))


@dataclass(frozen=True)
class Skipped:
    """A day a generation left out, and why (a reason code and a sentence for people)."""

    day: date
    reason: str
    message: str
