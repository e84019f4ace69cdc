"""Operation limits through a real router: refused with a code, never sent on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from router.config import load_config
from tests.router_edge.router_harness import Subgraph, router, subgraph, write_supergraph

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
async def accounts() -> AsyncIterator[Subgraph]:
    async with subgraph() as s:
        yield s


@pytest.fixture(autouse=True)
def _forget(accounts: Subgraph) -> None:
    accounts.clear()


@pytest.fixture(scope="module")
async def endpoint(
    accounts: Subgraph, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    path = write_supergraph(tmp_path_factory.mktemp("limits"), accounts.url)
    config = load_config(
        ["--supergraph", str(path)],
        {
            "ROUTER_MAX_DEPTH": "3",
            "ROUTER_MAX_ALIASES": "2",
            "ROUTER_MAX_ROOT_FIELDS": "2",
            "ROUTER_MAX_COST": "100",
            "ROUTER_JWKS_URL": "",
        },
    )
    async with router(config) as server:
        yield server.graphql_url


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        (
            "{ users(first: 1) { friends(first: 1) { friends(first: 1) { friends(first: 1) { id } } } } }",
            None,
            "OPERATION_TOO_DEEP",
        ),
        ("{ users(first: 1) { a: id b: id c: id } }", None, "TOO_MANY_ALIASES"),
        ("{ hello secret seenHeaders }", None, "TOO_MANY_ROOT_FIELDS"),
        ("{ users(first: 50) { friends(first: 50) { id } } }", None, "OPERATION_TOO_COSTLY"),
        (
            "query($n: Int) { users(first: $n) { friends(first: $n) { id } } }",
            {"n": 40},
            "OPERATION_TOO_COSTLY",
        ),
    ],
)
async def test_refused_operations_never_reach_a_subgraph(
    http: httpx.AsyncClient,
    endpoint: str,
    accounts: Subgraph,
    query: str,
    variables: dict[str, int] | None,
    code: str,
) -> None:
    r = await http.post(endpoint, json={"query": query, "variables": variables})
    assert r.status_code == 200
    body = r.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["extensions"]["measured"] > body["errors"][0]["extensions"]["limit"]
    strict = await http.post(
        endpoint,
        json={"query": query, "variables": variables},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert strict.status_code == 400
    assert accounts.bodies == []


async def test_operations_inside_the_limits_run(
    http: httpx.AsyncClient, endpoint: str, accounts: Subgraph
) -> None:
    query = "query($n: Int) { users(first: $n) { friends(first: $n) { id } } }"
    r = await http.post(endpoint, json={"query": query, "variables": {"n": 2}})
    assert r.json() == {
        "data": {"users": [{"friends": [{"id": "0"}, {"id": "1"}]}] * 2},
    }
    assert len(accounts.bodies) == 1
