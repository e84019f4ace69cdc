"""Portals through the real router: identity, charters and vendors apps on real ports."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from subgraphs.charters.models import VendorAccount, VendorCharterAccess
from subgraphs.kit.settings import Settings
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer
from tests.support.router import SUPERGRAPH, rewrite, serve_router
from tests.support.tokens import TokenMinter

# Re-exported for the router edge tests that import them from here.
__all__ = ["SUPERGRAPH", "rewrite"]


@pytest.fixture
async def router_url(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    charters_server: LiveServer,
    vendors_server: LiveServer,
    tmp_path: Path,
) -> AsyncIterator[str]:
    urls = {
        "charters": charters_server.graphql_url,
        "vendors": vendors_server.graphql_url,
        "identity": identity_server.graphql_url,
    }
    async with serve_router(subgraph_settings.jwks_url, urls, tmp_path) as router:
        yield router.graphql_url


@pytest.fixture
def through_router(router_url: str, http_client: httpx.AsyncClient, mint: TokenMinter) -> Any:
    """A router client for a token of these roles (and user, client company)."""

    async def make(
        *roles: str, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
    ) -> GraphQLClient:
        token = await mint(*roles, user_id=user_id, client_id=client_id)
        return GraphQLClient(router_url, http_client, token)

    return make


@pytest.fixture
def vendor_may_read(sessions: Any) -> Any:
    """Wait until charters' projection lets the vendor account read the charter."""

    async def wait(user_id: uuid.UUID, charter_id: str, within: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            async with sessions() as session:
                vendor_id = await session.scalar(
                    select(VendorAccount.vendor_id).where(VendorAccount.user_id == user_id)
                )
                found = vendor_id and await session.scalar(
                    select(VendorCharterAccess.reasons).where(
                        VendorCharterAccess.vendor_id == vendor_id,
                        VendorCharterAccess.charter_id == uuid.UUID(charter_id),
                    )
                )
            if found:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"charters never learned that {user_id} may read {charter_id}")

    return wait
