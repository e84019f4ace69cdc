"""Hours of service for passenger carriers (FMCSA 49 CFR 395.5), as a second-driver check.

A passenger-carrying driver may drive at most 10 hours after 8 consecutive
hours off duty, may not drive after 15 hours on duty, and may not drive
after 60 hours on duty in 7 consecutive days (70 in 8 for carriers that
operate every day). A trip that would break a limit with one driver needs
a second driver: the recommendation carries the reasons, and the second
driver is a priced line (`second_driver_rate`).

The trip is judged as planned, not as driven: driving hours are the
trip's miles at the configured average speed, on-duty hours the span from
pickup to end, spread evenly over the trip's duty days (a multi-day trip
rests overnight). The limits are data (`HoursRules`), so an operator under
another regime configures its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class HoursRules:
    max_driving_hours: Decimal = Decimal(10)
    max_on_duty_hours: Decimal = Decimal(15)
    #: (hours, days): at most this many on-duty hours in this many consecutive days.
    cycle_hours: Decimal = Decimal(60)
    cycle_days: int = 7
    #: Miles per hour used to turn the trip's miles into driving time.
    average_speed_mph: Decimal = Decimal(50)


@dataclass(frozen=True)
class SecondDriver:
    needed: bool
    driving_hours: Decimal
    on_duty_hours: Decimal
    reasons: tuple[str, ...]


def _h(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "f")


def second_driver(
    miles: Decimal, on_duty_hours: Decimal, days: int, rules: HoursRules
) -> SecondDriver:
    days = max(days, 1)
    driving = miles / rules.average_speed_mph if rules.average_speed_mph > 0 else Decimal(0)
    per_day_driving = driving / days
    per_day_duty = on_duty_hours / days
    reasons = []
    if per_day_driving > rules.max_driving_hours:
        reasons.append(
            f"{_h(per_day_driving)} h of driving a day is over the {_h(rules.max_driving_hours)} h limit."
        )
    if per_day_duty > rules.max_on_duty_hours:
        reasons.append(
            f"{_h(per_day_duty)} h on duty a day is over the {_h(rules.max_on_duty_hours)} h limit."
        )
    if days <= rules.cycle_days and on_duty_hours > rules.cycle_hours:
        reasons.append(
            f"{_h(on_duty_hours)} h on duty in {days} days is over {_h(rules.cycle_hours)} h "
            f"in {rules.cycle_days} days."
        )
    return SecondDriver(bool(reasons), driving, on_duty_hours, tuple(reasons))
