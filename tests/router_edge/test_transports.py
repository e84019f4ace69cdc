"""One edge for every transport: the same refused request gets the same refusal.

A real router over the recording `accounts` subgraph. Each refused request is
sent as a JSON POST, a GET, an SSE POST and a graphql-transport-ws
`subscribe`; each transport answers with the same errors (message and code),
none reaches the subgraph, and each refusal is counted in the metrics.
Content negotiation follows the client's Accept preference order.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from router.guard.limits import Limits
from router.guard.persisted_queries import sha256_hex
from tests.router_edge.router_harness import (
    Subgraph,
    base_config,
    router,
    subgraph,
    write_supergraph,
)
from tests.support.node_clients import run_client

PREFLIGHT = {"graphql-preflight": "1"}
DEEP = "{ me { friends { friends { friends { friends { name } } } } } }"


@pytest.fixture
async def accounts() -> AsyncIterator[Subgraph]:
    async with subgraph() as s:
        yield s


async def _ws(url: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Subscribe once over graphql-transport-ws; the messages until error or complete."""
    out: list[dict[str, Any]] = []
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while True:
            m = json.loads(await ws.recv())
            out.append(m)
            if m["type"] in ("error", "complete"):
                return out


def _codes(errors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["message"], e["extensions"]["code"]) for e in errors]


async def _over_every_transport(
    graphql_url: str, ws_url: str, payload: dict[str, Any]
) -> dict[str, tuple[int, list[tuple[str, str]]]]:
    """transport -> (HTTP status, [(message, code)]) of the answer to `payload`."""
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in payload.items()}
    async with httpx.AsyncClient(timeout=5) as c:
        post = await c.post(
            graphql_url, json=payload, headers={"accept": "application/graphql-response+json"}
        )
        get = await c.get(
            graphql_url,
            params=params,
            headers={**PREFLIGHT, "accept": "application/graphql-response+json"},
        )
        sse = await c.post(graphql_url, json=payload, headers={"accept": "text/event-stream"})
    ws = await _ws(ws_url, payload)
    assert ws[-1]["type"] == "error"
    return {
        "post": (post.status_code, _codes(post.json()["errors"])),
        "get": (get.status_code, _codes(get.json()["errors"])),
        "sse": (sse.status_code, _codes(sse.json()["errors"])),
        "ws": (400, _codes(ws[-1]["payload"])),
    }


async def test_a_persisted_only_refusal_is_the_same_over_every_transport(
    accounts: Subgraph, tmp_path: Path
) -> None:
    config = base_config(write_supergraph(tmp_path, accounts.url), apq_only=True)
    async with router(config) as live:
        answers = await _over_every_transport(live.graphql_url, live.ws_url, {"query": "{ hello }"})
        metrics = (await httpx.AsyncClient().get(f"{live.base_url}/metrics")).text
    expected = [("Only persisted operations are accepted.", "PERSISTED_QUERY_ONLY")]
    assert answers == dict.fromkeys(("post", "get", "sse", "ws"), (400, expected))
    assert accounts.bodies == []
    assert 'router_errors_total{code="PERSISTED_QUERY_ONLY"} 4.0' in metrics


async def test_a_too_deep_operation_is_refused_alike_over_every_transport(
    accounts: Subgraph, tmp_path: Path
) -> None:
    config = base_config(write_supergraph(tmp_path, accounts.url), limits=Limits(max_depth=3))
    async with router(config) as live:
        answers = await _over_every_transport(live.graphql_url, live.ws_url, {"query": DEEP})
    codes = {t: [c for _, c in errors] for t, (_, errors) in answers.items()}
    assert codes == {t: ["OPERATION_TOO_DEEP"] for t in ("post", "get", "sse", "ws")}
    assert len({tuple(errors) for _, errors in answers.values()}) == 1
    assert accounts.bodies == []


async def test_an_unknown_persisted_hash_is_not_found_over_every_transport(
    accounts: Subgraph, tmp_path: Path
) -> None:
    config = base_config(write_supergraph(tmp_path, accounts.url))
    ext = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex("{ hello }")}}
    async with router(config) as live:
        answers = await _over_every_transport(live.graphql_url, live.ws_url, {"extensions": ext})
    expected = [("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")]
    assert {t: errors for t, (_, errors) in answers.items()} == dict.fromkeys(
        ("post", "get", "sse", "ws"), expected
    )


async def test_csrf_refuses_a_simple_request_on_every_http_transport(
    accounts: Subgraph, tmp_path: Path
) -> None:
    """The reported hole: a text/plain login POST accepting text/event-stream ran."""
    config = base_config(write_supergraph(tmp_path, accounts.url))
    body = b'{"query": "mutation { touch }"}'
    async with router(config) as live, httpx.AsyncClient(timeout=5) as c:
        answers = [
            await c.post(
                live.graphql_url,
                content=body,
                headers={"content-type": "text/plain", "accept": accept},
            )
            for accept in ("application/json", "text/event-stream", "*/*")
        ]
        answers.append(
            await c.post(
                live.graphql_url,
                files={"operations": (None, body), "map": (None, b"{}")},
                headers={"accept": "text/event-stream"},
            )
        )
        get = await c.get(
            live.graphql_url, params={"query": "{ hello }"}, headers={"accept": "text/event-stream"}
        )
    for r in [*answers, get]:
        assert r.status_code == 400
        assert [e["extensions"]["code"] for e in r.json()["errors"]] == ["CSRF_ERROR"]
    assert accounts.bodies == []


async def test_a_post_without_content_type_is_415(accounts: Subgraph, tmp_path: Path) -> None:
    config = base_config(write_supergraph(tmp_path, accounts.url))
    async with router(config) as live, httpx.AsyncClient(timeout=5) as c:
        bare = await c.post(live.graphql_url, content=b'{"query": "{ hello }"}')
        preflighted = await c.post(
            live.graphql_url, content=b'{"query": "{ hello }"}', headers=PREFLIGHT
        )
        text = await c.post(
            live.graphql_url,
            content=b'{"query": "{ hello }"}',
            headers={**PREFLIGHT, "content-type": "text/plain"},
        )
    assert (bare.status_code, preflighted.status_code, text.status_code) == (415, 415, 415)
    assert accounts.bodies == []


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/graphql-response+json", "application/graphql-response+json"),
        # urql's default Accept: JSON first
        (
            "application/graphql-response+json, application/graphql+json, application/json, "
            "text/event-stream, multipart/mixed",
            "application/graphql-response+json",
        ),
        ("application/json, text/event-stream", "application/json"),
        ("text/event-stream, application/json", "text/event-stream"),
        ("application/json;q=0.5, text/event-stream", "text/event-stream"),
        ("text/event-stream;q=0.4, application/json;q=0.9", "application/json"),
        ("text/event-stream", "text/event-stream"),
    ],
)
async def test_queries_follow_the_accept_preference_order(
    accounts: Subgraph, tmp_path: Path, accept: str | None, expected: str
) -> None:
    config = base_config(write_supergraph(tmp_path, accounts.url))
    headers = {"accept": accept} if accept is not None else {}
    async with router(config) as live, httpx.AsyncClient(timeout=5) as c:
        # httpx adds `Accept: */*` unless told otherwise; None sends no Accept at all
        r = await c.post(live.graphql_url, json={"query": "{ hello }"}, headers=headers)
        if accept is None:
            req = c.build_request("POST", live.graphql_url, json={"query": "{ hello }"})
            del req.headers["accept"]
            r = await c.send(req)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == expected
    if expected == "text/event-stream":
        assert r.text.startswith('event: next\ndata: {"data":{"hello":"world"}}')
    else:
        assert r.json() == {"data": {"hello": "world"}}


async def test_urql_posts_and_gets_with_its_default_accept(
    accounts: Subgraph, tmp_path: Path
) -> None:
    """@urql/core itself, run by node (tools/graphql-http/urql.mjs), default exchanges."""
    config = base_config(write_supergraph(tmp_path, accounts.url))
    async with router(config) as live:
        (answer,) = await run_client("urql.mjs", live.graphql_url, "{ hello }")
    assert answer == {
        "post": {"data": {"hello": "world"}, "error": None},
        "get": {"data": {"hello": "world"}, "error": None},
    }
    # urql's default Accept reached the router and was answered in JSON
    assert len(accounts.bodies) == 2
