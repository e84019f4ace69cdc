"""The pricing subgraph on a real port, and charters' facts as charters' events would give them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from subgraphs.kit.settings import Settings
from subgraphs.pricing.app import create_app
from subgraphs.pricing.service.facts import apply_charter_event, apply_vehicle_type_event
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

ERRORS = "userErrors { field code message }"


@pytest.fixture(scope="session")
async def pricing_server(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_app(subgraph_settings)) as server:
        yield server


@pytest.fixture
def pricing_as(
    pricing_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> Any:
    async def make(
        *roles: str, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
    ) -> GraphQLClient:
        token = await mint(*roles, user_id=user_id, client_id=client_id) if roles else None
        return GraphQLClient(pricing_server.graphql_url, http_client, token)

    return make


@pytest.fixture
async def pricing_manager(pricing_as: Any) -> GraphQLClient:
    return await pricing_as("manager")  # type: ignore[no-any-return]


def _event(payload: dict[str, Any]) -> dict[str, Any]:
    return {"occurredAt": datetime.now(UTC).isoformat(), "payload": payload}


@pytest.fixture
def vehicle_type(sessions: Any) -> Any:
    """A vehicle type as charters announces it (`charters.vehicle_type_changed`)."""

    async def make(name: str = "Motorcoach", capacity: int = 56) -> uuid.UUID:
        type_id = uuid.uuid4()
        payload = {"vehicleTypeId": str(type_id), "name": name, "capacity": capacity}
        async with sessions() as session, session.begin():
            await apply_vehicle_type_event(session, _event(payload))
        return type_id

    return make


@pytest.fixture
def charter_fact(sessions: Any) -> Any:
    """A charter as charters announces it (`charters.charter_changed`)."""

    async def make(
        *,
        client_id: uuid.UUID | None = None,
        agent_id: uuid.UUID | None = None,
        status: str = "quote",
        trip_type: str = "one_way",
        vehicle_type_ids: tuple[uuid.UUID, ...] = (),
    ) -> uuid.UUID:
        charter_id = uuid.uuid4()
        payload = {
            "charterId": str(charter_id),
            "clientId": str(client_id or uuid.uuid4()),
            "salesAgentId": str(agent_id) if agent_id else None,
            "status": status,
            "tripType": trip_type,
            "pickupAt": datetime.now(UTC).isoformat(),
            "vehicles": [
                {"id": str(uuid.uuid4()), "vehicleTypeId": str(t)} for t in vehicle_type_ids
            ],
        }
        async with sessions() as session, session.begin():
            await apply_charter_event(session, _event(payload))
        return charter_id

    return make
