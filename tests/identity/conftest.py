from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.identity.app import create_app
from subgraphs.identity.models import User
from subgraphs.identity.service import accounts
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


@pytest.fixture(scope="session")
async def identity(settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_app(settings)) as server:
        yield server


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
