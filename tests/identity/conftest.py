from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from subgraphs.identity.app import create_app
from subgraphs.identity.keys import ActiveKey, Keyring
from subgraphs.identity.models import User
from subgraphs.identity.rate_limit import Throttle, ThrottlePolicy
from subgraphs.identity.service import accounts
from subgraphs.identity.service.sessions import Revocations
from subgraphs.kit.settings import Settings
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve

PASSWORD = "correct horse battery"

LOGIN = """
mutation Login($email: String!, $password: String!, $otp: String) {
  login(email: $email, password: $password, otp: $otp) {
    accessToken refreshToken accessTokenExpiresAt
    user { id email roles }
    userErrors { field code message }
  }
}
"""

ME = "{ me { id email roles name } }"

REFRESH = """
mutation Refresh($token: String!) {
  refreshToken(refreshToken: $token) {
    accessToken refreshToken
    user { id }
    userErrors { field code message }
  }
}
"""

INVALID_REFRESH = [
    {
        "field": "refreshToken",
        "code": "INVALID_REFRESH_TOKEN",
        "message": "The refresh token is not valid.",
    }
]


async def refresh(gql, token: str) -> dict:
    return (await gql(REFRESH, {"token": token})).ok()["refreshToken"]


@pytest.fixture(scope="session")
def identity_app(settings: Settings) -> Starlette:
    return create_app(settings)


@pytest.fixture(scope="session")
async def identity(identity_app: Starlette) -> AsyncIterator[LiveServer]:
    async with serve(identity_app) as server:
        yield server


@pytest.fixture
def identity_keyring(identity_app: Starlette, identity: LiveServer) -> Keyring:
    """The keyring the running identity app signs and verifies with."""
    keyring: Keyring = identity_app.state.services.extra["keyring"]
    return keyring


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
def gql(identity: LiveServer, http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(identity.graphql_url, http)


@pytest.fixture
def make_user(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async def factory(
        *roles: str, email: str | None = None, password: str = PASSWORD, name: str = "Test User"
    ) -> User:
        data = accounts.NewUser(
            email=email or f"user-{uuid.uuid4().hex[:10]}@example.com",
            name=name,
            roles=list(roles or ("client",)),
            password=password,
        )
        async with sessions() as session, session.begin():
            return await accounts.create_user(session, data, actor_id=None)

    return factory


@pytest.fixture
def login(gql: GraphQLClient) -> Any:
    async def do(email: str, password: str = PASSWORD, otp: str | None = None) -> dict[str, Any]:
        response = await gql(LOGIN, {"email": email, "password": password, "otp": otp})
        payload: dict[str, Any] = response.ok()["login"]
        return payload

    return do


@pytest.fixture
async def signing_key(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> ActiveKey:
    """The current signing key, for service-level calls that mint tokens."""
    keyring = Keyring(sessions, access_ttl_seconds=settings.jwt_access_ttl_seconds)
    return await keyring.active()


@pytest.fixture
def throttle_for(redis: Any, settings: Settings) -> Any:
    """Identity's limits as one caller address sees them, for service-level calls."""

    def make(address: str = "198.51.100.20") -> Throttle:
        return Throttle(redis, ThrottlePolicy.from_settings(settings), address)

    return make


@pytest.fixture
def throttle(throttle_for: Any) -> Throttle:
    return throttle_for()  # type: ignore[no-any-return]


@pytest.fixture
def revocations(redis: Any, settings: Settings) -> Revocations:
    return Revocations(redis, settings.jwt_access_ttl_seconds)


@pytest.fixture
def count_rows(sessions: async_sessionmaker[AsyncSession]) -> Any:
    """How many rows a model's table holds, read in a fresh session."""

    async def count(model: Any, *where: Any) -> int:
        async with sessions() as session:
            total = await session.scalar(select(func.count()).select_from(model).where(*where))
        return int(total or 0)

    return count


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token we minted, read without checking the signature."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims
