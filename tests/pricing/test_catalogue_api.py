"""The rest of the price list through pricing's API: modifiers, hubs, amenities, hours of service."""

from __future__ import annotations

import pytest

from tests.pricing.conftest import ERRORS
from tests.pricing.test_quotes import QUOTE, SATURDAY, WEDNESDAY, charter, seed_rules
from tests.pricing.test_rules_api import create

MODIFIER = f"""mutation($input: PricingModifierInput!, $id: ID) {{
  savePricingModifier(input: $input, id: $id) {{ modifier {{ id name value priority }} {ERRORS} }} }}"""
HUB = (
    f"""mutation($input: HubInput!) {{ saveHub(input: $input) {{ hub {{ id code }} {ERRORS} }} }}"""
)
AMENITY = f"""mutation($input: AmenityInput!) {{ saveAmenity(input: $input) {{ amenity {{ id }} {ERRORS} }} }}"""
HOURS = f"""mutation($input: HoursOfServiceInput!) {{ setHoursOfServiceRules(input: $input) {{
  rules {{ maxDrivingHours maxOnDutyHours }} {ERRORS} }} }}"""

MEMPHIS = {"latitude": 35.1495, "longitude": -90.049}
NASHVILLE = {"latitude": 36.1627, "longitude": -86.7816}


async def totals(caller, *reps) -> list[str]:
    answer = (await caller(QUOTE, {"r": list(reps)})).ok()["_entities"]
    return [e["quote"]["total"] for e in answer]


async def test_the_seed_weekend_modifier_adds_10_percent_on_weekends_only(pricing_manager):
    await seed_rules(pricing_manager)
    made = (
        await pricing_manager(
            MODIFIER,
            {
                "input": {
                    "name": "Weekend demand",
                    "kind": "DAY_OF_WEEK",
                    "adjustment": "PERCENTAGE",
                    "value": "10",
                    "daysOfWeek": [6, 7],
                }
            },
        )
    ).ok()["savePricingModifier"]
    assert made["userErrors"] == []

    weekday, weekend = await totals(
        pricing_manager,
        charter(pickup_local=WEDNESDAY),
        charter(pickup_local=SATURDAY, miles="200"),
    )

    assert weekday == "726.50"
    assert weekend == "1225.95"  # 1,114.50 + 111.45


async def test_a_hub_scoped_rule_applies_to_trips_leaving_near_that_hub(pricing_manager):
    await seed_rules(pricing_manager)
    for code, point in (("MEM", MEMPHIS), ("BNA", NASHVILLE)):
        hub = (
            await pricing_manager(
                HUB,
                {
                    "input": {
                        "code": code,
                        "name": code,
                        "latitude": str(point["latitude"]),
                        "longitude": str(point["longitude"]),
                        "radiusMiles": 30,
                    }
                },
            )
        ).ok()["saveHub"]
        assert hub["userErrors"] == []
    fee = await create(
        pricing_manager,
        name="Memphis pickup fee",
        type="FLAT_FEE",
        value="40.00",
        scope="HUB",
        scopeValue="MEM",
    )
    route = await create(
        pricing_manager,
        name="MEM-BNA corridor",
        type="FLAT_FEE",
        value="15.00",
        scope="ROUTE",
        scopeValue="MEM-BNA",
    )
    assert fee["userErrors"] == route["userErrors"] == []

    from_memphis, from_nashville = await totals(
        pricing_manager,
        charter(stops=[MEMPHIS, NASHVILLE]),
        charter(stops=[NASHVILLE, MEMPHIS]),
    )

    assert from_memphis == "781.50"  # 726.50 + 40 (hub) + 15 (route)
    assert from_nashville == "726.50"


@pytest.mark.parametrize(
    ("mutation", "given", "field", "code"),
    [
        (
            MODIFIER,
            {"name": "X", "kind": "ASAP", "adjustment": "PERCENTAGE", "value": "10"},
            "withinHours",
            "REQUIRED",
        ),
        (
            MODIFIER,
            {"name": "X", "kind": "HOLIDAY", "adjustment": "PERCENTAGE", "value": "150"},
            "value",
            "OUT_OF_RANGE",
        ),
        (
            MODIFIER,
            {"name": "X", "kind": "HUB", "adjustment": "FIXED", "value": "5", "hubCodes": ["ZZZ"]},
            "hubCodes",
            "UNKNOWN_HUB",
        ),
        (HUB, {"code": "M", "name": "X", "latitude": "35", "longitude": "-90"}, "code", "INVALID"),
        (
            HUB,
            {"code": "MEM", "name": "X", "latitude": "95", "longitude": "-90"},
            "latitude",
            "OUT_OF_RANGE",
        ),
        (
            AMENITY,
            {"name": "X", "category": "COMFORT", "pricing": "FLAT_FEE", "price": "-1.00"},
            "price",
            "OUT_OF_RANGE",
        ),
        (
            AMENITY,
            {"name": " ", "category": "COMFORT", "pricing": "FLAT_FEE", "price": "1.00"},
            "name",
            "REQUIRED",
        ),
        (HOURS, {"maxDrivingHours": "30"}, "maxDrivingHours", "OUT_OF_RANGE"),
    ],
)
async def test_bad_catalogue_input_names_the_field_and_stores_nothing(
    mutation, given, field, code, pricing_manager
):
    answer = (await pricing_manager(mutation, {"input": given})).ok()
    [payload] = answer.values()

    assert (field, code) in [(e["field"], e["code"]) for e in payload["userErrors"]]
    hours = (await pricing_manager("{ hoursOfServiceRules { maxDrivingHours } }")).ok()
    assert hours["hoursOfServiceRules"]["maxDrivingHours"] == "10.0"
    listed = (
        await pricing_manager(
            "{ pricingModifiers { id } hubs { id } amenities(includeInactive: true) { id } }"
        )
    ).ok()
    assert listed == {"pricingModifiers": [], "hubs": [], "amenities": []}


async def test_hours_of_service_limits_change_the_recommendation(pricing_manager):
    await seed_rules(pricing_manager)
    rep = charter(miles="450", hours=9)
    before = (await pricing_manager(QUOTE, {"r": [rep]})).ok()["_entities"][0]

    changed = (await pricing_manager(HOURS, {"input": {"maxDrivingHours": "8"}})).ok()
    after = (await pricing_manager(QUOTE, {"r": [rep]})).ok()["_entities"][0]

    assert changed["setHoursOfServiceRules"]["rules"]["maxDrivingHours"] == "8.0"
    assert before["secondDriverRecommendation"]["needed"] is False
    assert after["secondDriverRecommendation"]["needed"] is True
