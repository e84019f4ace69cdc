"""The notifications subgraph on a real port, and callers of every kind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from subgraphs.kit.settings import Settings
from subgraphs.notifications.app import create_app
from tests.notifications.smtp_server import Inbox, local_smtp
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter


@pytest.fixture(scope="session")
async def notifications_server(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    # The worker and the reminder jobs stay off: tests drive them for chosen moments.
    settings = subgraph_settings.model_copy(
        update={"notifications_worker_enabled": False, "notifications_jobs_enabled": False}
    )
    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture
def caller(
    notifications_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> Any:
    """A GraphQL client of notifications with a token of the given roles (and client)."""

    async def make(
        *roles: str, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
    ) -> GraphQLClient:
        token = await mint(*roles, user_id=user_id, client_id=client_id)
        return GraphQLClient(notifications_server.graphql_url, http_client, token)

    return make


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real local SMTP server (aiosmtpd) refusing nobody@athena.example: (inbox, port)."""
    with local_smtp() as served:
        yield served


@pytest.fixture
async def default_templates(sessions: Any) -> int:
    """The shipped template of every kind and channel, installed (each test starts with none)."""
    from subgraphs.notifications.service.templates import install_defaults

    async with sessions() as s, s.begin():
        return await install_defaults(s)
