"""A client's portal on the charters subgraph: its own company's charters, its fields only."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.graphql_client import GraphQLClient, GraphQLResponse
from tests.support.live_server import LiveServer
from tests.support.tokens import TokenMinter

CHARTER = """
query($id: ID!) {
  charter(id: $id) {
    reference status passengerCount totalCost
    stops { position address }
    vehicles { capacity cost vehicleType { name } vehicle { plate } }
    notes auditLog(first: 5) { totalCount }
  }
}"""

MY_CHARTERS = """
query($where: MyChartersFilter) {
  myCharters(first: 10, where: $where) {
    totalCount
    edges { node { reference status stops { address } } }
  }
}"""

BOOK = """
mutation($id: ID!) { setCharterStatus(id: $id, status: BOOKED) { userErrors { code message } } }
"""


@pytest.fixture
def as_client(
    charters_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> Any:
    async def make(client_id: str) -> GraphQLClient:
        token = await mint("client", client_id=uuid.UUID(client_id))
        return GraphQLClient(charters_server.graphql_url, http_client, token)

    return make


def errors_at(response: GraphQLResponse) -> dict[str, str]:
    return {".".join(str(p) for p in e["path"]): e["extensions"]["code"] for e in response.errors}


async def test_a_client_reads_its_charter_and_is_refused_the_internal_fields(
    bookable_charter, as_client
):
    company = str(uuid.uuid4())
    charter = await bookable_charter(clientId=company, notes="Internal: VIP, upsell")
    mine = await as_client(company)

    answer = await mine(CHARTER, {"id": charter["id"]})

    node = answer.data["charter"]
    assert node["reference"] == charter["reference"]
    assert node["status"] == "QUOTE"
    assert node["totalCost"] == "1250.00"
    assert [s["address"] for s in node["stops"]] == [
        "1 Main St, Springfield",
        "9 Lake Rd, Shelbyville",
    ]
    assert node["vehicles"][0]["capacity"] == 56
    assert node["vehicles"][0]["cost"] == "1250.00"
    assert node["vehicles"][0]["vehicle"] is None
    assert node["notes"] is None
    assert node["auditLog"] is None
    assert errors_at(answer) == {
        "charter.notes": "FORBIDDEN",
        "charter.auditLog": "FORBIDDEN",
        "charter.vehicles.0.vehicle": "FORBIDDEN",
    }


async def test_another_company_does_not_find_the_charter(bookable_charter, as_client):
    charter = await bookable_charter(clientId=str(uuid.uuid4()))
    stranger = await as_client(str(uuid.uuid4()))

    answer = await stranger(CHARTER, {"id": charter["id"]})

    assert answer.data is None
    assert answer.error_codes == ["NOT_FOUND"]


async def test_my_charters_lists_the_company_charters_with_filters(
    bookable_charter, as_client, staff
):
    company = str(uuid.uuid4())
    quote = await bookable_charter(clientId=company, days=10)
    booked = await bookable_charter(clientId=company, days=20)
    await bookable_charter(clientId=str(uuid.uuid4()))  # another company's
    assert (await staff(BOOK, {"id": booked["id"]})).ok()["setCharterStatus"]["userErrors"] == []
    mine = await as_client(company)

    everything = (await mine(MY_CHARTERS)).ok()["myCharters"]
    only_booked = (await mine(MY_CHARTERS, {"where": {"status": ["BOOKED"]}})).ok()["myCharters"]
    before_booked = (await mine(MY_CHARTERS, {"where": {"pickupTo": _pickup_day(15)}})).ok()[
        "myCharters"
    ]

    assert everything["totalCount"] == 2
    assert [e["node"]["reference"] for e in everything["edges"]] == [
        quote["reference"],
        booked["reference"],
    ]
    assert everything["edges"][0]["node"]["stops"][0]["address"] == "1 Main St, Springfield"
    assert [e["node"]["reference"] for e in only_booked["edges"]] == [booked["reference"]]
    assert [e["node"]["reference"] for e in before_booked["edges"]] == [quote["reference"]]


async def test_only_clients_have_my_charters(as_role):
    vendor = await as_role("vendor")
    answer = await vendor(MY_CHARTERS)
    assert answer.error_codes == ["FORBIDDEN"]


def _pickup_day(days: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=days)).isoformat()
