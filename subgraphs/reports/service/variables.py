"""A template's variable values: saved defaults, relative dates, and what a run is given.

"Month to date" must mean this month when the report runs, not when it was
saved, so a default (or a schedule's parameter) may be a relative date,
resolved at run time in the operator's time zone (where the business keeps
its calendar):

- `{"relative": "today" | "tomorrow" | "month_start" | "year_start"}` -> a Date
  (`tomorrow` closes a window `[from, to)` that takes today in whole);
- `{"relative": "days_ago", "days": N}` -> the Date N days before today;
- the same names with `_instant` (`month_start_instant`) -> a DateTime at that
  day's local midnight, in UTC on the wire.

Anything else is a plain value, passed as it is. Given parameters override
defaults and must name declared variables.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.scalars import serialize_datetime
from subgraphs.reports.error_codes import ReportsErrorCode as Code

RELATIVE = "relative"
DAYS = "days"
INSTANT = "_instant"
DAYS_AGO = "days_ago"
NAMES = ("today", "tomorrow", "month_start", "year_start", DAYS_AGO)
MAX_DAYS = 3660


def _spec_problem(value: Mapping[str, Any]) -> str | None:
    name = str(value.get(RELATIVE, ""))
    base = name.removesuffix(INSTANT)
    if base not in NAMES:
        known = ", ".join(n for b in NAMES for n in (b, b + INSTANT))
        return f"relative {name!r} is not one of {known}"
    extra = set(value) - {RELATIVE, DAYS}
    if extra:
        return f"unexpected {', '.join(sorted(extra))} beside relative"
    days = value.get(DAYS)
    if base == DAYS_AGO:
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_DAYS:
            return f"days_ago needs `days` from 0 to {MAX_DAYS}"
    elif days is not None:
        return f"`days` goes with days_ago only, not {base}"
    return None


def is_relative(value: Any) -> bool:
    return isinstance(value, Mapping) and RELATIVE in value


def value_problems(
    values: Mapping[str, Any] | None, declared: Collection[str], field: str
) -> list[Problem]:
    """Problems with defaults or parameters: undeclared names, malformed relative dates."""
    if values is None:
        return []
    if not isinstance(values, Mapping):
        return [Problem(Code.INVALID, "An object of variable names to values.", field)]
    problems: list[Problem] = []
    for name, value in values.items():
        if name not in declared:
            known = ", ".join(f"${d}" for d in declared) or "none"
            problems.append(
                Problem(
                    Code.INVALID,
                    f"${name} is not a variable the operation declares (it declares {known}).",
                    field,
                )
            )
        elif is_relative(value) and (why := _spec_problem(value)) is not None:
            problems.append(Problem(Code.INVALID, f"${name}: {why}.", field))
    return problems


def default_problems(
    defaults: Mapping[str, Any] | None, declared: Collection[str]
) -> list[Problem]:
    return value_problems(defaults, declared, "variables")


def _day(now: datetime, tz: ZoneInfo, spec: Mapping[str, Any]) -> date:
    today = now.astimezone(tz).date()
    base = str(spec[RELATIVE]).removesuffix(INSTANT)
    if base == "month_start":
        return today.replace(day=1)
    if base == "year_start":
        return today.replace(month=1, day=1)
    if base == "tomorrow":
        return today + timedelta(days=1)
    if base == DAYS_AGO:
        return today - timedelta(days=int(spec[DAYS]))
    return today


def resolve_value(value: Any, now: datetime, tz: ZoneInfo) -> Any:
    if not is_relative(value):
        return value
    why = _spec_problem(value)
    if why is not None:
        raise ServiceError.of(Code.INVALID, why[0].upper() + why[1:] + ".", "parameters")
    day = _day(now, tz, value)
    if str(value[RELATIVE]).endswith(INSTANT):
        return serialize_datetime(datetime.combine(day, time(0), tzinfo=tz))
    return day.isoformat()


def resolve(
    defaults: Mapping[str, Any] | None,
    given: Mapping[str, Any] | None,
    now: datetime,
    tz: ZoneInfo | str,
    declared: Collection[str] | None = None,
) -> dict[str, Any]:
    """The variables a run sends: defaults overridden by `given`, relative dates resolved.

    With `declared`, a given name the operation does not declare is an
    INVALID user error on `parameters` (nothing runs).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    if declared is not None:
        problems = value_problems(given, declared, "parameters")
        if problems:
            raise ServiceError(problems)
    merged = {**(defaults or {}), **(given or {})}
    return {name: resolve_value(value, now, zone) for name, value in merged.items()}
