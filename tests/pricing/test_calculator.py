"""The public calculator, vehicle recommendations and quote history, on the pricing subgraph.

`estimateQuote` is anonymous, runs the same engine on the same price list as
real quotes and stores nothing; it is limited per caller address (the
address `X-Forwarded-For` gives when a trusted proxy, the router, sent it).
`recommendVehicles` seats a party at the lowest price the rules give.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from subgraphs.kit.settings import Settings
from subgraphs.pricing.app import create_app
from subgraphs.pricing.models import QuoteCalculation
from tests.pricing.test_quotes import QUOTE, charter, seed_rules
from tests.pricing.test_rules_api import UPDATE, create
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve

ESTIMATE = """query($input: EstimateInput!) { estimateQuote(input: $input) {
  total subtotal tax miles distanceEstimated lines { label kind amount } } }"""
RECOMMEND = """query($p: Int!, $miles: Decimal!) {
  recommendVehicles(passengers: $p, tripType: ONE_WAY, miles: $miles) {
    name capacity count unitPrice } }"""
HISTORY = """query($charter: ID, $client: ID) {
  quoteHistory(charterId: $charter, clientId: $client) {
    totalCount edges { node { charterId clientId total accepted } } } }"""
WEDNESDAY = "2026-12-02T09:00"


def trip(**fields: Any) -> dict[str, Any]:
    return {"tripType": "ONE_WAY", "pickupLocal": WEDNESDAY, "passengers": 40, **fields}


async def stored_quotes(sessions: Any) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(QuoteCalculation))  # type: ignore[no-any-return]


@pytest.fixture
def anonymous(pricing_server: LiveServer, http_client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(pricing_server.graphql_url, http_client)


async def test_an_anonymous_estimate_is_the_engines_answer_and_stores_nothing(
    pricing_manager, anonymous, vehicle_type, sessions
):
    await seed_rules(pricing_manager)
    coach = await vehicle_type("Motorcoach", 56)

    answer = await anonymous(ESTIMATE, {"input": trip(miles="150", vehicleTypeIds=[str(coach)])})

    estimate = answer.ok()["estimateQuote"]
    assert estimate["total"] == "726.50"
    assert [(x["kind"], x["amount"]) for x in estimate["lines"]] == [
        ("BASE_RATE", "350.00"),
        ("MILEAGE_RATE", "375.00"),
        ("FUEL_SURCHARGE", "1.50"),
    ]
    assert estimate["distanceEstimated"] is False
    assert await stored_quotes(sessions) == 0


async def test_without_vehicle_types_the_estimate_prices_the_recommended_ones(
    pricing_manager, anonymous, vehicle_type, sessions
):
    await seed_rules(pricing_manager)
    await vehicle_type("Minibus", 30)
    await vehicle_type("Motorcoach", 56)

    forty = (await anonymous(ESTIMATE, {"input": trip(miles="150")})).ok()["estimateQuote"]
    seventy = (await anonymous(ESTIMATE, {"input": trip(miles="150", passengers=70)})).ok()[
        "estimateQuote"
    ]

    # 40 seat in one coach (726.50) rather than two minibuses (2 x 726.50).
    assert forty["total"] == "726.50"
    assert forty["lines"][0]["label"] == "Base rate (Motorcoach)"
    # 70 need two vehicles; a coach and a minibus cost the same as two coaches
    # (2 x 726.50), and a tie goes to the larger seats.
    assert seventy["total"] == "1453.00"
    assert [x["label"] for x in seventy["lines"] if x["kind"] == "BASE_RATE"] == [
        "Base rate (2 x Motorcoach)"
    ]
    assert await stored_quotes(sessions) == 0


async def test_estimated_miles_from_stops_are_said_to_be_estimated(
    pricing_manager, anonymous, vehicle_type
):
    await seed_rules(pricing_manager)
    await vehicle_type()

    memphis_to_nashville = [[35.1495, -90.049], [36.1627, -86.7816]]
    estimate = (await anonymous(ESTIMATE, {"input": trip(stops=memphis_to_nashville)})).ok()[
        "estimateQuote"
    ]

    assert estimate["distanceEstimated"] is True
    assert estimate["miles"] == "235.6"  # 196.3 great-circle miles x the 1.2 road factor


@pytest.mark.parametrize(
    "fields",
    [
        {"miles": "150", "pickupLocal": "2026-12-02T09:00:00+02:00"},
        {"miles": "150", "pickupLocal": "next Wednesday"},
        {"miles": "150", "pickupTimeZone": "Mars/Olympus_Mons"},
        {"miles": "-5"},
        {"miles": "150", "passengers": 1001},
        {"miles": "150", "passengers": 0},
        {},
        {"stops": [[35.1495, -90.049]]},
        {"miles": "150", "vehicleTypeIds": [str(uuid.uuid4())]},
    ],
    ids=[
        "offset",
        "not-a-time",
        "unknown-zone",
        "negative-miles",
        "too-many-passengers",
        "no-passengers",
        "no-miles-no-stops",
        "one-stop",
        "unknown-vehicle-type",
    ],
)
async def test_bad_estimates_are_bad_user_input_and_store_nothing(
    fields, pricing_manager, anonymous, sessions
):
    await seed_rules(pricing_manager)

    answer = await anonymous(ESTIMATE, {"input": trip(**fields)})

    assert answer.error_codes == ["BAD_USER_INPUT"], answer.body
    assert answer.data is None or answer.data.get("estimateQuote") is None
    assert await stored_quotes(sessions) == 0


@pytest.fixture
async def limited_pricing(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    """Pricing allowing 3 estimates a minute per address."""
    settings = subgraph_settings.model_copy(update={"pricing_estimates_per_minute": 3})
    async with serve(create_app(settings)) as server:
        yield server


async def test_estimates_are_limited_per_caller_address(
    limited_pricing, http_client, pricing_manager, vehicle_type
):
    await seed_rules(pricing_manager)
    await vehicle_type()
    caller = GraphQLClient(limited_pricing.graphql_url, http_client)

    async def ask(address: str) -> list[str]:
        # The test's peer is 127.0.0.1, a trusted proxy: it names the caller's address.
        answer = await caller(
            ESTIMATE, {"input": trip(miles="150")}, headers={"X-Forwarded-For": address}
        )
        return answer.error_codes

    first = [await ask("203.0.113.7") for _ in range(4)]
    second = [await ask("203.0.113.8") for _ in range(4)]

    assert first == [[], [], [], ["RATE_LIMITED"]]
    assert second == [[], [], [], ["RATE_LIMITED"]]  # its own count, not the first one's


async def test_a_forged_forwarded_for_does_not_escape_the_limit(
    limited_pricing, http_client, vehicle_type
):
    await vehicle_type()
    caller = GraphQLClient(limited_pricing.graphql_url, http_client)

    # The rightmost untrusted hop counts: what a client wrote to its left is ignored.
    codes = [
        (
            await caller(
                ESTIMATE,
                {"input": trip(miles="150")},
                headers={"X-Forwarded-For": f"10.9.9.{n}, 203.0.113.9"},
            )
        ).error_codes
        for n in range(4)
    ]

    assert codes == [[], [], [], ["RATE_LIMITED"]]


async def test_sixty_passengers_get_the_cheapest_cover(pricing_manager, vehicle_type):
    coach = await vehicle_type("Motorcoach", 56)
    minibus = await vehicle_type("Minibus", 30)
    sprinter = await vehicle_type("Sprinter", 14)
    await create(pricing_manager, name="Mileage", type="MILEAGE_RATE", value="2.50")
    for type_id, base in ((coach, "380.00"), (minibus, "260.00"), (sprinter, "100.00")):
        made = await create(
            pricing_manager,
            name=f"Base {base}",
            type="BASE_RATE",
            value=base,
            scope="VEHICLE_TYPE",
            scopeValue=str(type_id),
        )
        assert made["userErrors"] == [], made

    picks = (await pricing_manager(RECOMMEND, {"p": 60, "miles": "100"})).ok()["recommendVehicles"]

    # One vehicle for 100 miles: coach 380 + 250 = 630, minibus 260 + 250 = 510,
    # sprinter 100 + 250 = 350. Seating 60: coach + sprinter 980; two minibuses 1020;
    # two coaches 1260; minibus + 3 sprinters 1560; 5 sprinters 1750.
    assert picks == [
        {"name": "Motorcoach", "capacity": 56, "count": 1, "unitPrice": "630.00"},
        {"name": "Sprinter", "capacity": 14, "count": 1, "unitPrice": "350.00"},
    ]

    # Cheaper minibuses (200 + 250 = 450 each) turn the answer to two of them: 900 < 980.
    rules = (await pricing_manager("{ pricingRules { edges { node { id name } } } }")).ok()
    minibus_rule = next(
        e["node"]["id"]
        for e in rules["pricingRules"]["edges"]
        if e["node"]["name"] == "Base 260.00"
    )
    await pricing_manager(UPDATE, {"id": minibus_rule, "input": {"value": "200.00"}})
    picks = (await pricing_manager(RECOMMEND, {"p": 60, "miles": "100"})).ok()["recommendVehicles"]
    assert picks == [{"name": "Minibus", "capacity": 30, "count": 2, "unitPrice": "450.00"}]


@pytest.mark.parametrize(
    ("role", "code"),
    [
        ("client", "FORBIDDEN"),
        ("vendor", "FORBIDDEN"),
        ("driver", "FORBIDDEN"),
        ("dispatcher", "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ],
)
async def test_recommendations_are_for_pricing_staff(role, code, pricing_as):
    caller = await pricing_as(*([role] if role else []))

    assert (await caller(RECOMMEND, {"p": 60, "miles": "100"})).error_codes == [code]


async def test_quote_history_by_charter_and_by_client_newest_first(pricing_manager, pricing_as):
    ids = await seed_rules(pricing_manager)
    client, other = uuid.uuid4(), uuid.uuid4()
    first, second = uuid.uuid4(), uuid.uuid4()

    async def quote(rep: dict[str, Any]) -> None:
        assert (await pricing_manager(QUOTE, {"r": [rep]})).errors == []

    await quote(charter(charter_id=first, client_id=client))  # 726.50
    await pricing_manager(UPDATE, {"id": ids["Base rate"], "input": {"value": "360.00"}})
    await quote(charter(charter_id=first, client_id=client))  # 736.50
    await quote(charter(charter_id=second, client_id=client, miles="100"))  # 611.00
    await quote(charter(client_id=other))  # someone else's
    staff = await pricing_as("dispatcher")

    by_charter = (await staff(HISTORY, {"charter": str(first)})).ok()["quoteHistory"]
    by_client = (await staff(HISTORY, {"client": str(client)})).ok()["quoteHistory"]

    assert [e["node"]["total"] for e in by_charter["edges"]] == ["736.50", "726.50"]
    assert {e["node"]["charterId"] for e in by_charter["edges"]} == {str(first)}
    assert by_client["totalCount"] == 3
    assert [(e["node"]["charterId"], e["node"]["total"]) for e in by_client["edges"]] == [
        (str(second), "611.00"),
        (str(first), "736.50"),
        (str(first), "726.50"),
    ]
    assert {e["node"]["clientId"] for e in by_client["edges"]} == {str(client)}


async def test_quote_history_is_for_staff_only_and_needs_a_charter_or_a_client(pricing_as):
    own = uuid.uuid4()
    client = await pricing_as("client", client_id=own)

    refused = await client(HISTORY, {"client": str(own)})  # not even its own
    vague = await (await pricing_as("manager"))(HISTORY, {})

    assert refused.error_codes == ["FORBIDDEN"]
    assert vague.error_codes == ["BAD_USER_INPUT"]


async def test_with_no_vehicle_types_the_calculator_says_so(anonymous):
    answer = await anonymous(
        """{ estimateQuote(input: {tripType: ONE_WAY, pickupLocal: "2026-12-02T09:00",
          passengers: 10, miles: "10"}) { total } }"""
    )

    assert answer.error_codes == ["BAD_USER_INPUT"]
    assert "No vehicle types" in answer.errors[0]["message"]
