"""`Charter.quote` as the router asks for it: an `_entities` call carrying charters' facts.

The rules are set up through pricing's API; the facts are what charters
answers for the `@requires` selection. (The same through the real router,
with charters, is in test_quotes_through_the_router.py.)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from db.engine import record_statements
from subgraphs.pricing.models import QuoteCalculation, outbox
from subgraphs.pricing.service.facts import apply_charter_event_and_accept
from subgraphs.pricing.service.quotes import QUOTE_ACCEPTED
from tests.pricing.conftest import ERRORS
from tests.pricing.test_rules_api import CREATE, SEED_RULES, UPDATE, create

QUOTE = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Charter {
  quote { total subtotal discount tax accepted distanceEstimated promoNote
          lines { label kind amount } }
  secondDriverRecommendation { needed reasons drivingHours onDutyHours } } } }"""
WEDNESDAY = "2026-12-02T09:00:00"
SATURDAY = "2026-12-05T09:00:00"


def charter(
    *,
    pickup_local: str = WEDNESDAY,
    miles: str | None = "150",
    status: str = "QUOTE",
    client_id: uuid.UUID | None = None,
    vehicle_type: uuid.UUID | None = None,
    hours: int | None = None,
    charter_id: uuid.UUID | None = None,
    stops: list[dict[str, float]] | None = None,
) -> dict[str, Any]:
    local = datetime.fromisoformat(pickup_local)
    pickup = local.replace(tzinfo=UTC) + timedelta(hours=6)  # Chicago in winter
    return {
        "__typename": "Charter",
        "id": str(charter_id or uuid.uuid4()),
        "status": status,
        "tripType": "ONE_WAY",
        "passengerCount": 40,
        "pickupAt": pickup.isoformat(),
        "pickupLocal": pickup_local,
        "pickupTimeZone": "America/Chicago",
        "endsAt": (pickup + timedelta(hours=hours)).isoformat() if hours else None,
        "requiresSecondDriver": False,
        "estimatedMiles": miles,
        "client": {"id": str(client_id or uuid.uuid4())},
        "vehicles": [
            {"vehicleType": {"id": str(vehicle_type or uuid.uuid4()), "name": "Motorcoach"}}
        ],
        "stops": stops or [],
    }


async def seed_rules(manager) -> dict[str, str]:
    ids = {}
    for rule in [
        *SEED_RULES,
        {"name": "Fuel", "type": "FUEL_SURCHARGE", "value": "0.01"},
        {"name": "Weekend fee", "type": "FLAT_FEE", "value": "50.00", "daysOfWeek": [6, 7]},
    ]:
        made = await create(manager, **rule)
        assert made["userErrors"] == [], made
        ids[rule["name"]] = made["rule"]["id"]
    return ids


async def quote_of(caller, *reps) -> list[dict[str, Any]]:
    return [e["quote"] for e in (await caller(QUOTE, {"r": list(reps)})).ok()["_entities"]]


async def test_seed_002_weekday_and_weekend_quotes(pricing_manager, pricing_as):
    await seed_rules(pricing_manager)
    agent = await pricing_as("sales_agent")

    weekday, weekend = await quote_of(
        agent,
        charter(pickup_local=WEDNESDAY, miles="150"),
        charter(pickup_local=SATURDAY, miles="200"),
    )

    assert weekday["total"] == "726.50"
    assert [(x["kind"], x["amount"]) for x in weekday["lines"]] == [
        ("BASE_RATE", "350.00"),
        ("MILEAGE_RATE", "375.00"),
        ("FUEL_SURCHARGE", "1.50"),
    ]
    assert weekend["total"] == "1114.50"
    assert sum(Decimal(x["amount"]) for x in weekend["lines"]) == Decimal("1114.50")
    assert weekday["distanceEstimated"] is False


async def test_after_the_mileage_edit_100_miles_cost_275(pricing_manager, pricing_as):
    ids = await seed_rules(pricing_manager)
    edit = (await pricing_manager(UPDATE, {"id": ids["Mileage"], "input": {"value": "2.75"}})).ok()
    assert edit["updatePricingRule"]["userErrors"] == []

    [quote] = await quote_of(pricing_manager, charter(miles="100"))

    mileage = [x for x in quote["lines"] if x["kind"] == "MILEAGE_RATE"]
    assert mileage == [
        {"label": "Mileage (Motorcoach): 100 mi x 2.75", "kind": "MILEAGE_RATE", "amount": "275.00"}
    ]


async def test_a_quote_read_twice_is_stored_once_and_a_rule_edit_makes_a_new_one(
    pricing_manager, sessions
):
    ids = await seed_rules(pricing_manager)
    rep = charter()

    first = await quote_of(pricing_manager, rep)
    again = await quote_of(pricing_manager, rep)
    await pricing_manager(UPDATE, {"id": ids["Base rate"], "input": {"value": "360.00"}})
    edited = await quote_of(pricing_manager, rep)

    assert first == again
    assert edited[0]["total"] == "736.50"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(QuoteCalculation)) == 2


async def test_a_booked_charter_keeps_the_quote_it_was_shown(pricing_manager, sessions):
    ids = await seed_rules(pricing_manager)
    charter_id = uuid.uuid4()
    shown = await quote_of(pricing_manager, charter(charter_id=charter_id))
    async with sessions() as session, session.begin():
        await apply_charter_event_and_accept(
            session,
            {
                "occurredAt": datetime.now(UTC).isoformat(),
                "payload": {
                    "charterId": str(charter_id),
                    "status": "booked",
                    "tripType": "one_way",
                },
            },
        )
    await pricing_manager(UPDATE, {"id": ids["Mileage"], "input": {"value": "9.99"}})

    [booked] = await quote_of(pricing_manager, charter(charter_id=charter_id, status="BOOKED"))
    [quoted] = await quote_of(pricing_manager, charter(charter_id=charter_id))

    assert booked["total"] == shown[0]["total"] == "726.50"
    assert booked["accepted"] is True
    async with sessions() as session:
        announced = (
            (
                await session.execute(
                    select(outbox.c.payload).where(outbox.c.topic == QUOTE_ACCEPTED)
                )
            )
            .scalars()
            .all()
        )
    assert [(e["charterId"], e["total"]) for e in announced] == [(str(charter_id), "726.50")]
    assert [x["amount"] for x in announced[0]["lines"]] == ["350.00", "375.00", "1.50"]
    assert quoted["total"] != "726.50"  # had it stayed a quote, the new rate would apply


async def test_miles_from_the_stops_are_estimated_and_said_so(pricing_manager):
    await seed_rules(pricing_manager)
    memphis, nashville = (
        {"latitude": 35.1495, "longitude": -90.049},
        {"latitude": 36.1627, "longitude": -86.7816},
    )

    [quote] = await quote_of(pricing_manager, charter(miles=None, stops=[memphis, nashville]))

    assert quote["distanceEstimated"] is True
    mileage = next(x for x in quote["lines"] if x["kind"] == "MILEAGE_RATE")
    assert "235.6 mi" in mileage["label"]  # 196.3 great-circle miles x 1.2


async def test_hours_of_service_recommend_a_second_driver_and_price_one(pricing_manager):
    await seed_rules(pricing_manager)
    await create(pricing_manager, name="Second driver", type="SECOND_DRIVER_RATE", value="35.00")

    reply = await pricing_manager(
        QUOTE, {"r": [charter(miles="600", hours=13), charter(miles="300", hours=8)]}
    )
    long_trip, short_trip = reply.ok()["_entities"]

    assert long_trip["secondDriverRecommendation"]["needed"] is True
    assert "12.0 h of driving" in long_trip["secondDriverRecommendation"]["reasons"][0]
    assert any(
        x["kind"] == "SECOND_DRIVER_RATE" and x["amount"] == "455.00"
        for x in long_trip["quote"]["lines"]
    )
    assert short_trip["secondDriverRecommendation"] == {
        "needed": False,
        "reasons": [],
        "drivingHours": "6.0",
        "onDutyHours": "8.0",
    }
    assert all(x["kind"] != "SECOND_DRIVER_RATE" for x in short_trip["quote"]["lines"])


async def test_who_reads_a_quote(pricing_manager, pricing_as):
    await seed_rules(pricing_manager)
    own, other = uuid.uuid4(), uuid.uuid4()
    rep = charter(client_id=own)

    client = await pricing_as("client", client_id=own)
    stranger = await pricing_as("client", client_id=other)
    anonymous = await pricing_as()

    assert (await quote_of(client, rep))[0]["total"] == "726.50"
    for role in ("vendor", "driver"):
        refused = await (await pricing_as(role))(QUOTE, {"r": [rep]})
        assert refused.data["_entities"][0]["quote"] is None
        assert "FORBIDDEN" in refused.error_codes
    refused = await stranger(QUOTE, {"r": [rep]})
    assert refused.data["_entities"][0]["quote"] is None
    assert "FORBIDDEN" in refused.error_codes
    assert "UNAUTHENTICATED" in (await anonymous(QUOTE, {"r": [rep]})).error_codes


async def test_fifty_charters_cost_the_same_statements_as_two(pricing_manager):
    await seed_rules(pricing_manager)
    await quote_of(pricing_manager, charter())  # the emptied hours-of-service row comes back
    counts = {}
    for count in (2, 50):
        reps = [charter() for _ in range(count)]
        with record_statements() as recorder:
            quotes = await quote_of(pricing_manager, *reps)
        assert [q["total"] for q in quotes] == ["726.50"] * count
        counts[count] = recorder.count

    assert counts[2] == counts[50]
    # Accepted quotes, the price list (rules, modifiers, hubs, hours), amenities, codes,
    # the insert, the read-back and the new prices' announcement: nothing per charter.
    assert counts[50] <= 11, counts


APPLY = f"""mutation($charter: ID!, $code: String!) {{
  applyPromoCode(charterId: $charter, code: $code) {{ redemption {{ charterId }} {ERRORS} }} }}"""
AMENITY = f"""mutation($input: AmenityInput!) {{ saveAmenity(input: $input) {{ amenity {{ id }} {ERRORS} }} }}"""
ADD = f"""mutation($charter: ID!, $amenity: ID!, $q: Int!) {{
  addCharterAmenity(charterId: $charter, amenityId: $amenity, quantity: $q) {{
    charterAmenity {{ unitPrice quantity }} {ERRORS} }} }}"""


async def test_amenities_and_a_promo_code_appear_on_the_quote(
    pricing_manager, pricing_as, charter_fact
):
    await seed_rules(pricing_manager)
    charter_id = await charter_fact()
    water = (
        await pricing_manager(
            AMENITY,
            {
                "input": {
                    "name": "Bottled water",
                    "category": "REFRESHMENTS",
                    "pricing": "PER_PASSENGER",
                    "price": "1.50",
                }
            },
        )
    ).ok()["saveAmenity"]["amenity"]
    await pricing_manager(
        CREATE.replace("createPricingRule", "createPricingRule"),
        {"input": {"name": "Unused", "type": "FLAT_FEE", "value": "0", "daysOfWeek": [7]}},
    )
    await pricing_manager(
        """mutation { createPromoCode(input: {code: "TEN", discountType: PERCENTAGE, value: "10"}) { userErrors { code } } }"""
    )
    staff = await pricing_as("sales_support")
    added = (await staff(ADD, {"charter": str(charter_id), "amenity": water["id"], "q": 2})).ok()
    assert added["addCharterAmenity"]["userErrors"] == []
    assert (await staff(APPLY, {"charter": str(charter_id), "code": "TEN"})).ok()["applyPromoCode"][
        "userErrors"
    ] == []
    await pricing_manager(
        """mutation($id: ID!) { saveAmenity(id: $id, input: {price: "9.00"}) { userErrors { code } } }""",
        {"id": water["id"]},
    )

    [quote] = await quote_of(pricing_manager, charter(charter_id=charter_id))

    amenity = next(x for x in quote["lines"] if x["kind"] == "AMENITY")
    assert (
        amenity["amenity" if False else "amount"] == "120.00"
    )  # 1.50 x 2 x 40 passengers, priced when added
    assert quote["subtotal"] == "846.50"
    assert quote["discount"] == "84.65"
    assert quote["total"] == "761.85"
    log = (
        await pricing_manager(
            "{ promoCodes { edges { node { redemptions { charterId discount } } } } }"
        )
    ).ok()
    assert log["promoCodes"]["edges"][0]["node"]["redemptions"] == [
        {"charterId": str(charter_id), "discount": "84.65"}
    ]
    rep = charter(charter_id=charter_id)
    listed = await pricing_manager(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Charter { amenities { name unitPrice quantity } } } }",
        {"r": [rep]},
    )
    assert listed.ok()["_entities"][0]["amenities"] == [
        {"name": "Bottled water", "unitPrice": "1.50", "quantity": 2}
    ]
    vendor = await pricing_as("vendor")
    refused = await vendor(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Charter { amenities { name } } } }",
        {"r": [rep]},
    )
    assert refused.data["_entities"][0]["amenities"] is None
    assert refused.error_codes == ["FORBIDDEN"]
