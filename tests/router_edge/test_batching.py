"""Query batching: a JSON array of operations in one POST, answered in order.

Real routers over the recording `accounts` subgraph: each operation of a
batch passes every guard on its own (validation, limits, authorization) and
a refused one is an error in its place while the others run; mutations run
in the order sent; the size limit and the off-by-default switch refuse the
whole batch with a 400; and Apollo Client's own BatchHttpLink
(tools/graphql-http/apollo.mjs) gets its two queries answered from one POST.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.config import Config
from router.guard.limits import Limits
from router.guard.rate_limit import RateLimit
from router.server.batching import batch_refusal
from router.server.payload import Batch
from tests.router_edge.router_harness import (
    Subgraph,
    base_config,
    router,
    subgraph,
    write_supergraph,
)
from tests.support.node_clients import run_client

DEEP = "{ users { friends { friends { friends { name } } } } }"
USERS = {"query": "{ users(first: 1) { id } }"}


def test_the_whole_batch_is_refused_when_off_empty_or_too_large() -> None:
    def code(config: Config, items: list[Any]) -> str | None:
        r = batch_refusal(config, Batch(items))
        return None if r is None else r.errors[0]["extensions"]["code"]

    on = Config(batching=True, batch_max_size=2)
    assert code(Config(), [{"query": "{ hello }"}]) == "BATCHING_NOT_ENABLED"
    assert code(on, []) == "BAD_REQUEST"
    assert code(on, [{}] * 3) == "BATCH_LIMIT_EXCEEDED"
    assert code(on, [{}] * 2) is None


@dataclass
class Live:
    graphql_url: str
    base_url: str
    accounts: Subgraph


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    tmp = tmp_path_factory.mktemp("batching")
    async with subgraph() as accounts:
        config = base_config(
            write_supergraph(tmp, accounts.url),
            batching=True,
            batch_max_size=6,
            limits=Limits(max_depth=3),
        )
        async with router(config) as server:
            yield Live(server.graphql_url, server.base_url, accounts)


@pytest.fixture(autouse=True)
def _forget(live: Live) -> None:
    live.accounts.clear()


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_each_operation_is_guarded_on_its_own_and_answered_in_its_place(
    live: Live,
) -> None:
    batch = [
        {"query": "query A { hello }"},
        {"query": "{ nope }"},  # invalid
        {"query": DEEP},  # over the depth limit
        {"query": "query Me { me { name } }"},  # @authenticated, sent anonymously
        "not an operation",
        {"query": "query U($n: Int) { users(first: $n) { id } }", "variables": {"n": 1}},
    ]
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(live.graphql_url, json=batch)
        metrics = (await c.get(f"{live.base_url}/metrics")).text
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    hello, invalid, deep, me, junk, users = r.json()
    assert hello == {"data": {"hello": "world"}}
    assert _codes(invalid) == ["GRAPHQL_VALIDATION_FAILED"]
    assert _codes(deep) == ["OPERATION_TOO_DEEP"]
    assert me["data"] == {"me": None}
    assert _codes(me) == ["UNAUTHORIZED_FIELD_OR_TYPE"]
    assert _codes(junk) == ["BAD_REQUEST"]
    assert users == {"data": {"users": [{"id": "0"}]}}
    # only the admitted operations reached the subgraph, and `me` without its field
    sent = sorted(b["query"] for b in live.accounts.bodies)
    assert sent == ["query($n: Int){users(first: $n){__typename id}}", "query{hello}"]
    # each operation counted on its own
    assert 'router_requests_total{operation="A",outcome="success"}' in metrics
    assert 'router_errors_total{code="OPERATION_TOO_DEEP"} 1.0' in metrics


async def test_mutations_run_in_the_order_sent(live: Live) -> None:
    batch = [
        {"query": "mutation First { touch }"},
        {"query": "query Between { hello }"},
        {"query": "mutation Second { touch }"},
        {"query": "mutation Third { touch }"},
    ]
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(live.graphql_url, json=batch)
    assert r.json() == [
        {"data": {"touch": 1}},
        {"data": {"hello": "world"}},
        {"data": {"touch": 1}},
        {"data": {"touch": 1}},
    ]
    seen = ["touch" if "touch" in b["query"] else "hello" for b in live.accounts.bodies]
    assert seen == ["touch", "hello", "touch", "touch"]


async def test_an_oversized_batch_is_refused_whole(live: Live) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(live.graphql_url, json=[{"query": "{ hello }"}] * 7)
    assert r.status_code == 400
    assert r.json()["errors"][0] == {
        "message": "A batch may contain at most 6 operations (this one has 7).",
        "extensions": {"code": "BATCH_LIMIT_EXCEEDED"},
    }
    assert live.accounts.bodies == []


async def test_a_router_without_batching_refuses_a_batch(tmp_path: Path) -> None:
    async with subgraph() as accounts:
        config = base_config(write_supergraph(tmp_path, accounts.url))
        async with router(config) as server, httpx.AsyncClient(timeout=5) as c:
            r = await c.post(server.graphql_url, json=[{"query": "{ hello }"}])
            single = await c.post(server.graphql_url, json={"query": "{ hello }"})
        assert len(accounts.bodies) == 1  # the single request only
    assert r.status_code == 400
    assert _codes(r.json()) == ["BATCHING_NOT_ENABLED"]
    assert single.json() == {"data": {"hello": "world"}}


async def test_apollo_clients_batch_http_link_gets_both_answers_from_one_post(
    live: Live,
) -> None:
    (result,) = await run_client(
        "apollo.mjs",
        "batch",
        live.graphql_url,
        "query Hello { hello }",
        "query Users { users(first: 2) { id name } }",
    )
    hello, users = result["answers"]
    assert hello == {"data": {"hello": "world"}, "error": None, "codes": []}
    assert users["error"] is None
    assert [u["name"] for u in users["data"]["users"]] == ["user0", "user1"]
    # one POST carrying both operations as a JSON array
    assert [s["method"] for s in result["sent"]] == ["POST"]
    assert [op["operationName"] for op in result["sent"][0]["body"]] == ["Hello", "Users"]
    assert len(live.accounts.bodies) == 2


async def test_each_operation_of_a_batch_counts_against_the_rate_limit(tmp_path: Path) -> None:
    """Three operations from one address with two left: the third is refused in its place."""
    n = uuid.uuid4().int
    address = {"x-forwarded-for": f"203.0.113.{n % 254 + 1}, 10.{n % 200}.9.1"}
    async with subgraph() as accounts:
        config = base_config(
            write_supergraph(tmp_path, accounts.url),
            batching=True,
            redis_url=os.environ["REDIS_URL"],
            rate_limit_address=RateLimit(2, 60.0, 2),
        )
        async with router(config) as server, httpx.AsyncClient(timeout=5) as c:
            first = await c.post(
                server.graphql_url, json=[{"query": "{ hello }"}, USERS, USERS], headers=address
            )
            second = await c.post(
                server.graphql_url, json=[{"query": "{ hello }"}] * 2, headers=address
            )
        assert len(accounts.bodies) == 2
    assert first.status_code == 200
    ok1, ok2, limited = first.json()
    assert ok1 == {"data": {"hello": "world"}}
    assert ok2 == {"data": {"users": [{"id": "0"}]}}
    assert _codes(limited) == ["RATE_LIMITED"]
    assert first.headers["retry-after"].isdigit()
    # nothing of the second batch ran: a 429, as for a single operation
    assert second.status_code == 429
    assert [_codes(b) for b in second.json()] == [["RATE_LIMITED"], ["RATE_LIMITED"]]
    assert int(second.headers["retry-after"]) >= 1
