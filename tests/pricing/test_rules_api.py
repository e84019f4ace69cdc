"""The price list's rules through pricing's API: seed 002's rules, history, bad input, roles."""

from __future__ import annotations

import uuid

import pytest

from tests.pricing.conftest import ERRORS

RULE = "id name type scope scopeValue value priority daysOfWeek tripTypes active"
CREATE = f"""mutation($input: PricingRuleInput!) {{
  createPricingRule(input: $input) {{ rule {{ {RULE} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: PricingRuleInput!) {{
  updatePricingRule(id: $id, input: $input) {{ rule {{ {RULE} }} {ERRORS} }} }}"""
HISTORY = """query($id: ID!) { pricingRule(id: $id) { value history { field oldValue newValue
  changedBy changedAt } } }"""
RULES = "{ pricingRules(first: 20) { totalCount edges { node { name type value } } } }"

SEED_RULES = [
    {"name": "Base rate", "type": "BASE_RATE", "value": "350.00"},
    {"name": "Mileage", "type": "MILEAGE_RATE", "value": "2.50"},
    {"name": "Weekend", "type": "TIME_MULTIPLIER", "value": "1.25", "daysOfWeek": [6, 7]},
]


async def create(caller, **fields) -> dict:
    return (await caller(CREATE, {"input": fields})).ok()["createPricingRule"]


async def test_the_seed_rules_are_created_and_the_mileage_edit_is_kept_field_by_field(
    pricing_manager, mint
):
    made = [await create(pricing_manager, **rule) for rule in SEED_RULES]
    assert [m["userErrors"] for m in made] == [[], [], []]
    mileage = made[1]["rule"]

    edited = (
        await pricing_manager(UPDATE, {"id": mileage["id"], "input": {"value": "2.75"}})
    ).ok()["updatePricingRule"]
    history = (await pricing_manager(HISTORY, {"id": mileage["id"]})).ok()["pricingRule"]

    assert edited["userErrors"] == []
    assert edited["rule"]["value"] == "2.75"
    changes = [(h["field"], h["oldValue"], h["newValue"]) for h in history["history"]]
    assert ("value", "2.50", "2.75") in changes
    assert changes[-1] == ("value", "2.50", "2.75")  # the edit is the newest entry
    assert ("type", None, "mileage_rate") in changes  # creation is history too
    assert all(h["changedBy"] for h in history["history"])
    listed = (await pricing_manager(RULES)).ok()["pricingRules"]
    assert listed["totalCount"] == 3


async def test_an_edit_that_changes_nothing_leaves_no_history(pricing_manager):
    rule = (await create(pricing_manager, name="Base", type="BASE_RATE", value="350.00"))["rule"]
    before = (await pricing_manager(HISTORY, {"id": rule["id"]})).ok()["pricingRule"]["history"]

    await pricing_manager(UPDATE, {"id": rule["id"], "input": {"value": "350.00", "name": "Base"}})

    after = (await pricing_manager(HISTORY, {"id": rule["id"]})).ok()["pricingRule"]["history"]
    assert after == before


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"type": "MILEAGE_RATE", "value": "-1.00"}, "value", "OUT_OF_RANGE"),
        (
            {
                "type": "CLIENT_SPECIFIC",
                "value": "101",
                "scope": "CLIENT",
                "scopeValue": str(uuid.uuid4()),
            },
            "value",
            "OUT_OF_RANGE",
        ),
        ({"type": "TIME_MULTIPLIER", "value": "0"}, "value", "OUT_OF_RANGE"),
        (
            {
                "type": "BASE_RATE",
                "value": "1",
                "scope": "VEHICLE_TYPE",
                "scopeValue": str(uuid.uuid4()),
            },
            "scopeValue",
            "UNKNOWN_VEHICLE_TYPE",
        ),
        (
            {"type": "BASE_RATE", "value": "1", "vehicleTypeIds": [str(uuid.uuid4())]},
            "vehicleTypeIds",
            "UNKNOWN_VEHICLE_TYPE",
        ),
        (
            {"type": "BASE_RATE", "value": "1", "scope": "HUB", "scopeValue": "XYZ"},
            "scopeValue",
            "UNKNOWN_HUB",
        ),
        (
            {"type": "BASE_RATE", "value": "1", "scope": "GLOBAL", "scopeValue": "x"},
            "scopeValue",
            "INVALID",
        ),
        ({"type": "BASE_RATE", "value": "1", "daysOfWeek": [0]}, "daysOfWeek", "OUT_OF_RANGE"),
        (
            {
                "type": "BASE_RATE",
                "value": "1",
                "validFrom": "2027-02-01",
                "validUntil": "2027-01-01",
            },
            "validUntil",
            "INVALID",
        ),
        ({"type": "BASE_RATE"}, "value", "REQUIRED"),
    ],
)
async def test_bad_rules_are_refused_with_the_field_named_and_nothing_stored(
    fields, field, code, pricing_manager
):
    answer = await create(pricing_manager, name="Bad", **fields)

    assert answer["rule"] is None
    assert (field, code) in [(e["field"], e["code"]) for e in answer["userErrors"]]
    assert (await pricing_manager(RULES)).ok()["pricingRules"]["totalCount"] == 0


async def test_overlapping_rules_at_one_priority_conflict_and_a_priority_settles_it(
    pricing_manager, vehicle_type
):
    coach = await vehicle_type()
    await create(
        pricing_manager, name="Weekend base", type="BASE_RATE", value="400", daysOfWeek=[6, 7]
    )

    clash = await create(
        pricing_manager, name="Saturday base", type="BASE_RATE", value="450", daysOfWeek=[6]
    )
    apart = await create(
        pricing_manager,
        name="Weekday base",
        type="BASE_RATE",
        value="350",
        daysOfWeek=[1, 2, 3, 4, 5],
    )
    above = await create(
        pricing_manager,
        name="Saturday base",
        type="BASE_RATE",
        value="450",
        daysOfWeek=[6],
        priority=1,
    )
    scoped = await create(
        pricing_manager,
        name="Coach base",
        type="BASE_RATE",
        value="500",
        scope="VEHICLE_TYPE",
        scopeValue=str(coach),
    )
    fees = [
        await create(pricing_manager, name=f"Fee {n}", type="FLAT_FEE", value="10") for n in (1, 2)
    ]

    assert [(e["field"], e["code"]) for e in clash["userErrors"]] == [("priority", "CONFLICT")]
    assert "Weekend base" in clash["userErrors"][0]["message"]
    assert apart["userErrors"] == above["userErrors"] == scoped["userErrors"] == []
    assert [f["userErrors"] for f in fees] == [[], []]  # fees add up; they never conflict


@pytest.mark.parametrize("role", ["sales_agent", "sales_support", "accounting", "dispatcher"])
async def test_only_managers_and_admins_edit_rules_the_pricing_staff_read_them(role, pricing_as):
    caller = await pricing_as(role)

    answer = await caller(CREATE, {"input": {"name": "X", "type": "BASE_RATE", "value": "1"}})
    read = await caller(RULES)

    assert answer.error_codes == ["FORBIDDEN"]
    if role == "dispatcher":
        assert read.error_codes == ["FORBIDDEN"]
    else:
        assert read.ok()["pricingRules"]["totalCount"] == 0


@pytest.mark.parametrize("role", ["client", "vendor", "driver"])
async def test_clients_vendors_and_drivers_never_read_the_price_list(role, pricing_as):
    caller = await pricing_as(role, client_id=uuid.uuid4() if role == "client" else None)

    for query in (
        RULES,
        "{ promoCodes { totalCount } }",
        "{ pricingModifiers { id } }",
        "{ hubs { id } }",
    ):
        assert (await caller(query)).error_codes == ["FORBIDDEN"], query
