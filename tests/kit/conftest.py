from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWK
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.settings import Settings
from tests.kit import sample_subgraph
from tests.support import forged_tokens as forge
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve

KID = "kit-test-key"


class StaticKeys:
    """A `KeySource` holding fixed public keys, as a JWKS would."""

    def __init__(self, keys: dict[str, Ed25519PrivateKey]) -> None:
        self.keys = {
            kid: PyJWK.from_json(OKPAlgorithm.to_jwk(k.public_key()), algorithm="EdDSA")
            for kid, k in keys.items()
        }

    async def get_key(self, kid: str) -> PyJWK | None:
        return self.keys.get(kid)


@pytest.fixture(scope="session")
def private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def key_source(private_key: Ed25519PrivateKey) -> StaticKeys:
    return StaticKeys({KID: private_key})


@pytest.fixture
def token_for(private_key: Ed25519PrivateKey, settings: Settings) -> Any:
    """A valid token for a viewer with `roles` (and optional other claims)."""

    def make(*roles: str, **claims: Any) -> str:
        payload = forge.claims(settings.jwt_issuer, settings.jwt_audience, roles=list(roles))
        payload.update(claims)
        return forge.signed(private_key, KID, payload)

    return make


@pytest.fixture(scope="session")
async def kit_tables(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """The sample subgraph's tables, in their own schema, for this test session."""
    async with sessions() as session, session.begin():
        await session.execute(text(f"CREATE SCHEMA IF NOT EXISTS {sample_subgraph.SCHEMA}"))
        conn = await session.connection()
        await conn.run_sync(sample_subgraph.Base.metadata.create_all)
    yield
    async with sessions() as session, session.begin():
        await session.execute(text(f"DROP SCHEMA IF EXISTS {sample_subgraph.SCHEMA} CASCADE"))


@pytest.fixture(autouse=True)
async def _empty_kit_tables(
    kit_tables: None, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    yield
    async with sessions() as session, session.begin():
        await session.execute(
            text(f"TRUNCATE {sample_subgraph.SCHEMA}.items, {sample_subgraph.SCHEMA}.outbox")
        )


@pytest.fixture(scope="session")
async def kit_server(settings: Settings, key_source: StaticKeys) -> AsyncIterator[LiveServer]:
    app = create_subgraph_app(
        "kit-test",
        sample_subgraph.schema,
        settings=settings,
        key_source=lambda _services: key_source,
    )
    async with serve(app) as server:
        yield server


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
def gql(kit_server: LiveServer, http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(kit_server.graphql_url, http)
