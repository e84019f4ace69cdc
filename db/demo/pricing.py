"""Pricing demo data: seed 002's rules, a rate card per vehicle type, amenities, codes, a modifier.

The global rules are seed 002's (base 350.00, 2.50 a mile, weekends x 1.25,
a weekend fee of 50.00, fuel 0.01 a mile), so an Executive Coach trip of
150 weekday miles is quoted 726.50 as in the seed; the smaller vehicle
types have their own base and mileage rates (a more specific scope wins).
Loaded through pricing's services as a manager. Vehicle types are the
charters demo's, made known as charters' events would (their events are
consumed only once the apps run). Runs once.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from db.demo.charters import _NS, _identity_users
from db.demo.identity import SEEDED_AS_OF
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import VehicleType
from subgraphs.pricing.models import PricingRule
from subgraphs.pricing.service import catalogue, promos, rules
from subgraphs.pricing.service.facts import apply_vehicle_type_event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

WEEKEND = [6, 7]
SEED_RULES = [
    rules.RuleInput(name="Base rate", rule_type="base_rate", value=Decimal("350.00")),
    rules.RuleInput(name="Mileage", rule_type="mileage_rate", value=Decimal("2.50")),
    rules.RuleInput(
        name="Weekend", rule_type="time_multiplier", value=Decimal("1.25"), days_of_week=WEEKEND
    ),
    rules.RuleInput(
        name="Weekend fee", rule_type="flat_fee", value=Decimal("50.00"), days_of_week=WEEKEND
    ),
    rules.RuleInput(name="Fuel surcharge", rule_type="fuel_surcharge", value=Decimal("0.01")),
    rules.RuleInput(name="Second driver", rule_type="second_driver_rate", value=Decimal("35.00")),
    rules.RuleInput(name="Minimum charge", rule_type="minimum_charge", value=Decimal("300.00")),
]
#: vehicle type -> (base, per mile, per hour or None)
RATE_CARD = {
    "Mini Coach": ("295.00", "2.20", None),
    "Sprinter": ("180.00", "1.60", None),
    "School Bus": ("260.00", "2.00", None),
    "Party Bus": ("150.00", "1.80", "125.00"),
}
AMENITIES = [
    catalogue.AmenityInput("Wi-Fi", None, "entertainment", "flat_fee", Decimal("25.00"), True, 1),
    catalogue.AmenityInput(
        "Bottled water", None, "refreshments", "per_passenger", Decimal("1.50"), True, 2
    ),
    catalogue.AmenityInput("Onboard host", None, "comfort", "per_hour", Decimal("30.00"), True, 3),
    catalogue.AmenityInput(
        "Cooler with ice", None, "refreshments", "per_day", Decimal("15.00"), True, 4
    ),
    catalogue.AmenityInput(
        "Wheelchair lift",
        "ADA lift, booked ahead.",
        "accessibility",
        "flat_fee",
        Decimal("0.00"),
        True,
        5,
    ),
]
CODES = [
    promos.PromoInput(
        code="WELCOME10",
        description="10 % off a client's first trip.",
        discount_type="percentage",
        value=Decimal(10),
        once_per_client=True,
    ),
    promos.PromoInput(
        code="SPRING50",
        description="50.00 off quotes of 500.00 or more, 100 uses.",
        discount_type="fixed",
        value=Decimal("50.00"),
        max_uses=100,
        minimum_amount=Decimal("500.00"),
    ),
]
HUBS = [
    catalogue.HubInput("MEM", "Memphis garage", Decimal("35.1495"), Decimal("-90.0490"), 60),
    catalogue.HubInput("BNA", "Nashville garage", Decimal("36.1627"), Decimal("-86.7816"), 60),
    catalogue.HubInput("LIT", "Little Rock garage", Decimal("34.7465"), Decimal("-92.2896"), 60),
]


async def load(session: AsyncSession) -> int:
    if await session.scalar(select(func.count()).select_from(PricingRule)):
        return 0
    known = await _identity_users(session, ["manager@demo.athena"])
    manager = Viewer(
        user_id=known.get("manager@demo.athena") or uuid.uuid5(_NS, "manager"),
        roles=frozenset({Role.MANAGER}),
    )
    types = {row.name: row for row in await session.scalars(select(VehicleType))}
    for row in types.values():
        await apply_vehicle_type_event(
            session,
            {
                "occurredAt": SEEDED_AS_OF,
                "payload": {
                    "vehicleTypeId": str(row.id),
                    "name": row.name,
                    "capacity": row.capacity,
                },
            },
        )
    added = 0
    for rule in SEED_RULES:
        await rules.create(session, rule, manager)
        added += 1
    for name, (base, mile, hour) in RATE_CARD.items():
        if name not in types:
            continue
        scope = {"scope": "vehicle_type", "scope_value": str(types[name].id)}
        card = [("base_rate", base), ("mileage_rate", mile), ("hourly_rate", hour)]
        for rule_type, value in card:
            if value is not None:
                given = rules.RuleInput(
                    name=f"{name} {rule_type.split('_')[0]}",
                    rule_type=rule_type,
                    value=Decimal(value),
                    **scope,
                )
                await rules.create(session, given, manager)
                added += 1
    for hub in HUBS:
        await catalogue.save_hub(session, None, hub, manager)
    for amenity in AMENITIES:
        await catalogue.save_amenity(session, None, amenity, manager)
    for code in CODES:
        await promos.create(session, code, manager)
    weekend = catalogue.ModifierInput(
        name="Weekend demand",
        kind="day_of_week",
        adjustment="percentage",
        value=Decimal(10),
        days_of_week=WEEKEND,
        priority=1,
    )
    await catalogue.save_modifier(session, None, weekend, manager)
    return added
