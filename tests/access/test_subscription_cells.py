"""schema/access_matrix.csv's admitted subscription cells, proved through the router.

test_matrix proves every `denied` subscription cell is refused. Here every role a
subscription's cell admits (`allowed`, `own`) subscribes over graphql-transport-ws through
the router, one connection per role, and an event is caused: each gets the event, with no
error. A charter created in the board's window is a `dispatchBoard` event; a driver's GPS
fix on its trip (a charter picking up within the hour) is a `vehiclePositions` event. An
`own` cell is asked on the role's own rows (the driver's trip) and on another's (a trip
another driver drives: refused).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from tests.access import reach as R
from tests.access.probe import AUTH_CODES
from tests.router_subscriptions.client import recv, subscribe, until_done, ws_client
from tests.support.charters_fixtures import CREATE_CHARTER
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer
from tests.support.tokens import TokenMinter
from tools import access_matrix as M

#: Charters, clients and the driver only (tests/access/reach.py `PARTS`).
WORLD_PARTS: frozenset[str] = frozenset()

BOARD = """subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) { changes charter { id } } }"""
POSITIONS = """subscription($ids: [ID!]!) {
  vehiclePositions(charterIds: $ids) { charterId latitude } }"""
POST = """mutation($trip: ID!, $at: DateTime!) {
  postPositions(tripId: $trip, positions: [{latitude: 41.88, longitude: -87.63, recordedAt: $at}])
  { userErrors { field code message } } }"""


#: One worker runs the module: its World is built once (pytest -n with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("access_subscription_cells")


@pytest.fixture(autouse=True)
def _isolate(module_isolation: None) -> None:
    """The module's World is built once: tables are emptied after the module, not each test."""


@pytest.fixture(scope="module")
def matrix() -> dict[str, M.Row]:
    return M.read_matrix()


def admitted(matrix: dict[str, M.Row], name: str) -> list[str]:
    return [r for r, c in matrix[f"Subscription.{name}"].items() if c in (M.ALLOWED, M.OWN)]


def test_every_subscription_cell_is_probed_by_one_side_or_the_other(
    matrix: dict[str, M.Row],
) -> None:
    """The denied cells are test_matrix's; every admitted one is called here."""
    names = {k.split(".", 1)[1] for k in matrix if k.startswith("Subscription.")}
    assert names == set(PROBES), names ^ set(PROBES)
    assert all(admitted(matrix, n) for n in names)


@contextlib.asynccontextmanager
async def connections(
    url: str, tokens: dict[str, str | None], query: str, variables: dict[str, Any]
) -> AsyncIterator[dict[str, ClientConnection]]:
    """One graphql-transport-ws connection per role, each subscribed (id `s`)."""
    async with contextlib.AsyncExitStack() as stack:
        sockets = {}
        for role, token in tokens.items():
            payload = {"Authorization": f"Bearer {token}"} if token else None
            ws = await stack.enter_async_context(ws_client(url, payload))
            await subscribe(ws, "s", query, variables)
            sockets[role] = ws
        yield sockets


async def events_reach_all(
    sockets: dict[str, ClientConnection], cause: Callable[[], Awaitable[None]], attempts: int = 8
) -> dict[str, dict[str, Any]]:
    """Cause an event until every socket has one (a subscription reaches the subgraph a
    moment after its ack; events before that are not replayed): each role's first message."""
    got: dict[str, dict[str, Any]] = {}
    for _ in range(attempts):
        await cause()
        for role, ws in sockets.items():
            if role in got:
                continue
            with contextlib.suppress(TimeoutError):
                got[role] = await recv(ws, wait=1.5)
        if len(got) == len(sockets):
            break
    return got


def _wrong(name: str, got: dict[str, dict[str, Any]], roles: list[str]) -> list[str]:
    out = []
    for role in roles:
        m = got.get(role)
        if m is None:
            out.append(f"Subscription.{name} {role}: no event")
        elif m["type"] != "next" or m["payload"].get("errors") or not m["payload"].get("data"):
            out.append(f"Subscription.{name} {role}: {m}")
    return out


async def test_every_admitted_dispatch_board_cell_streams_through_the_router(
    graph: LiveServer,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    world: R.World,
    matrix: dict[str, M.Row],
) -> None:
    roles = admitted(matrix, "dispatchBoard")
    admin = GraphQLClient(graph.graphql_url, http_client, await mint("admin"))
    middle = datetime.now(UTC) + timedelta(days=9)
    window = {
        "from": (middle - timedelta(days=1)).isoformat(),
        "to": (middle + timedelta(days=1)).isoformat(),
    }

    async def create() -> None:
        data = {
            "clientId": world.client,
            "tripType": "ONE_WAY",
            "passengerCount": 10,
            "pickupLocal": R.pickup_local(24 * 9),
            "pickupTimeZone": "America/Chicago",
            "stops": [
                {"type": "PICKUP", "address": "1 Main St, Springfield"},
                {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
            ],
            "vehicles": [{"vehicleTypeId": world.more["vehicle_type"], "cost": "500.00"}],
        }
        made = (await admin(CREATE_CHARTER, {"input": data})).ok()["createCharter"]
        assert made["userErrors"] == [], made

    tokens = {r: world.tokens[r] for r in roles}
    async with connections(graph.ws_url, tokens, BOARD, window) as sockets:
        got = await events_reach_all(sockets, create)
    assert _wrong("dispatchBoard", got, roles) == []


async def test_every_admitted_vehicle_positions_cell_streams_its_own_trips(
    graph: LiveServer,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    world: R.World,
    matrix: dict[str, M.Row],
) -> None:
    roles = admitted(matrix, "vehiclePositions")
    assert matrix["Subscription.vehiclePositions"]["driver"] == M.OWN
    admin = GraphQLClient(graph.graphql_url, http_client, await mint("admin"))
    trip = await R.trip_within_the_hour(admin, world)
    driver = admin.as_user(world.tokens["driver"])

    async def fix() -> None:
        posted = await driver(POST, {"trip": trip["vehicle"], "at": datetime.now(UTC).isoformat()})
        assert posted.ok()["postPositions"]["userErrors"] == [], posted.body

    tokens = {r: world.tokens[r] for r in roles}
    async with connections(graph.ws_url, tokens, POSITIONS, {"ids": [trip["id"]]}) as sockets:
        got = await events_reach_all(sockets, fix)
    assert _wrong("vehiclePositions", got, roles) == []
    # a charter the driver does not drive: the driver's own cell admits no other's
    payload = {"Authorization": f"Bearer {world.tokens['driver']}"}
    async with ws_client(graph.ws_url, payload) as ws:
        await subscribe(ws, "s", POSITIONS, {"ids": [world.other_charter]})
        refused = await until_done(ws, "s")
    codes = {
        (e.get("extensions") or {}).get("code")
        for m in refused
        for e in (
            m["payload"] if m["type"] == "error" else (m.get("payload") or {}).get("errors") or []
        )
    }
    assert codes & (AUTH_CODES | {"NOT_FOUND"}), refused


PROBES: dict[str, Any] = {
    "dispatchBoard": test_every_admitted_dispatch_board_cell_streams_through_the_router,
    "vehiclePositions": test_every_admitted_vehicle_positions_cell_streams_its_own_trips,
}
