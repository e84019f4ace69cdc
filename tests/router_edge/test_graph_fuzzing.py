"""schemathesis over the router's whole graph: generated operations never fail internally.

The router serves the composed API schema over every live subgraph (each in a thread of
its own: the fuzzer drives them synchronously from the test's thread). Operations drawn
from every root field, with valid and invalid values of our scalars, as a manager and
anonymously: no HTTP 5xx and no `INTERNAL` error, whatever the planner, the executor or a
subgraph makes of them.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from router.config import Config
from router.server.app import create_app as create_router
from router.server.holder import GatewayHolder
from subgraphs.identity.app import create_app as create_identity_app
from subgraphs.kit.settings import Settings
from tests.access.conftest import SUBGRAPHS, quiet
from tests.support.fuzzing import assert_no_server_error
from tests.support.live_server import LiveServer
from tests.support.router import SUPERGRAPH, rewrite
from tests.support.threaded_server import threaded_server
from tests.support.tokens import TokenMinter

pytestmark = pytest.mark.slow

# Scalars tests/support/fuzzing.py leaves to schemathesis' defaults, valid and not.
_noise = st.text(max_size=8)
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(st.decimals(-1000, 1000, places=2, allow_nan=False).map(str), _noise).map(
        nodes.String
    ),
)
schemathesis.graphql.scalar("JSON", st.one_of(_noise, st.just("{}")).map(nodes.String))

#: Examples per caller: every root field is drawn from, so this bounds the module's time.
EXAMPLES = 40


@contextlib.contextmanager
def threaded_graph(settings: Settings, directory: Path) -> Iterator[LiveServer]:
    with contextlib.ExitStack() as stack:
        identity = stack.enter_context(threaded_server(create_identity_app(settings)))
        jwks = f"{identity.base_url}/.well-known/jwks.json"
        each = quiet(settings.model_copy(update={"jwt_jwks_url": jwks}))
        urls = {"identity": identity.graphql_url}
        for name in SUBGRAPHS:
            app = importlib.import_module(f"subgraphs.{name}.app").create_app(each)
            urls[name] = stack.enter_context(threaded_server(app)).graphql_url
        (directory / "supergraph.graphql").write_text(rewrite(SUPERGRAPH.read_text(), urls))
        config = Config(
            supergraph=str(directory / "supergraph.graphql"), subgraph_timeout=20, jwks_url=jwks
        )
        holder = GatewayHolder(config)
        holder.try_load()
        yield stack.enter_context(threaded_server(create_router(config, holder)))


@pytest.fixture(scope="module")
def graph_router(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with threaded_graph(settings, tmp_path_factory.mktemp("graph-fuzz")) as router:
        yield router.graphql_url


@pytest.fixture
async def manager_token(mint: TokenMinter) -> str:
    return await mint("manager")


def _fuzz(url: str, headers: dict[str, str]) -> int:
    schema = schemathesis.graphql.from_url(url)
    operations = len(list(schema.get_all_operations()))
    calls = 0

    @given(case=schema.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        nonlocal calls
        calls += 1
        assert_no_server_error(case.call(headers=headers))

    run()
    assert calls >= EXAMPLES // 2, calls
    return operations


def test_generated_operations_over_the_whole_graph_never_fail_internally_for_staff(
    graph_router: str, manager_token: str
) -> None:
    # every root field of every subgraph is in the strategy drawn from
    assert _fuzz(graph_router, {"Authorization": f"Bearer {manager_token}"}) > 300


def test_generated_operations_over_the_whole_graph_never_fail_internally_anonymously(
    graph_router: str,
) -> None:
    assert _fuzz(graph_router, {}) > 300
