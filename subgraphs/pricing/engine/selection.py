"""Which rules and modifiers apply to a trip, and which rule wins when several do.

A rule applies when the pickup's local date is inside its validity window
and its conditions hold (weekday, date ranges, vehicle types, trip types),
and its scope names this trip (global; the vehicle's type; the trip's hub,
route or client). Among the applicable rules of one type (per vehicle type
for per-vehicle types) one wins: the most specific scope first (client >
route > hub > vehicle type > global), then the highest priority, then the
lowest id, so equal input always picks the same rule. Flat fees and
vehicle-specific amounts are not exclusive: each applicable one is charged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from subgraphs.pricing.engine.inputs import (
    SPECIFICITY,
    Conditions,
    Modifier,
    Rule,
    TripFacts,
)


def conditions_hold(
    conditions: Conditions, trip: TripFacts, vehicle_types: Iterable[uuid.UUID]
) -> bool:
    day = trip.pickup_local.date()
    if conditions.days_of_week and day.isoweekday() not in conditions.days_of_week:
        return False
    if conditions.date_ranges and not any(a <= day <= b for a, b in conditions.date_ranges):
        return False
    if conditions.trip_types and trip.trip_type not in conditions.trip_types:
        return False
    return not conditions.vehicle_types or bool(conditions.vehicle_types & set(vehicle_types))


def _in_window(rule: Rule, day: date) -> bool:
    return (rule.valid_from is None or rule.valid_from <= day) and (
        rule.valid_until is None or day <= rule.valid_until
    )


def _scope_matches(rule: Rule, trip: TripFacts, vehicle_types: frozenset[uuid.UUID]) -> bool:
    match rule.scope:
        case "global":
            return True
        case "vehicle_type":
            return any(str(v) == rule.scope_value for v in vehicle_types)
        case "client":
            return trip.client_id is not None and trip.client_id == rule.scope_value
        case "hub":
            return trip.hub is not None and trip.hub == rule.scope_value
        case "route":
            return trip.route is not None and trip.route == rule.scope_value
    return False


def applicable(
    rules: Iterable[Rule], trip: TripFacts, vehicle_types: frozenset[uuid.UUID]
) -> list[Rule]:
    """Rules that apply to the trip, or to the vehicles of `vehicle_types` in it."""
    day = trip.pickup_local.date()
    return [
        r
        for r in rules
        if _in_window(r, day)
        and _scope_matches(r, trip, vehicle_types)
        and conditions_hold(r.conditions, trip, vehicle_types)
    ]


def winner(rules: Iterable[Rule], rule_type: str) -> Rule | None:
    candidates = [r for r in rules if r.rule_type == rule_type]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (SPECIFICITY[r.scope], r.priority, -r.id.int))


def modifiers_in_force(modifiers: Iterable[Modifier], trip: TripFacts) -> list[Modifier]:
    """Applicable modifiers by descending priority, cut after the first exclusive one."""
    types = frozenset(v.vehicle_type_id for v in trip.vehicles)
    chosen = []
    for m in sorted(modifiers, key=lambda m: (-m.priority, m.id.int)):
        if not conditions_hold(m.conditions, trip, types):
            continue
        if m.hubs and trip.hub not in m.hubs:
            continue
        if m.kind == "asap" and not _within(trip, m.within_hours):
            continue
        chosen.append(m)
        if m.exclusive:
            break
    return chosen


def _within(trip: TripFacts, hours: int | None) -> bool:
    if hours is None or trip.quoted_local is None:
        return False
    lead = trip.pickup_local - trip.quoted_local
    return lead.total_seconds() <= hours * 3600
