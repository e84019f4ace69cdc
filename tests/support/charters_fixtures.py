"""Charters subgraph fixtures, shared by every suite that needs charters (a pytest plugin)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import make_engine, session_factory
from subgraphs.charters.app import create_app
from subgraphs.charters.service import directory
from subgraphs.kit.settings import Settings, get_settings
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


def event_now(payload: dict[str, Any]) -> dict[str, Any]:
    """An event as a consumer receives it, occurring now."""
    return {"occurredAt": datetime.now(UTC).isoformat(), "payload": payload}


def client_event(client_id: uuid.UUID | str, name: str = "Acme Corp") -> dict[str, Any]:
    """`sales.client_changed` as sales announces a client (the fields charters reads)."""
    return event_now({"clientId": str(client_id), "name": name, "status": "active"})


async def apply_event(
    handler: Callable[[AsyncSession, dict[str, Any]], Awaitable[None]], event: dict[str, Any]
) -> None:
    """Deliver one event to a charters projection handler, as its consumer would."""
    engine = make_engine(get_settings().database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            await handler(session, event)
    finally:
        await engine.dispose()


async def register_client(
    client: GraphQLClient, client_id: str | None = None, name: str = "Acme Corp"
) -> str:
    """Make a client known to charters (a charter's client must be); returns its id.

    Charters learns clients only from sales' `sales.client_changed` events, so
    this applies one through charters' own handler instead of running sales.
    `client` (whoever would have registered it) is kept for the callers' sake.
    """
    client_id = client_id or str(uuid.uuid4())
    await apply_event(directory.apply_client_event, client_event(client_id, name))
    return client_id


@pytest.fixture
def known_client(staff: GraphQLClient) -> Any:
    """Makes a client known to charters (as sales would announce it) and returns its id."""

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
def known_agent() -> Any:
    """Makes a user a known sales agent: charters learns agents from identity's events."""

    async def make(user_id: uuid.UUID | str | None = None) -> str:
        agent_id = str(user_id or uuid.uuid4())
        await apply_event(
            directory.apply_user_event,
            event_now({"userId": agent_id, "roles": ["sales_agent"], "active": True}),
        )
        return agent_id

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
