"""The tours subgraph on a real port, and clients for each kind of caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from subgraphs.kit.settings import Settings
from subgraphs.tours.app import create_app
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

ERRORS = "userErrors { field code message }"


@pytest.fixture(scope="session")
async def tours_server(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    # jobs run by the clock (the cutoff, offer expiry) are tested by calling them; none may
    # cancel a test's departure in the middle of it
    settings = subgraph_settings.model_copy(update={"tours_jobs_enabled": False})
    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture
def tours_as(tours_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter) -> Any:
    """`await tours_as("manager")`, `tours_as("client", user_id=...)`; no roles: anonymous."""

    async def make(
        *roles: str, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
    ) -> GraphQLClient:
        token = await mint(*roles, user_id=user_id, client_id=client_id) if roles else None
        return GraphQLClient(tours_server.graphql_url, http_client, token)

    return make


@pytest.fixture
async def tours_manager(tours_as: Any) -> GraphQLClient:
    return await tours_as("manager")  # type: ignore[no-any-return]
