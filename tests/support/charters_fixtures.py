"""Charters subgraph fixtures, shared by every suite that needs charters (a pytest plugin)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from subgraphs.charters.app import create_app
from subgraphs.kit.settings import Settings
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter


@pytest.fixture(scope="session")
async def charters_server(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_app(subgraph_settings)) as server:
        yield server


@pytest.fixture
async def staff(
    charters_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> GraphQLClient:
    """A client for the charters subgraph, logged in as a manager."""
    return GraphQLClient(charters_server.graphql_url, http_client, await mint("manager"))


@pytest.fixture
def as_role(charters_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter) -> Any:
    async def make(*roles: str, user_id: uuid.UUID | None = None) -> GraphQLClient:
        return GraphQLClient(
            charters_server.graphql_url, http_client, await mint(*roles, user_id=user_id)
        )

    return make


def future_local(days: int = 30, hour: int = 9) -> str:
    day = datetime.now() + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat(timespec="minutes")


CREATE_TYPE = """
mutation($name: String!, $capacity: Int!) {
  createVehicleType(name: $name, capacity: $capacity) { vehicleType { id name capacity } userErrors { field code message } }
}"""

CREATE_CHARTER = """
mutation($input: CreateCharterInput!) {
  createCharter(input: $input) {
    charter { id reference status passengerCount totalCapacity totalCost
      stops { id position type address } vehicles { id capacity cost status vehicleType { name } } }
    userErrors { field code message }
  }
}"""


REGISTER_CLIENT = """
mutation($id: ID!, $name: String!) {
  registerClient(id: $id, name: $name) { client { id } name userErrors { field code message } }
}"""


async def register_client(
    client: GraphQLClient, client_id: str | None = None, name: str = "Acme Corp"
) -> str:
    """Put a client into charters' registry (a charter's client must be known)."""
    client_id = client_id or str(uuid.uuid4())
    payload = (await client(REGISTER_CLIENT, {"id": client_id, "name": name})).ok()[
        "registerClient"
    ]
    assert payload["userErrors"] == [], payload["userErrors"]
    return client_id


@pytest.fixture
def known_client(staff: GraphQLClient) -> Any:
    """Registers a client and returns its id."""

    async def make(client_id: str | None = None, name: str = "Acme Corp") -> str:
        return await register_client(staff, client_id, name)

    return make


@pytest.fixture
def vehicle_type(staff: GraphQLClient) -> Any:
    async def make(name: str | None = None, capacity: int = 56) -> dict[str, Any]:
        response = await staff(
            CREATE_TYPE, {"name": name or f"Coach {uuid.uuid4().hex[:6]}", "capacity": capacity}
        )
        payload = response.ok()["createVehicleType"]
        assert payload["userErrors"] == []
        return payload["vehicleType"]  # type: ignore[no-any-return]

    return make


@pytest.fixture
def known_agent(as_role: Any) -> Any:
    """Makes a user a known sales agent: charters learns agents from their verified requests."""

    async def make(user_id: uuid.UUID | str | None = None) -> str:
        agent_id = uuid.UUID(str(user_id)) if user_id else uuid.uuid4()
        agent = await as_role("sales_agent", user_id=agent_id)
        (await agent("{ myQuotes(first: 1) { totalCount } }")).ok()
        return str(agent_id)

    return make


@pytest.fixture
def bookable_charter(staff: GraphQLClient, vehicle_type: Any, known_agent: Any) -> Any:
    """A bookable quote made by a manager; a named `salesAgentId` is made known first."""

    async def make(
        passengers: int = 40, vehicles: int = 1, days: int = 30, **overrides: Any
    ) -> dict[str, Any]:
        if overrides.get("salesAgentId"):
            await known_agent(overrides["salesAgentId"])
        vtype = await vehicle_type()
        data = {
            "clientId": await register_client(staff, overrides.pop("clientId", None)),
            "tripType": "ONE_WAY",
            "passengerCount": passengers,
            "pickupLocal": future_local(days),
            "pickupTimeZone": "America/Chicago",
            "stops": [
                {"type": "PICKUP", "address": "1 Main St, Springfield"},
                {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
            ],
            "vehicles": [
                {"vehicleTypeId": vtype["id"], "cost": "1250.00"} for _ in range(vehicles)
            ],
            **overrides,
        }
        payload = (await staff(CREATE_CHARTER, {"input": data})).ok()["createCharter"]
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload["charter"]  # type: ignore[no-any-return]

    return make
