"""The rest of the price list: amenities, modifiers, hubs, hours-of-service limits.

Each is edited by managers and admins only (`access.EDIT_PRICE_LIST`);
bad input is a user error naming the field and stores nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.pricing.engine.hours_of_service import HoursRules
from subgraphs.pricing.engine.inputs import AMENITY_PRICING, MODIFIER_KINDS
from subgraphs.pricing.engine.inputs import Modifier as EngineModifier
from subgraphs.pricing.error_codes import PricingErrorCode as Code
from subgraphs.pricing.models import (
    AMENITY_CATEGORIES,
    DISCOUNT_TYPES,
    Amenity,
    HoursOfServiceRules,
    Hub,
    Modifier,
)
from subgraphs.pricing.service.rules import _known_hubs, conditions_of, ensure_editor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

T = TypeVar("T")
HUB_CODE = re.compile(r"^[A-Z]{2,10}$")


def _given(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj) if getattr(obj, f.name) is not None}


def _name_problems(name: Any, limit: int) -> list[Problem]:
    clean = " ".join((name or "").split())
    if not clean:
        return [Problem(Code.REQUIRED, "A name is required.", "name")]
    if len(clean) > limit:
        return [Problem(Code.TOO_LONG, f"Longer than {limit} characters.", "name")]
    return []


async def _save(session: AsyncSession, row: T, conflict: str, field: str) -> T:
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise ServiceError.of(Code.CONFLICT, conflict, field) from None
    return row


async def _get(session: AsyncSession, model: type[T], row_id: uuid.UUID, what: str) -> T:
    row = await session.get(model, row_id, with_for_update=True)
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, f"{what} {row_id} does not exist.", "id")
    return row


# Amenities ---------------------------------------------------------------


@dataclass
class AmenityInput:
    name: str | None = None
    description: str | None = None
    category: str | None = None
    pricing_type: str | None = None
    price: Decimal | None = None
    active: bool | None = None
    display_order: int | None = None


def _amenity_problems(values: dict[str, Any]) -> list[Problem]:
    problems = _name_problems(values.get("name"), 100)
    if values.get("category") not in AMENITY_CATEGORIES:
        problems.append(Problem(Code.INVALID, "Unknown category.", "category"))
    if values.get("pricing_type") not in AMENITY_PRICING:
        problems.append(Problem(Code.INVALID, "Unknown pricing.", "pricing"))
    price = values.get("price")
    if price is None or price < 0:
        problems.append(Problem(Code.OUT_OF_RANGE, "A price of zero or more.", "price"))
    return problems


async def save_amenity(
    session: AsyncSession, amenity_id: uuid.UUID | None, given: AmenityInput, actor: Viewer
) -> Amenity:
    """Create (no id) or update an amenity; charters keep the price they were given."""
    ensure_editor(actor)
    row = await _get(session, Amenity, amenity_id, "Amenity") if amenity_id else None
    current = {f.name: getattr(row, f.name) for f in fields(AmenityInput)} if row else {}
    values = {"active": True, "display_order": 0, **current, **_given(given)}
    if "name" in values:
        values["name"] = " ".join(values["name"].split())
    problems = _amenity_problems(values)
    if problems:
        raise ServiceError(problems)
    if row is None:
        return await _save(
            session, Amenity(id=uuid.uuid4(), **values), "An amenity has this name.", "name"
        )
    for key, value in values.items():
        setattr(row, key, value)
    return await _save(session, row, "An amenity has this name.", "name")


# Modifiers ---------------------------------------------------------------


@dataclass
class ModifierInput:
    name: str | None = None
    kind: str | None = None
    adjustment: str | None = None
    value: Decimal | None = None
    days_of_week: list[int] | None = None
    date_ranges: list[dict[str, str]] | None = None
    hub_codes: list[str] | None = None
    within_hours: int | None = None
    priority: int | None = None
    exclusive: bool | None = None
    active: bool | None = None


async def _modifier_problems(session: AsyncSession, values: dict[str, Any]) -> list[Problem]:
    problems = _name_problems(values.get("name"), 200)
    if values.get("kind") not in MODIFIER_KINDS:
        problems.append(Problem(Code.INVALID, "Unknown modifier kind.", "kind"))
    if values.get("adjustment") not in DISCOUNT_TYPES:
        problems.append(Problem(Code.INVALID, "Percentage or fixed.", "adjustment"))
    value = values.get("value")
    if value is None:
        problems.append(Problem(Code.REQUIRED, "A value is required.", "value"))
    elif values.get("adjustment") == "percentage" and not -100 <= value <= 100:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "A percentage is between -100 and 100.", "value")
        )
    if values.get("kind") == "asap" and not (values.get("within_hours") or 0) >= 1:
        problems.append(
            Problem(Code.REQUIRED, "An ASAP modifier says within how many hours.", "withinHours")
        )
    if any(not 1 <= d <= 7 for d in values.get("days_of_week") or []):
        problems.append(
            Problem(Code.OUT_OF_RANGE, "Days are 1 (Monday) to 7 (Sunday).", "daysOfWeek")
        )
    for r in values.get("date_ranges") or []:
        if r["from"] > r["until"]:
            problems.append(
                Problem(Code.INVALID, "A date range ends before it starts.", "dateRanges")
            )
            break
    if values.get("hub_codes"):
        problems += await _known_hubs(session, list(values["hub_codes"]), "hubCodes")
    return problems


async def save_modifier(
    session: AsyncSession, modifier_id: uuid.UUID | None, given: ModifierInput, actor: Viewer
) -> Modifier:
    ensure_editor(actor)
    row = await _get(session, Modifier, modifier_id, "Modifier") if modifier_id else None
    current = {f.name: getattr(row, f.name) for f in fields(ModifierInput)} if row else {}
    values = {"priority": 0, "exclusive": False, "active": True, **current, **_given(given)}
    problems = await _modifier_problems(session, values)
    if problems:
        raise ServiceError(problems)
    if row is None:
        row = Modifier(id=uuid.uuid4())
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    await session.flush()
    return row


def modifier_to_engine(row: Modifier) -> EngineModifier:
    return EngineModifier(
        id=row.id,
        name=row.name,
        kind=row.kind,
        adjustment=row.adjustment,
        value=row.value,
        conditions=conditions_of(row),
        hubs=frozenset(row.hub_codes or ()),
        within_hours=row.within_hours,
        priority=row.priority,
        exclusive=row.exclusive,
    )


async def active_modifiers(session: AsyncSession) -> tuple[EngineModifier, ...]:
    rows = await session.scalars(select(Modifier).where(Modifier.active).order_by(Modifier.id))
    return tuple(modifier_to_engine(r) for r in rows)


# Hubs ----------------------------------------------------------------------


@dataclass
class HubInput:
    code: str | None = None
    name: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    radius_miles: int | None = None


async def save_hub(
    session: AsyncSession, hub_id: uuid.UUID | None, given: HubInput, actor: Viewer
) -> Hub:
    ensure_editor(actor)
    row = await _get(session, Hub, hub_id, "Hub") if hub_id else None
    current = {f.name: getattr(row, f.name) for f in fields(HubInput)} if row else {}
    values = {"radius_miles": 50, **current, **_given(given)}
    values["code"] = (values.get("code") or "").strip().upper()
    problems = _name_problems(values.get("name"), 200)
    if not HUB_CODE.match(values["code"]):
        problems.append(Problem(Code.INVALID, "A hub code is 2 to 10 letters (MEM).", "code"))
    lat, lon = values.get("latitude"), values.get("longitude")
    if lat is None or not -90 <= lat <= 90:
        problems.append(Problem(Code.OUT_OF_RANGE, "Latitude is -90 to 90.", "latitude"))
    if lon is None or not -180 <= lon <= 180:
        problems.append(Problem(Code.OUT_OF_RANGE, "Longitude is -180 to 180.", "longitude"))
    if not 1 <= values["radius_miles"] <= 500:
        problems.append(Problem(Code.OUT_OF_RANGE, "A radius of 1 to 500 miles.", "radiusMiles"))
    if problems:
        raise ServiceError(problems)
    if row is None:
        return await _save(session, Hub(id=uuid.uuid4(), **values), "A hub has this code.", "code")
    for key, value in values.items():
        setattr(row, key, value)
    return await _save(session, row, "A hub has this code.", "code")


# Hours of service ----------------------------------------------------------


@dataclass
class HoursInput:
    max_driving_hours: Decimal | None = None
    max_on_duty_hours: Decimal | None = None
    cycle_hours: Decimal | None = None
    cycle_days: int | None = None
    average_speed_mph: Decimal | None = None


#: Each limit's plausible range: (field, low, high, GraphQL name).
HOURS_RANGES = (
    ("max_driving_hours", 1, 24, "maxDrivingHours"),
    ("max_on_duty_hours", 1, 24, "maxOnDutyHours"),
    ("cycle_hours", 1, 168, "cycleHours"),
    ("cycle_days", 1, 14, "cycleDays"),
    ("average_speed_mph", 5, 80, "averageSpeedMph"),
)


async def hours_rules(session: AsyncSession) -> HoursOfServiceRules:
    row = await session.get(HoursOfServiceRules, 1)
    if row is None:  # the migration inserts it; an emptied table gets the defaults back
        await session.execute(insert(HoursOfServiceRules).values(id=1).on_conflict_do_nothing())
        row = await session.get(HoursOfServiceRules, 1)
    assert row is not None  # noqa: S101 - inserted just above when missing
    return row


async def set_hours_rules(
    session: AsyncSession, given: HoursInput, actor: Viewer
) -> HoursOfServiceRules:
    ensure_editor(actor)
    row = await hours_rules(session)
    changes = _given(given)
    problems = [
        Problem(Code.OUT_OF_RANGE, f"Between {low} and {high}.", name)
        for key, low, high, name in HOURS_RANGES
        if key in changes and not low <= changes[key] <= high
    ]
    if problems:
        raise ServiceError(problems)
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_by = actor.user_id
    await session.flush()
    return row


def hours_to_engine(row: HoursOfServiceRules) -> HoursRules:
    return HoursRules(
        max_driving_hours=row.max_driving_hours,
        max_on_duty_hours=row.max_on_duty_hours,
        cycle_hours=row.cycle_hours,
        cycle_days=row.cycle_days,
        average_speed_mph=row.average_speed_mph,
    )
