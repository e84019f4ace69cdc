"""Issue 9 "Done means" on the demo data: after `python -m db.demo`, each demo portal login
reads its own world through the real router (identity, charters and vendors apps)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from db.demo.__main__ import load_all
from db.demo.identity import DEMO_PASSWORD
from subgraphs.charters.models import VendorAccount, VendorCharterAccess
from subgraphs.identity.models import User
from tests.support.graphql_client import GraphQLClient, GraphQLResponse

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken userErrors { code message } } }"""
MY_CHARTERS = """{ myCharters(first: 50) { totalCount edges { node {
  reference status stops { address } totalCost notes } } } }"""
MY_BIDS = """{ myBids(first: 50) { edges { node { status charter { reference stops { address }
  vendorInstructions totalCost } } } } }"""
MY_ASSIGNMENTS = """query($window: AssignmentWindow!) { myAssignments(window: $window, first: 50) {
  edges { node { status charter { reference stops { address } } } } } }"""
CHARTER = """query($id: ID!) { charter(id: $id) { reference stops { address } totalCost } }"""
MY_TRIPS = (
    """{ myTrips { pickupAddress cost charter { reference stops { address } totalCost } } }"""
)


async def login(router_url: str, http_client: httpx.AsyncClient, role: str) -> GraphQLClient:
    anonymous = GraphQLClient(router_url, http_client)
    answer = await anonymous(LOGIN, {"email": f"{role}@demo.athena", "password": DEMO_PASSWORD})
    payload = answer.ok()["login"]
    assert payload["userErrors"] == [], payload
    return anonymous.as_user(payload["accessToken"])


def paths(response: GraphQLResponse) -> set[tuple[str, str]]:
    """(last path segment, code) of each error: what was refused, whatever the row."""
    return {(str(e["path"][-1]), e["extensions"]["code"]) for e in response.errors}


async def eventually(ask: Any, ready: Any, within: float = 15.0) -> GraphQLResponse:
    """Vendors' announcements reach charters through the outbox and Redis: wait for them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        answer = await ask()
        if ready(answer) or loop.time() > deadline:
            return answer  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)


async def only_offered(sessions: Any, email: str, within: float = 15.0) -> uuid.UUID:
    """A charter charters lets the demo vendor read for an offer alone (events are async)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        async with sessions() as session:
            found = await session.scalar(
                select(VendorCharterAccess.charter_id)
                .join(VendorAccount, VendorAccount.vendor_id == VendorCharterAccess.vendor_id)
                .join(User, User.id == VendorAccount.user_id)
                .where(User.email == email, VendorCharterAccess.reasons == ["offer"])
                .limit(1)
            )
        if found:
            return found  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"charters never learned of a charter offered to {email}")


async def test_the_demo_client_vendor_and_driver_read_their_world_through_the_router(
    router_url, http_client, sessions
):
    loaded = await load_all()
    assert all(loaded[name] > 0 for name in ("identity", "charters", "vendors")), loaded

    client = await login(router_url, http_client, "client")
    charters = await client(MY_CHARTERS)
    page = charters.data["myCharters"]
    assert page["totalCount"] > 0
    assert all(e["node"]["stops"] and e["node"]["totalCost"] for e in page["edges"])
    assert paths(charters) == {("notes", "FORBIDDEN")}

    vendor = await login(router_url, http_client, "vendor")
    bids = await eventually(
        lambda: vendor(MY_BIDS),
        lambda a: a.data and all(e["node"]["charter"] for e in a.data["myBids"]["edges"]),
    )
    edges = bids.data["myBids"]["edges"]
    assert edges, bids.body
    assert all(e["node"]["charter"] and e["node"]["charter"]["stops"] for e in edges), bids.body
    assert paths(bids) == {("totalCost", "FORBIDDEN")}, bids.errors
    served = []
    for window in ("PENDING", "UPCOMING", "PAST"):
        answer = await eventually(
            lambda w=window: vendor(MY_ASSIGNMENTS, {"window": w}),
            lambda a: not a.errors,
        )
        served += answer.ok()["myAssignments"]["edges"]
    assert served
    assert all(e["node"]["charter"]["stops"] for e in served)
    # Offered only (open to bids, in its service area, not bid on): it reads that charter too.
    offered = await only_offered(sessions, "vendor@demo.athena")
    answer = await vendor(CHARTER, {"id": str(offered)})
    assert answer.data["charter"]["stops"], answer.body
    assert paths(answer) == {("totalCost", "FORBIDDEN")}
    driver = await login(router_url, http_client, "driver")
    trips = await driver(MY_TRIPS)
    assert trips.data["myTrips"], trips.body
    assert all(t["charter"]["stops"] and t["cost"] is None for t in trips.data["myTrips"])
    assert paths(trips) == {("cost", "FORBIDDEN"), ("totalCost", "FORBIDDEN")}
