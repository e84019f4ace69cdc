"""`Charter.quote` through the real router: charters supplies the `@requires` facts.

Real identity, charters, vendors and pricing apps on real ports, the
checked-in supergraph pointed at them. The pricing app is wrapped to count
the GraphQL requests it receives, so the batching of `_entities` shows; the
SQL recorder counts the statements pricing runs. Rules are set up through
pricing's API (via the router), charters through charters' API, so every
figure here is what a portal would read.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.engine import record_statements
from subgraphs.charters.service.vendor_access import apply_access_event, apply_vendor_user_event
from subgraphs.kit.settings import Settings
from subgraphs.pricing.app import create_app as pricing_app
from subgraphs.pricing.models import QuoteCalculation
from tests.charters.ops import ASSIGN, CREATE_DRIVER, book, fleet_vehicle
from tests.pricing.test_quotes import seed_rules
from tests.pricing.test_rules_api import UPDATE
from tests.support.charters_fixtures import CREATE_CHARTER, CREATE_TYPE, apply_event, event_now
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router
from tests.support.tokens import TokenMinter
from tests.vendors.test_headline_query import CountRequests

HEADLINE = """query($id: ID!) { charter(id: $id) { reference
  quote { total lines { label amount } }
  vehicles { vehicleType { name } vendor { name } } } }"""
LIST = """{ charters(first: 50) { edges { node { reference
  quote { total lines { label amount } } } } } }"""
MINE = """{ myCharters(first: 20) { edges { node { id reference quote { total } } } } }"""
QUOTE_ONLY = """query($id: ID!) { charter(id: $id) { reference quote { total accepted } } }"""
PRICING_SQL = re.compile(r"\bpricing\.")


@dataclass
class Routed:
    url: str
    http: httpx.AsyncClient
    mint: TokenMinter
    counts: Counter[str]

    async def as_(self, *roles: str, **claims: Any) -> GraphQLClient:
        return GraphQLClient(self.url, self.http, await self.mint(*roles, **claims))


@pytest.fixture
async def routed(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    charters_server: LiveServer,
    vendors_server: LiveServer,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    tmp_path: Path,
) -> AsyncIterator[Routed]:
    counts: Counter[str] = Counter()
    pricing = CountRequests(pricing_app(subgraph_settings), "pricing", counts)
    async with serve(pricing) as p:
        urls = {
            "identity": identity_server.graphql_url,
            "charters": charters_server.graphql_url,
            "vendors": vendors_server.graphql_url,
            "pricing": p.graphql_url,
        }
        async with serve_router(subgraph_settings.jwks_url, urls, tmp_path) as router:
            yield Routed(router.graphql_url, http_client, mint, counts)


def next_local(weekday: int, hour: int = 9, days: int = 30) -> str:
    """The first ISO `weekday` at least `days` ahead, as a local wall time."""
    day = date.today() + timedelta(days=days)
    day += timedelta(days=(weekday - day.isoweekday()) % 7)
    return f"{day.isoformat()}T{hour:02d}:00"


@dataclass
class Sales:
    """Charters made through the router by one sales agent, for one client."""

    agent: GraphQLClient
    client_id: str
    type_id: str

    async def charter(self, miles: str, weekday: int = 3, **overrides: Any) -> dict[str, Any]:
        data = {
            "clientId": self.client_id,
            "tripType": "ONE_WAY",
            "passengerCount": 40,
            "pickupLocal": next_local(weekday),
            "pickupTimeZone": "America/Chicago",
            "estimatedMiles": miles,
            "stops": [
                {"type": "PICKUP", "address": "1 Main St, Springfield"},
                {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
            ],
            "vehicles": [{"vehicleTypeId": self.type_id, "cost": "1250.00"}],
            **overrides,
        }
        made = (await self.agent(CREATE_CHARTER, {"input": data})).ok()["createCharter"]
        assert made["userErrors"] == [], made["userErrors"]
        return made["charter"]  # type: ignore[no-any-return]


@pytest.fixture
async def sales(routed: Routed, staff: GraphQLClient, known_client: Any, known_agent: Any) -> Sales:
    agent_id = uuid.uuid4()
    await known_agent(agent_id)
    coach = (await staff(CREATE_TYPE, {"name": "Motorcoach", "capacity": 56})).ok()
    return Sales(
        agent=await routed.as_("sales_agent", user_id=agent_id),
        client_id=await known_client(),
        type_id=coach["createVehicleType"]["vehicleType"]["id"],
    )


@pytest.fixture
async def manager(routed: Routed) -> GraphQLClient:
    """A manager through the router: the price list is edited through pricing's API."""
    return await routed.as_("manager")


async def test_the_headline_an_agent_creates_and_reads_the_quote_with_vendors_in_one_request(
    routed, manager, sales
):
    await seed_rules(manager)
    weekday = await sales.charter("150", weekday=3)

    answer = await sales.agent(HEADLINE, {"id": weekday["id"]})

    assert answer.errors == [], answer.body
    charter = answer.data["charter"]
    assert charter["reference"] == weekday["reference"]
    assert charter["quote"]["total"] == "726.50"
    assert [x["amount"] for x in charter["quote"]["lines"]] == ["350.00", "375.00", "1.50"]
    assert charter["vehicles"] == [{"vehicleType": {"name": "Motorcoach"}, "vendor": None}]


async def test_a_saturday_200_miles_and_the_mileage_edit_through_the_router(routed, manager, sales):
    ids = await seed_rules(manager)
    saturday = await sales.charter("200", weekday=6)

    weekend = (await sales.agent(HEADLINE, {"id": saturday["id"]})).ok()["charter"]["quote"]
    edited = (await manager(UPDATE, {"id": ids["Mileage"], "input": {"value": "2.75"}})).ok()
    hundred = await sales.charter("100", weekday=3)
    after = (await sales.agent(HEADLINE, {"id": hundred["id"]})).ok()["charter"]["quote"]

    assert weekend["total"] == "1114.50"
    assert sum(Decimal(x["amount"]) for x in weekend["lines"]) == Decimal("1114.50")
    assert edited["updatePricingRule"]["userErrors"] == []
    mileage = [x for x in after["lines"] if x["label"].startswith("Mileage")]
    assert mileage == [{"label": "Mileage (Motorcoach): 100 mi x 2.75", "amount": "275.00"}]
    assert after["total"] == "626.00"  # 350.00 + 275.00 + 1.00 fuel


async def _list_costs(routed: Routed, manager: GraphQLClient, expected: int) -> tuple[int, int]:
    routed.counts.clear()
    with record_statements() as recorder:
        edges = (await manager(LIST)).ok()["charters"]["edges"]
    assert len(edges) == expected
    assert {e["node"]["quote"]["total"] for e in edges} == {"726.50"}
    pricing_sql = sum(1 for s in recorder.statements if PRICING_SQL.search(s))
    return routed.counts["pricing"], pricing_sql


async def test_fifty_quotes_cost_one_request_to_pricing_and_constant_sql(routed, manager, sales):
    await seed_rules(manager)
    # Warm: plans, keys, and the hours-of-service limits' row (made on first read).
    assert (await manager("{ hoursOfServiceRules { maxDrivingHours } }")).errors == []
    for _ in range(5):
        await sales.charter("150")

    small_new = await _list_costs(routed, manager, 5)  # priced and stored
    small_stored = await _list_costs(routed, manager, 5)  # found again
    for _ in range(45):
        await sales.charter("150")
    large_new = await _list_costs(routed, manager, 50)
    large_stored = await _list_costs(routed, manager, 50)

    requests = {small_new[0], small_stored[0], large_new[0], large_stored[0]}
    assert requests == {1}  # the router batches all 50 representations in one `_entities`
    assert small_new[1] == large_new[1]
    assert small_stored[1] == large_stored[1]
    # new quotes also announce their prices (`pricing.quote_priced`): one statement more
    assert 0 < large_stored[1] <= large_new[1] <= 11


async def test_a_client_reads_its_own_quote_and_another_client_does_not(
    routed, manager, sales, known_client
):
    await seed_rules(manager)
    charter = await sales.charter("150")
    own = await routed.as_("client", client_id=uuid.UUID(sales.client_id))
    stranger = await routed.as_("client", client_id=uuid.UUID(await known_client()))

    mine = await own(MINE)
    direct = await own(QUOTE_ONLY, {"id": charter["id"]})
    theirs = await stranger(MINE)
    peek = await stranger(QUOTE_ONLY, {"id": charter["id"]})

    assert mine.errors == [], mine.body
    assert [e["node"]["quote"] for e in mine.data["myCharters"]["edges"]] == [{"total": "726.50"}]
    assert direct.ok()["charter"]["quote"]["total"] == "726.50"
    assert theirs.ok()["myCharters"]["edges"] == []
    assert (peek.data or {}).get("charter") is None
    assert peek.error_codes == ["NOT_FOUND"], peek.body  # charters does not say it exists


def _quote_errors(answer: Any) -> list[str]:
    return [e["extensions"]["code"] for e in answer.errors if e.get("path") == ["charter", "quote"]]


async def test_a_related_vendor_and_the_assigned_driver_read_the_charter_but_no_quote(
    routed, manager, sales, staff
):
    await seed_rules(manager)
    charter = await sales.charter("150")
    await book(staff, charter["id"])
    vendor_id, vendor_user, driver_user = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await apply_event(
        apply_vendor_user_event,
        event_now({"userId": str(vendor_user), "vendorId": str(vendor_id)}),
    )
    # Vendors announces the charter's (empty) access set when it learns of the booking; a
    # set computed later than that one is the one charters keeps.
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    access = {
        "charterId": charter["id"],
        "asOf": later,
        "vendors": [{"vendorId": str(vendor_id), "reasons": ["assignment"]}],
    }
    await apply_event(apply_access_event, event_now(access))
    expires = (date.today() + timedelta(days=800)).isoformat()
    driver = (
        await staff(CREATE_DRIVER, {"userId": str(driver_user), "name": "Dana", "expires": expires})
    ).ok()["createDriver"]["driver"]
    bus = await fleet_vehicle(staff, sales.type_id)
    assigned = await staff(
        ASSIGN, {"cv": charter["vehicles"][0]["id"], "vehicle": bus["id"], "driver": driver["id"]}
    )
    assert assigned.ok()["assignCharterVehicle"]["userErrors"] == []

    for reader in (
        await routed.as_("vendor", user_id=vendor_user),
        await routed.as_("driver", user_id=driver_user),
    ):
        answer = await reader(QUOTE_ONLY, {"id": charter["id"]})
        assert answer.data["charter"]["reference"] == charter["reference"], answer.body
        assert answer.data["charter"]["quote"] is None
        assert _quote_errors(answer) == ["FORBIDDEN"], answer.body


async def _accepted(sessions: Any, charter_id: str) -> bool:
    async with sessions() as session:
        held = await session.scalar(
            select(QuoteCalculation.id).where(
                QuoteCalculation.charter_id == uuid.UUID(charter_id), QuoteCalculation.accepted
            )
        )
    return held is not None


async def test_a_booked_charter_keeps_its_accepted_quote_after_a_rule_edit(
    routed, manager, sales, staff, sessions
):
    ids = await seed_rules(manager)
    charter = await sales.charter("150")
    shown = (await sales.agent(QUOTE_ONLY, {"id": charter["id"]})).ok()["charter"]["quote"]
    assert shown == {"total": "726.50", "accepted": False}

    await book(staff, charter["id"])
    deadline = asyncio.get_running_loop().time() + 10
    while not await _accepted(sessions, charter["id"]):
        assert asyncio.get_running_loop().time() < deadline, "pricing never accepted the quote"
        await asyncio.sleep(0.05)
    await manager(UPDATE, {"id": ids["Mileage"], "input": {"value": "9.99"}})
    fresh = await sales.charter("150")

    booked = (await sales.agent(QUOTE_ONLY, {"id": charter["id"]})).ok()["charter"]["quote"]
    repriced = (await sales.agent(QUOTE_ONLY, {"id": fresh["id"]})).ok()["charter"]["quote"]

    assert booked == {"total": "726.50", "accepted": True}
    assert repriced["total"] == "1850.00"  # 350.00 + 150 x 9.99 (1498.50) + 1.50: the edit bites
