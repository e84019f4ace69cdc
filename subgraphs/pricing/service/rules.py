"""The price list's rules: validated, conflict-checked, and every edit kept field by field.

Managers and admins edit rules (`access.EDIT_PRICE_LIST`). A rule names
vehicle types and hubs pricing knows (`facts`), its value fits its type
(rates are never negative; a percentage stays within -100..100; a factor
within 0..10), and it may not conflict with another active rule: two rules
of one single-winner type, scope and priority whose validity windows and
conditions overlap would leave the engine to pick by id, so the second is
refused and the manager chooses a priority. Every create and update writes
one `RuleChange` per field (who, when, field, old, new).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.pricing.engine.inputs import RULE_TYPES, SCOPES, Conditions, Rule
from subgraphs.pricing.error_codes import PricingErrorCode as Code
from subgraphs.pricing.models import Hub, PricingRule, RuleChange, VehicleTypeFact
from subgraphs.pricing.service.access import EDIT_PRICE_LIST

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: The trip types charters knows (its `TripType`); pricing conditions name the same.
TRIP_TYPES = ("one_way", "round_trip", "overnight", "multi_day", "local", "shuttle", "event")
#: Types where one rule wins; the others (fees) are all charged, so they cannot conflict.
SINGLE_WINNER = frozenset(RULE_TYPES) - {"flat_fee", "vehicle_specific"}
FACTORS = frozenset({"time_multiplier", "seasonal"})
PERCENTAGES = frozenset({"client_specific"})
MAX_NAME = 200
#: Service field names as the GraphQL input names them (userErrors, history).
INPUT_NAMES = {
    "name": "name",
    "rule_type": "type",
    "scope": "scope",
    "scope_value": "scopeValue",
    "value": "value",
    "priority": "priority",
    "valid_from": "validFrom",
    "valid_until": "validUntil",
    "days_of_week": "daysOfWeek",
    "date_ranges": "dateRanges",
    "vehicle_type_ids": "vehicleTypeIds",
    "trip_types": "tripTypes",
    "active": "active",
}


@dataclass
class RuleInput:
    """A rule's editable fields; None on update means "leave as is"."""

    name: str | None = None
    rule_type: str | None = None
    scope: str | None = None
    scope_value: str | None = None
    value: Decimal | None = None
    priority: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    days_of_week: list[int] | None = None
    date_ranges: list[tuple[date, date]] | None = None
    vehicle_type_ids: list[uuid.UUID] | None = None
    trip_types: list[str] | None = None
    active: bool | None = None
    #: Fields to clear (set to null): validFrom, validUntil.
    clear: set[str] = field(default_factory=set)


def ensure_editor(actor: Viewer) -> None:
    if not actor.has_any_role(*EDIT_PRICE_LIST):
        raise ServiceError.of(Code.FORBIDDEN, "Only managers and admins edit the price list.")


def _stored(d: RuleInput) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(d):
        if f.name == "clear":
            continue
        value = getattr(d, f.name)
        if value is None:
            continue
        if f.name == "date_ranges":
            value = [{"from": a.isoformat(), "until": b.isoformat()} for a, b in value]
        elif f.name == "name":
            value = " ".join(value.split())
        elif f.name in ("days_of_week", "trip_types"):
            value = sorted(set(value))
        elif f.name == "vehicle_type_ids":
            value = sorted(set(value), key=str)
        out[f.name] = value
    for name in d.clear:
        out[name] = None
    return out


def _value_problems(rule_type: str, value: Decimal) -> list[Problem]:
    if rule_type in FACTORS and not Decimal(0) < value <= Decimal(10):
        return [
            Problem(
                Code.OUT_OF_RANGE, "A factor is above 0 and at most 10 (1.25 is +25 %).", "value"
            )
        ]
    if rule_type in PERCENTAGES and not Decimal(-100) <= value <= Decimal(100):
        return [Problem(Code.OUT_OF_RANGE, "A percentage is between -100 and 100.", "value")]
    if rule_type not in FACTORS | PERCENTAGES and value < 0:
        return [Problem(Code.OUT_OF_RANGE, "A rate or amount cannot be negative.", "value")]
    if abs(value) >= Decimal(10) ** 8:
        return [Problem(Code.OUT_OF_RANGE, "The value is too large.", "value")]
    return []


async def _problems(session: AsyncSession, rule: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    name = rule.get("name") or ""
    if not name:
        problems.append(Problem(Code.REQUIRED, "A rule needs a name.", "name"))
    elif len(name) > MAX_NAME:
        problems.append(Problem(Code.TOO_LONG, f"Longer than {MAX_NAME} characters.", "name"))
    rule_type, scope, scope_value = (
        rule.get("rule_type"),
        rule.get("scope"),
        rule.get("scope_value"),
    )
    if rule_type not in RULE_TYPES:
        problems.append(Problem(Code.INVALID, f"Unknown rule type {rule_type!r}.", "type"))
    elif rule.get("value") is None:
        problems.append(Problem(Code.REQUIRED, "A rule needs a value.", "value"))
    else:
        problems += _value_problems(rule_type, rule["value"])
    if scope not in SCOPES:
        problems.append(Problem(Code.INVALID, f"Unknown scope {scope!r}.", "scope"))
    elif scope == "global" and scope_value is not None:
        problems.append(Problem(Code.INVALID, "A global rule names no scope value.", "scopeValue"))
    elif scope != "global" and not scope_value:
        problems.append(Problem(Code.REQUIRED, f"A {scope} rule names its {scope}.", "scopeValue"))
    elif scope == "vehicle_type":
        problems += await _known_vehicle_types(session, [scope_value], "scopeValue")
    elif scope == "client":
        try:
            uuid.UUID(scope_value)
        except ValueError:
            problems.append(
                Problem(Code.INVALID, "A client scope names a client id.", "scopeValue")
            )
    elif scope in ("hub", "route"):
        codes = scope_value.split("-") if scope == "route" else [scope_value]
        if scope == "route" and len(codes) != 2:
            problems.append(
                Problem(Code.INVALID, "A route is two hub codes: MEM-BNA.", "scopeValue")
            )
        else:
            problems += await _known_hubs(session, codes, "scopeValue")
    a, b = rule.get("valid_from"), rule.get("valid_until")
    if a is not None and b is not None and a > b:
        problems.append(Problem(Code.INVALID, "The window ends before it starts.", "validUntil"))
    if any(not 1 <= d <= 7 for d in rule.get("days_of_week") or []):
        problems.append(
            Problem(Code.OUT_OF_RANGE, "Days are 1 (Monday) to 7 (Sunday).", "daysOfWeek")
        )
    for r in rule.get("date_ranges") or []:
        if r["from"] > r["until"]:
            problems.append(
                Problem(Code.INVALID, "A date range ends before it starts.", "dateRanges")
            )
            break
    unknown = sorted(set(rule.get("trip_types") or []) - set(TRIP_TYPES))
    if unknown:
        problems.append(Problem(Code.INVALID, f"Unknown trip types {unknown}.", "tripTypes"))
    problems += await _known_vehicle_types(
        session, rule.get("vehicle_type_ids") or [], "vehicleTypeIds"
    )
    return problems


async def _known_vehicle_types(
    session: AsyncSession, ids: list[Any], field_name: str
) -> list[Problem]:
    wanted = set()
    for raw in ids:
        try:
            wanted.add(raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw)))
        except ValueError:
            return [
                Problem(Code.UNKNOWN_VEHICLE_TYPE, f"{raw!r} is not a vehicle type id.", field_name)
            ]
    if not wanted:
        return []
    known = set(
        await session.scalars(
            select(VehicleTypeFact.id).where(VehicleTypeFact.id.in_(wanted), VehicleTypeFact.active)
        )
    )
    missing = sorted(str(v) for v in wanted - known)
    if missing:
        return [Problem(Code.UNKNOWN_VEHICLE_TYPE, f"Unknown vehicle types {missing}.", field_name)]
    return []


async def _known_hubs(session: AsyncSession, codes: list[str], field_name: str) -> list[Problem]:
    known = set(await session.scalars(select(Hub.code).where(Hub.code.in_(codes))))
    missing = sorted(set(codes) - known)
    if missing:
        return [Problem(Code.UNKNOWN_HUB, f"Unknown hubs {missing}.", field_name)]
    return []


def _overlaps(a: PricingRule, b: dict[str, Any]) -> bool:
    """Whether two rules could both apply to one trip (same type, scope and priority given)."""
    a_from, a_until = a.valid_from or date.min, a.valid_until or date.max
    b_from, b_until = b.get("valid_from") or date.min, b.get("valid_until") or date.max
    if a_until < b_from or b_until < a_from:
        return False
    for mine, theirs in (
        (set(a.days_of_week or []), set(b.get("days_of_week") or [])),
        (
            {str(v) for v in a.vehicle_type_ids or []},
            {str(v) for v in b.get("vehicle_type_ids") or []},
        ),
        (set(a.trip_types or []), set(b.get("trip_types") or [])),
    ):
        if mine and theirs and not mine & theirs:
            return False
    ranges_a = [(r["from"], r["until"]) for r in a.date_ranges or []]
    ranges_b = [(r["from"], r["until"]) for r in b.get("date_ranges") or []]
    if ranges_a and ranges_b:
        return any(x0 <= y1 and y0 <= x1 for x0, x1 in ranges_a for y0, y1 in ranges_b)
    return True


async def _conflicts(
    session: AsyncSession, rule: dict[str, Any], rule_id: uuid.UUID | None
) -> list[Problem]:
    if rule["rule_type"] not in SINGLE_WINNER or not rule.get("active", True):
        return []
    stmt = select(PricingRule).where(
        PricingRule.rule_type == rule["rule_type"],
        PricingRule.scope == rule["scope"],
        PricingRule.scope_value.is_not_distinct_from(rule.get("scope_value")),
        PricingRule.priority == rule.get("priority", 0),
        PricingRule.active,
    )
    if rule_id is not None:
        stmt = stmt.where(PricingRule.id != rule_id)
    for other in await session.scalars(stmt.with_for_update()):
        if _overlaps(other, rule):
            return [
                Problem(
                    Code.CONFLICT,
                    f"Rule {other.name!r} ({other.id}) has the same type, scope and priority and "
                    "can apply to the same trips: give one a different priority.",
                    "priority",
                )
            ]
    return []


def _history(
    session: AsyncSession,
    rule_id: uuid.UUID,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: Viewer,
) -> int:
    count = 0
    for key in INPUT_NAMES:
        old, new = _text(before.get(key)), _text(after.get(key))
        if old == new:
            continue
        session.add(
            RuleChange(
                id=uuid.uuid4(),
                rule_id=rule_id,
                field=INPUT_NAMES[key],
                old_value=old,
                new_value=new,
                actor_id=actor.user_id,
                impersonator_id=actor.impersonator_id,
            )
        )
        count += 1
    return count


def plain_number(value: Decimal) -> Decimal:
    """A rate as people write it: 2.5000 is 2.50, 0.0125 stays, 350.0000 is 350.00."""
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value.normalize()


def _text(value: Any) -> str | None:
    """A field's value in the history; empty lists and unset values are "nothing"."""
    if value is None or value == []:
        return None
    if isinstance(value, Decimal):
        return str(plain_number(value))
    if isinstance(value, list):
        return ",".join(
            f"{v['from']}..{v['until']}" if isinstance(v, dict) else str(v) for v in value
        )
    return str(value)


def _snapshot(rule: PricingRule) -> dict[str, Any]:
    return {key: getattr(rule, key) for key in INPUT_NAMES}


async def create(session: AsyncSession, given: RuleInput, actor: Viewer) -> PricingRule:
    ensure_editor(actor)
    values = {"scope": "global", "priority": 0, "active": True, **_stored(given)}
    problems = await _problems(session, values)
    if problems:
        raise ServiceError(problems)
    problems = await _conflicts(session, values, None)
    if problems:
        raise ServiceError(problems)
    rule = PricingRule(id=uuid.uuid4(), **values)
    session.add(rule)
    await session.flush()
    _history(session, rule.id, {}, _snapshot(rule), actor)
    return rule


async def get(session: AsyncSession, rule_id: uuid.UUID, *, lock: bool = False) -> PricingRule:
    stmt = select(PricingRule).where(PricingRule.id == rule_id)
    rule = await session.scalar(stmt.with_for_update() if lock else stmt)
    if rule is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Rule {rule_id} does not exist.", "id")
    return rule


async def update(
    session: AsyncSession, rule_id: uuid.UUID, given: RuleInput, actor: Viewer
) -> PricingRule:
    ensure_editor(actor)
    rule = await get(session, rule_id, lock=True)
    before = _snapshot(rule)
    values = {**before, **_stored(given)}
    problems = await _problems(session, values)
    if problems:
        raise ServiceError(problems)
    problems = await _conflicts(session, values, rule.id)
    if problems:
        raise ServiceError(problems)
    for key, value in values.items():
        setattr(rule, key, value)
    await session.flush()
    _history(session, rule.id, before, _snapshot(rule), actor)
    return rule


def to_engine(rule: PricingRule) -> Rule:
    return Rule(
        id=rule.id,
        name=rule.name,
        rule_type=rule.rule_type,
        value=rule.value,
        scope=rule.scope,
        scope_value=rule.scope_value,
        conditions=conditions_of(rule),
        priority=rule.priority,
        valid_from=rule.valid_from,
        valid_until=rule.valid_until,
    )


def conditions_of(row: Any) -> Conditions:
    return Conditions(
        days_of_week=frozenset(row.days_of_week or ()),
        date_ranges=tuple(
            (date.fromisoformat(r["from"]), date.fromisoformat(r["until"]))
            for r in row.date_ranges or ()
        ),
        vehicle_types=frozenset(row.vehicle_type_ids or ()),
        trip_types=frozenset(row.trip_types or ()),
    )


async def active_rules(session: AsyncSession) -> tuple[Rule, ...]:
    rows = await session.scalars(
        select(PricingRule).where(PricingRule.active).order_by(PricingRule.id)
    )
    return tuple(to_engine(r) for r in rows)
