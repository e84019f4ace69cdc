"""The reports subgraph on a real port, and clients for each kind of caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from subgraphs.kit.settings import Settings
from subgraphs.reports.app import create_app
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter


@pytest.fixture(scope="session")
async def reports_server(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_app(subgraph_settings)) as server:
        yield server


@pytest.fixture
def reports_as(
    reports_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> Any:
    """`await reports_as("manager")`; no roles: anonymous."""

    async def make(*roles: str, user_id: uuid.UUID | None = None) -> GraphQLClient:
        token = await mint(*roles, user_id=user_id) if roles else None
        return GraphQLClient(reports_server.graphql_url, http_client, token)

    return make
