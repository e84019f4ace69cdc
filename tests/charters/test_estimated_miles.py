"""`Charter.estimatedMiles`: the trip miles an agent enters, kept for pricing.

Entered on create and update (null clears them), checked (more than 0, at
most 10000, one decimal place), carried by quote revisions and copied by
clones, templates and splits; through the router, pricing's `Charter.quote`
`@requires` them and prices seed 002's weekday trip at 726.50.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from subgraphs.kit.settings import Settings
from subgraphs.pricing.app import create_app as create_pricing
from tests.charters.ops import book, read_charter
from tests.charters.series_ops import CLONE, save_template
from tests.pricing.test_quotes import seed_rules
from tests.support.charters_fixtures import register_client
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router
from tests.support.tokens import TokenMinter

ERRORS = "userErrors { field code message }"
CREATE = f"""mutation($input: CreateCharterInput!) {{
  createCharter(input: $input) {{ charter {{ id reference estimatedMiles }} {ERRORS} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateCharterInput!) {{
  updateCharter(id: $id, input: $input) {{
    charter {{ id estimatedMiles }} changeCase {{ id after }} {ERRORS} }} }}"""
MILES = "query($id: ID!) { charter(id: $id) { estimatedMiles notes } }"
REVISE = f"mutation($id: ID!) {{ reviseQuote(id: $id) {{ charter {{ quoteRevision }} {ERRORS} }} }}"
REVISIONS = """query($id: ID!) { charter(id: $id) { estimatedMiles
  quoteRevisions { revision snapshot } } }"""
SPLIT = f"""mutation($id: ID!, $passengers: Int!, $vehicles: [ID!]!) {{
  splitCharter(id: $id, passengersToNew: $passengers, vehicleIds: $vehicles) {{
    charter {{ id estimatedMiles }} {ERRORS} }} }}"""


def errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def miles_of(staff: GraphQLClient, charter_id: str) -> Any:
    return (await staff(MILES, {"id": charter_id})).ok()["charter"]["estimatedMiles"]


async def test_miles_entered_on_create_are_kept_to_one_decimal(staff, bookable_charter):
    whole = await bookable_charter(estimatedMiles="150")
    tenths = await bookable_charter(estimatedMiles=212.5)
    trailing = await bookable_charter(estimatedMiles="99.50")
    none = await bookable_charter()

    assert await miles_of(staff, whole["id"]) == "150.0"
    assert await miles_of(staff, tenths["id"]) == "212.5"
    assert await miles_of(staff, trailing["id"]) == "99.5"
    assert await miles_of(staff, none["id"]) is None


async def test_update_sets_changes_and_null_clears_the_miles(staff, bookable_charter):
    charter = await bookable_charter()

    set_ = (await staff(UPDATE, {"id": charter["id"], "input": {"estimatedMiles": "80"}})).ok()
    other = (await staff(UPDATE, {"id": charter["id"], "input": {"notes": "Bring water"}})).ok()
    kept = await miles_of(staff, charter["id"])
    cleared = (await staff(UPDATE, {"id": charter["id"], "input": {"estimatedMiles": None}})).ok()

    assert set_["updateCharter"]["charter"]["estimatedMiles"] == "80.0"
    # An update that does not name the miles leaves them as they were.
    assert other["updateCharter"]["userErrors"] == []
    assert kept == "80.0"
    assert cleared["updateCharter"]["charter"]["estimatedMiles"] is None
    assert await miles_of(staff, charter["id"]) is None


@pytest.mark.parametrize(
    ("miles", "code"),
    [
        ("-5", "OUT_OF_RANGE"),
        ("0", "OUT_OF_RANGE"),
        ("10000.1", "OUT_OF_RANGE"),
        ("NaN", "OUT_OF_RANGE"),
        ("150.25", "INVALID"),
    ],
)
async def test_bad_miles_are_a_user_error_and_change_nothing(
    staff, bookable_charter, sessions, miles, code
):
    charter = await bookable_charter(estimatedMiles="120")
    async with sessions() as session:
        before = await session.scalar(text("SELECT count(*) FROM charters.charters"))

    created = (
        await staff(
            CREATE,
            {
                "input": {
                    "clientId": await register_client(staff),
                    "tripType": "ONE_WAY",
                    "passengerCount": 10,
                    "pickupLocal": (datetime.now() + timedelta(days=20)).strftime("%Y-%m-%dT09:00"),
                    "pickupTimeZone": "America/Chicago",
                    "estimatedMiles": miles,
                }
            },
        )
    ).ok()["createCharter"]
    updated = (await staff(UPDATE, {"id": charter["id"], "input": {"estimatedMiles": miles}})).ok()[
        "updateCharter"
    ]
    async with sessions() as session:
        after = await session.scalar(text("SELECT count(*) FROM charters.charters"))

    assert created["charter"] is None
    assert errors(created) == [("estimatedMiles", code)]
    assert updated["charter"] is None
    assert errors(updated) == [("estimatedMiles", code)]
    assert after == before
    assert await miles_of(staff, charter["id"]) == "120.0"


async def test_the_database_refuses_miles_out_of_range(staff, bookable_charter, sessions):
    charter = await bookable_charter()

    async with sessions() as session, session.begin():
        refused = await session.scalar(
            text(
                "SELECT count(*) FROM pg_constraint WHERE conname = "
                "'ck_charters_estimated_miles_range'"
            )
        )
    with pytest.raises(IntegrityError, match="ck_charters_estimated_miles_range"):
        async with sessions() as session, session.begin():
            await session.execute(
                text("UPDATE charters.charters SET estimated_miles = 0 WHERE id = :id"),
                {"id": uuid.UUID(charter["id"])},
            )

    assert refused == 1


async def test_a_quote_revision_and_a_change_case_carry_the_miles(staff, bookable_charter):
    charter = await bookable_charter(estimatedMiles="150")

    await staff(REVISE, {"id": charter["id"]})
    await staff(UPDATE, {"id": charter["id"], "input": {"estimatedMiles": "175.5"}})
    await staff(REVISE, {"id": charter["id"]})
    read = (await staff(REVISIONS, {"id": charter["id"]})).ok()["charter"]
    await book(staff, charter["id"])
    booked = (await staff(UPDATE, {"id": charter["id"], "input": {"estimatedMiles": "190"}})).ok()[
        "updateCharter"
    ]

    assert [r["snapshot"]["estimated_miles"] for r in read["quoteRevisions"]] == [
        "150.0",
        "175.5",
    ]
    assert read["estimatedMiles"] == "175.5"
    # A booked charter's miles change through a change case, whose after-snapshot holds them.
    assert booked["userErrors"] == []
    assert booked["changeCase"]["after"]["estimated_miles"] == "190.0"
    assert await miles_of(staff, charter["id"]) == "175.5"


async def test_clones_templates_and_splits_copy_the_miles(staff, bookable_charter):
    source = await bookable_charter(passengers=60, vehicles=2, estimatedMiles="310.5")
    day = date.today() + timedelta(days=40)

    cloned = (await staff(CLONE, {"id": source["id"], "dates": [day.isoformat()]})).ok()
    template = await save_template(staff, source["id"], f"Shuttle {uuid.uuid4().hex[:6]}")
    vehicles = (await read_charter(staff, source["id"]))["vehicles"]
    split = (
        await staff(SPLIT, {"id": source["id"], "passengers": 20, "vehicles": [vehicles[1]["id"]]})
    ).ok()["splitCharter"]

    [clone] = cloned["cloneCharter"]["charters"]
    assert await miles_of(staff, clone["id"]) == "310.5"
    assert await miles_of(staff, template["id"]) == "310.5"
    assert split["userErrors"] == []
    assert split["charter"]["estimatedMiles"] == "310.5"


# Through the router: pricing's quote reads the miles charters keeps.

ROUTER_CREATE = f"""mutation($input: CreateCharterInput!) {{
  createCharter(input: $input) {{ charter {{ id }} {ERRORS} }} }}"""
ROUTER_READ = """query($id: ID!) { charter(id: $id) {
  reference estimatedMiles quote { total lines { label amount } } vehicles { vehicleType { name } } } }"""


@pytest.fixture(scope="module")
async def pricing(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_pricing(subgraph_settings)) as server:
        yield server


@pytest.fixture
async def router_url(
    subgraph_settings, identity_server, charters_server, pricing, tmp_path
) -> AsyncIterator[str]:
    urls = {
        "identity": identity_server.graphql_url,
        "charters": charters_server.graphql_url,
        "pricing": pricing.graphql_url,
    }
    async with serve_router(subgraph_settings.jwks_url, urls, tmp_path) as router:
        yield router.graphql_url


def next_wednesday(at_least_days: int = 14) -> date:
    day = date.today() + timedelta(days=at_least_days)
    return day + timedelta(days=(2 - day.weekday()) % 7)


async def test_a_150_mile_weekday_charter_is_quoted_726_50_through_the_router(
    router_url,
    pricing,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    staff,
    vehicle_type,
    known_agent,
):
    manager = GraphQLClient(pricing.graphql_url, http_client, await mint("manager"))
    await seed_rules(manager)
    agent_id = uuid.UUID(await known_agent())
    agent = GraphQLClient(router_url, http_client, await mint("sales_agent", user_id=agent_id))
    coach = await vehicle_type(name=f"Motorcoach {uuid.uuid4().hex[:6]}")
    wednesday = next_wednesday()

    created = (
        await agent(
            ROUTER_CREATE,
            {
                "input": {
                    "clientId": await register_client(staff),
                    "tripType": "ONE_WAY",
                    "passengerCount": 40,
                    "pickupLocal": f"{wednesday.isoformat()}T09:00",
                    "pickupTimeZone": "America/Chicago",
                    "estimatedMiles": "150",
                    "stops": [
                        {"type": "PICKUP", "address": "1 Main St, Dallas"},
                        {"type": "DROPOFF", "address": "9 Lake Rd, Austin"},
                    ],
                    "vehicles": [{"vehicleTypeId": coach["id"], "cost": "1250.00"}],
                }
            },
        )
    ).ok()["createCharter"]
    assert created["userErrors"] == []
    read = (await agent(ROUTER_READ, {"id": created["charter"]["id"]})).ok()["charter"]

    assert read["estimatedMiles"] == "150.0"
    assert read["quote"]["total"] == "726.50"
    assert [line["amount"] for line in read["quote"]["lines"]] == ["350.00", "375.00", "1.50"]
    assert read["vehicles"] == [{"vehicleType": {"name": coach["name"]}}]
    assert read["reference"].startswith("CH-")
