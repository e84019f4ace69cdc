"""The contract's headline query through the router, and its cost.

Real identity, charters and vendors apps on real ports, the checked-in
supergraph pointed at them, and the router in-process. Each subgraph app
is wrapped to count the GraphQL requests it receives; the SQL recorder
counts statements issued while serving requests. Neither count may grow
with the number of vehicles, vendors or certifications.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.engine import record_statements
from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from subgraphs.charters.app import create_app as charters_app
from subgraphs.kit.settings import Settings
from subgraphs.vendors.app import create_app as vendors_app
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

SUPERGRAPH = Path(__file__).parents[2] / "schema" / "supergraph.graphql"

HEADLINE = """
query($id: ID!) {
  charter(id: $id) {
    reference
    vehicles { capacity vendor { name certifications { type number expiresOn status } } }
    vendorCompliance { allVendorsCompliant }
  }
}"""

ASSIGN = """
mutation($cv: ID!, $vendor: ID!, $amount: Money!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: $amount) {
    assignment { id } userErrors { field code message }
  }
}"""

CERTS = ("DOT", "MC", "INSURANCE", "BUSINESS_LICENSE")


class CountRequests:
    """ASGI wrapper counting POSTs to /graphql, by subgraph name."""

    def __init__(self, app: Any, name: str, counts: Counter[str]) -> None:
        self.app, self.name, self.counts = app, name, counts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql" and scope["method"] == "POST":
            self.counts[self.name] += 1
        await self.app(scope, receive, send)


@dataclass
class Routed:
    client: GraphQLClient
    counts: Counter[str]


def rewrite(sdl: str, urls: dict[str, str]) -> str:
    return re.sub(
        r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
        lambda m: (
            f'@join__graph(name: "{m[1]}", url: "{urls.get(m[1], "http://127.0.0.1:9/graphql")}")'
        ),
        sdl,
    )


@pytest.fixture
async def routed(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    tmp_path: Path,
) -> AsyncIterator[Routed]:
    counts: Counter[str] = Counter()
    charters = CountRequests(charters_app(subgraph_settings), "charters", counts)
    vendors = CountRequests(vendors_app(subgraph_settings), "vendors", counts)
    async with serve(charters) as c, serve(vendors) as v:
        urls = {
            "charters": c.graphql_url,
            "vendors": v.graphql_url,
            "identity": identity_server.graphql_url,
        }
        (tmp_path / "supergraph.graphql").write_text(rewrite(SUPERGRAPH.read_text(), urls))
        config = Config(
            supergraph=str(tmp_path / "supergraph.graphql"),
            subgraph_timeout=10,
            jwks_url=subgraph_settings.jwks_url,
        )
        holder = GatewayHolder(config)
        holder.try_load()
        async with serve(create_app(config, holder)) as router:
            yield Routed(
                GraphQLClient(router.graphql_url, http_client, await mint("manager")), counts
            )


@pytest.fixture
def headline_charter(bookable_charter, make_vendor, vendors_staff, projected) -> Any:
    """A charter with `vehicles` vehicles spread over `vendors` vendors with 4 certifications each."""

    async def make(vehicles: int, vendors: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        charter = await bookable_charter(passengers=20, vehicles=vehicles)
        made = [await make_vendor(f"Vendor {i + 1} Coaches", certs=CERTS) for i in range(vendors)]
        for i, vehicle in enumerate(charter["vehicles"]):
            await projected(vehicle["id"])
            answer = (
                await vendors_staff(
                    ASSIGN,
                    {"cv": vehicle["id"], "vendor": made[i % vendors]["id"], "amount": "800.00"},
                )
            ).ok()["assignVendor"]
            assert answer["userErrors"] == [], answer
        return charter, made

    return make


async def measure(routed: Routed, charter_id: str) -> tuple[dict[str, Any], Counter[str], int]:
    await routed.client(HEADLINE, {"id": charter_id})  # warm caches (plan, JWKS, pools)
    routed.counts.clear()
    with record_statements() as recorder:
        answer = (await routed.client(HEADLINE, {"id": charter_id})).ok()
    return answer, Counter(routed.counts), len(recorder.statements)


async def test_the_headline_query_answers_through_the_router(routed, headline_charter):
    charter, _ = await headline_charter(vehicles=2, vendors=1)

    answer = (await routed.client(HEADLINE, {"id": charter["id"]})).ok()["charter"]

    assert answer["reference"] == charter["reference"]
    assert answer["vendorCompliance"] == {"allVendorsCompliant": True}
    assert len(answer["vehicles"]) == 2
    for vehicle in answer["vehicles"]:
        assert vehicle["capacity"] == 56
        assert vehicle["vendor"]["name"] == "Vendor 1 Coaches"
        certs = vehicle["vendor"]["certifications"]
        assert sorted(c["type"] for c in certs) == sorted(CERTS)
        assert {c["status"] for c in certs} == {"ACTIVE"}
        assert all(c["number"] and c["expiresOn"] for c in certs)


async def test_an_unassigned_vehicle_has_no_vendor_and_compliance_is_unknown(
    routed, bookable_charter, projected
):
    charter = await bookable_charter(vehicles=1)
    await projected(charter["vehicles"][0]["id"])

    answer = (await routed.client(HEADLINE, {"id": charter["id"]})).ok()["charter"]

    assert answer["vehicles"] == [{"capacity": 56, "vendor": None}]
    # No vendor assigned is not "compliant" (security review finding 14).
    assert answer["vendorCompliance"] == {"allVendorsCompliant": None}


async def test_requests_and_sql_do_not_grow_with_vehicles_vendors_or_certifications(
    routed, headline_charter
):
    small, _ = await headline_charter(vehicles=2, vendors=1)
    large, _ = await headline_charter(vehicles=10, vendors=5)

    small_answer, small_requests, small_sql = await measure(routed, small["id"])
    large_answer, large_requests, large_sql = await measure(routed, large["id"])

    assert len(small_answer["charter"]["vehicles"]) == 2
    assert len(large_answer["charter"]["vehicles"]) == 10
    assert len({v["vendor"]["name"] for v in large_answer["charter"]["vehicles"]}) == 5
    assert (
        sum(len(v["vendor"]["certifications"]) for v in large_answer["charter"]["vehicles"]) == 40
    )
    assert small_requests == large_requests
    assert set(small_requests) == {"charters", "vendors"}
    assert small_sql == large_sql
    assert small_sql > 0
