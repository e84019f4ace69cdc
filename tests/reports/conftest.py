"""The reports subgraph on a real port, and clients for each kind of caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.kit.settings import Settings
from subgraphs.reports.app import create_app
from subgraphs.sales.app import create_app as create_sales_app
from tests.conftest import truncate_all
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router
from tests.support.tokens import TokenMinter


@pytest.fixture(scope="session")
async def reports_server(
    subgraph_settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[LiveServer]:
    # jobs run by the clock are tested by calling them; none fires in the middle of a test
    settings = subgraph_settings.model_copy(update={"reports_jobs_enabled": False})
    async with serve(create_app(settings)) as server:
        # The app installs the shipped templates and schedules as it starts, inside whichever
        # test first needs it: emptied again, so every test starts from the same tables.
        await truncate_all(sessions)
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


@pytest.fixture(scope="module")
async def sales_live(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    """Sales, whose `leads` scope a sales agent to its own (the runner's token decides rows)."""
    settings = subgraph_settings.model_copy(update={"sales_follow_up_job_enabled": False})
    async with serve(create_sales_app(settings)) as server:
        yield server


@pytest.fixture(scope="module")
async def router_live(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    sales_live: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveServer]:
    """The real router over identity and sales, as report runs ask it."""
    urls = {"identity": identity_server.graphql_url, "sales": sales_live.graphql_url}
    directory = tmp_path_factory.mktemp("reports-router")
    async with serve_router(subgraph_settings.jwks_url, urls, directory) as router:
        yield router
