"""End to end: Athena's dispatch board through the router.

The real charters and identity apps on real ports, the checked-in
supergraph pointed at them, and a board asking for the charter's sales
agent name, which only identity knows: each event from charters is
completed with an entity fetch to identity.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from router.subscriptions import SubscriptionRegistry
from subgraphs.charters.app import create_app as charters_app
from subgraphs.kit.settings import Settings
from tests.router_subscriptions.client import recv, subscribe, until_done, ws_client
from tests.router_subscriptions.conftest import eventually
from tests.support.charters_fixtures import register_client
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

SUPERGRAPH = Path(__file__).parents[2] / "schema" / "supergraph.graphql"

BOARD = """
subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) {
    changes
    charter { reference status salesAgent { name } }
  }
}"""

CREATE_TYPE = """
mutation($name: String!, $capacity: Int!) {
  createVehicleType(name: $name, capacity: $capacity) { vehicleType { id } userErrors { code } }
}"""

CREATE_CHARTER = """
mutation($input: CreateCharterInput!) {
  createCharter(input: $input) { charter { id reference } userErrors { field code message } }
}"""

CREATE_USER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code } } }
"""


@pytest.fixture
async def athena_router(
    subgraph_settings: Settings, identity_server: LiveServer, tmp_path: Path
) -> AsyncIterator[tuple[str, LiveServer, SubscriptionRegistry]]:
    async with serve(charters_app(subgraph_settings)) as charters:
        urls = {"charters": charters.graphql_url, "identity": identity_server.graphql_url}
        sdl = re.sub(
            r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
            lambda m: (
                f'@join__graph(name: "{m[1]}", url: "{urls.get(m[1], "http://127.0.0.1:9/graphql")}")'
            ),
            SUPERGRAPH.read_text(),
        )
        (tmp_path / "supergraph.graphql").write_text(sdl)
        config = Config(
            supergraph=str(tmp_path / "supergraph.graphql"),
            subgraph_timeout=5,
            jwks_url=subgraph_settings.jwks_url,
        )
        holder = GatewayHolder(config)
        holder.try_load()
        registry = SubscriptionRegistry()
        app = create_app(config, holder, subscriptions=registry)
        async with serve(app) as router:
            yield router.ws_url, charters, registry
            await registry.close_all()


async def test_board_events_are_completed_from_identity(
    athena_router: tuple[str, LiveServer, SubscriptionRegistry],
    identity_server: LiveServer,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
) -> None:
    ws_url, charters, registry = athena_router
    admin = GraphQLClient(identity_server.graphql_url, http_client, await mint("admin"))
    created = await admin(
        CREATE_USER,
        {
            "input": {
                "email": f"m{uuid.uuid4().hex[:8]}@example.com",
                "name": "Marta Manager",
                "roles": ["MANAGER"],
                "password": "correct horse battery staple 1",
            }
        },
    )
    user_id = uuid.UUID(created.ok()["createUser"]["user"]["id"])
    token = await mint("manager", user_id=user_id)
    staff = GraphQLClient(charters.graphql_url, http_client, token)
    vtype = (await staff(CREATE_TYPE, {"name": "Coach E2E", "capacity": 56})).ok()
    charter_input: dict[str, Any] = {
        "clientId": await register_client(staff),  # a charter's client must be known
        "tripType": "ONE_WAY",
        "passengerCount": 40,
        "pickupLocal": (datetime.now() + timedelta(days=30))
        .replace(hour=9, minute=0, second=0, microsecond=0)
        .isoformat(timespec="minutes"),
        "pickupTimeZone": "America/Chicago",
        "stops": [
            {"type": "PICKUP", "address": "1 Main St, Springfield"},
            {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
        ],
        "vehicles": [
            {"vehicleTypeId": vtype["createVehicleType"]["vehicleType"]["id"], "cost": "1250.00"}
        ],
    }
    middle = datetime.now(UTC) + timedelta(days=30)
    window = {
        "from": (middle - timedelta(days=1)).isoformat(),
        "to": (middle + timedelta(days=1)).isoformat(),
    }
    async with ws_client(ws_url, {"Authorization": f"Bearer {token}"}) as ws:
        await subscribe(ws, "board", BOARD, window)
        await eventually(lambda: registry.upstream_sockets == 1)
        await asyncio.sleep(0.2)  # the subgraph's listener is set up after the ack
        created = (await staff(CREATE_CHARTER, {"input": charter_input})).ok()["createCharter"]
        assert created["userErrors"] == []
        charter = created["charter"]
        event = await recv(ws, wait=10)
        assert event["type"] == "next", event
        assert event["payload"] == {
            "data": {
                "dispatchBoard": {
                    "changes": ["created"],
                    "charter": {
                        "reference": charter["reference"],
                        "status": "QUOTE",
                        "salesAgent": {"name": "Marta Manager"},
                    },
                }
            }
        }
    # an unauthenticated board is refused by charters, through the router
    async with ws_client(ws_url) as anonymous:
        await subscribe(anonymous, "board", BOARD, window)
        refused = await until_done(anonymous, "board")
    assert [m["type"] for m in refused] == ["error"]
    assert refused[0]["payload"][0]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "serviceName": "charters",
    }
    await eventually(lambda: registry.active == 0 and registry.upstream_sockets == 0)
