"""Automatic persisted queries through real routers sharing a real Redis."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.router_edge.router_harness import (
    Subgraph,
    base_config,
    router,
    subgraph,
    write_supergraph,
)

PREFLIGHT = {"graphql-preflight": "1"}


def persisted(query: str) -> dict[str, Any]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def fresh_query() -> str:
    """A query no cache has seen (the name makes its hash unique)."""
    return f"query Q{uuid.uuid4().hex} {{ hello }}"


@pytest.fixture(scope="module")
async def accounts() -> AsyncIterator[Subgraph]:
    async with subgraph() as s:
        yield s


@pytest.fixture(autouse=True)
def _forget(accounts: Subgraph) -> None:
    accounts.clear()


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def _code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_round_trip_and_sharing_between_replicas_through_redis(
    http: httpx.AsyncClient, accounts: Subgraph, tmp_path: Path
) -> None:
    path = write_supergraph(tmp_path, accounts.url)
    config = base_config(path, redis_url=os.environ["REDIS_URL"])
    query = fresh_query()
    ext = persisted(query)
    async with router(config) as one, router(config) as two:
        missing = (await http.post(one.graphql_url, json={"extensions": ext})).json()
        assert missing["errors"][0]["message"] == "PersistedQueryNotFound"
        assert _code(missing) == "PERSISTED_QUERY_NOT_FOUND"
        assert accounts.bodies == []
        full = await http.post(one.graphql_url, json={"query": query, "extensions": ext})
        assert full.json() == {"data": {"hello": "world"}}
        again = await http.post(one.graphql_url, json={"extensions": ext})
        assert again.json() == {"data": {"hello": "world"}}
        # the other replica never saw the text: it comes from Redis, over GET too
        shared = await http.get(
            two.graphql_url, params={"extensions": orjson.dumps(ext).decode()}, headers=PREFLIGHT
        )
        assert shared.json() == {"data": {"hello": "world"}}


async def test_a_hash_that_does_not_match_is_refused(
    http: httpx.AsyncClient, accounts: Subgraph, tmp_path: Path
) -> None:
    config = base_config(write_supergraph(tmp_path, accounts.url))
    async with router(config) as one:
        body = (
            await http.post(
                one.graphql_url, json={"query": "{ hello }", "extensions": persisted("{ x }")}
            )
        ).json()
    assert _code(body) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert accounts.bodies == []


async def test_a_hash_only_mutation_over_get_is_still_refused(
    http: httpx.AsyncClient, accounts: Subgraph, tmp_path: Path
) -> None:
    config = base_config(write_supergraph(tmp_path, accounts.url))
    mutation = "mutation { touch }"
    ext = persisted(mutation)
    async with router(config) as one:
        await one_registers(http, one.graphql_url, mutation, ext)
        accounts.clear()
        r = await http.get(
            one.graphql_url, params={"extensions": orjson.dumps(ext).decode()}, headers=PREFLIGHT
        )
    assert r.status_code == 405
    assert accounts.bodies == []


async def one_registers(http: httpx.AsyncClient, url: str, query: str, ext: Any) -> None:
    r = await http.post(url, json={"query": query, "extensions": ext})
    assert "errors" not in r.json()


async def test_only_persisted_operations_mode(
    http: httpx.AsyncClient, accounts: Subgraph, tmp_path: Path
) -> None:
    path = write_supergraph(tmp_path, accounts.url)
    redis_url = os.environ["REDIS_URL"]
    known = fresh_query()
    async with router(base_config(path, redis_url=redis_url)) as open_router:
        await one_registers(http, open_router.graphql_url, known, persisted(known))
    accounts.clear()
    async with router(base_config(path, redis_url=redis_url, apq_only=True)) as strict:
        refused = (await http.post(strict.graphql_url, json={"query": fresh_query()})).json()
        assert _code(refused) == "PERSISTED_QUERY_ONLY"
        new = fresh_query()
        refused = (
            await http.post(strict.graphql_url, json={"query": new, "extensions": persisted(new)})
        ).json()
        assert _code(refused) == "PERSISTED_QUERY_ONLY"
        assert accounts.bodies == []
        ok = await http.post(strict.graphql_url, json={"extensions": persisted(known)})
        assert ok.json() == {"data": {"hello": "world"}}
