"""schemathesis generates operations from the served charters schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from subgraphs.charters.app import create_app
from subgraphs.identity.app import create_app as create_identity_app
from subgraphs.kit.settings import Settings
from tests.support.fuzzing import assert_no_server_error
from tests.support.live_server import LiveServer
from tests.support.threaded_server import threaded_server
from tests.support.tokens import TokenMinter

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server(settings: Settings) -> Iterator[LiveServer]:
    # Both apps run in threads: the sync fuzzing test blocks the test loop,
    # so a JWKS served from that loop could not answer.
    with threaded_server(create_identity_app(settings)) as identity:
        jwks = f"{identity.base_url}/.well-known/jwks.json"
        # Introspection is off on subgraphs unless configured; the fuzzer reads the schema.
        charters_settings = settings.model_copy(
            update={"jwt_jwks_url": jwks, "subgraph_introspection": True}
        )
        with threaded_server(create_app(charters_settings)) as server:
            yield server


@pytest.fixture
async def manager_token(mint: TokenMinter) -> str:
    return await mint("manager")


@pytest.fixture
def charters_schema(fuzz_server: LiveServer) -> schemathesis.graphql.GraphQLSchema:
    return schemathesis.graphql.from_url(fuzz_server.graphql_url)


schema = schemathesis.pytest.from_fixture("charters_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_operations_never_fail_internally(case, manager_token):
    assert_no_server_error(case.call(headers={"Authorization": f"Bearer {manager_token}"}))
