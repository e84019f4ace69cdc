"""schemathesis generates operations from the served identity schema."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from subgraphs.identity.app import create_app
from subgraphs.identity.service import accounts
from subgraphs.kit.settings import Settings
from tests.identity.conftest import LOGIN, PASSWORD
from tests.support.fuzzing import assert_no_server_error
from tests.support.live_server import LiveServer
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server(settings: Settings) -> Iterator[LiveServer]:
    # Introspection is off on subgraphs by default (issue 8, finding 10);
    # schemathesis reads the schema through it.
    fuzz_settings = settings.model_copy(update={"subgraph_introspection": True})
    with threaded_server(create_app(fuzz_settings)) as server:
        yield server


@pytest.fixture
async def admin_token(fuzz_server: LiveServer, sessions) -> str:
    async with sessions() as session, session.begin():
        await accounts.create_user(
            session,
            accounts.NewUser("fuzz-admin@example.com", "Fuzz Admin", ["admin"], PASSWORD),
            actor_id=None,
        )
    variables = {"email": "fuzz-admin@example.com", "password": PASSWORD}
    async with httpx.AsyncClient() as client:
        response = await client.post(
            fuzz_server.graphql_url, json={"query": LOGIN, "variables": variables}
        )
    return str(response.json()["data"]["login"]["accessToken"])


@pytest.fixture
def identity_schema(fuzz_server: LiveServer) -> schemathesis.graphql.GraphQLSchema:
    return schemathesis.graphql.from_url(fuzz_server.graphql_url)


schema = schemathesis.pytest.from_fixture("identity_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_operations_never_fail_internally(case, admin_token):
    response = case.call(headers={"Authorization": f"Bearer {admin_token}"})
    assert_no_server_error(response)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_operations_anonymous(case):
    assert_no_server_error(case.call())
