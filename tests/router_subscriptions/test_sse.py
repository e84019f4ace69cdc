"""Subscriptions over SSE (distinct connections mode) beside plain GraphQL over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.router_subscriptions.client import TICKS
from tests.router_subscriptions.conftest import Router, eventually
from tests.router_subscriptions.subgraphs import Probe

SSE = {"accept": "text/event-stream"}


@pytest.fixture(autouse=True)
async def _no_leaks(router: Router) -> AsyncIterator[None]:
    yield
    await eventually(lambda: router.registry.active == 0)
    await eventually(lambda: router.registry.upstream_sockets == 0)


def parse(text: str) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            data = lines.get("data", "").strip()
            events.append((lines["event"], json.loads(data) if data else None))
    return events


def ticks(n: int) -> list[tuple[str, Any]]:
    return [
        ("next", {"data": {"ticks": {"id": f"i{i}", "name": f"item {i}", "label": f"label-i{i}"}}})
        for i in range(n)
    ]


async def test_post_streams_completed_events(router: Router, probe: Probe) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(
            router.url,
            json={"query": TICKS, "variables": {"n": 2}},
            headers={**SSE, "authorization": "Bearer s-1"},
        )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert parse(r.text) == [*ticks(2), ("complete", None)]
    assert probe.authorizations == ["Bearer s-1"]
    assert probe.entity_headers == ["Bearer s-1", "Bearer s-1"]


async def test_get_streams_too(router: Router) -> None:
    params = {"query": TICKS, "variables": json.dumps({"n": 1})}
    async with httpx.AsyncClient(timeout=5) as c:
        # a GET carries no Content-Type: CSRF prevention wants a preflight header
        r = await c.get(router.url, params=params, headers={**SSE, "graphql-preflight": "1"})
    assert parse(r.text) == [*ticks(1), ("complete", None)]


async def test_a_query_is_one_event(router: Router) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(router.url, json={"query": '{ item(id: "3") { label } }'}, headers=SSE)
    assert parse(r.text) == [("next", {"data": {"item": {"label": "label-3"}}}), ("complete", None)]


async def test_an_invalid_operation_is_a_400(router: Router) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(router.url, json={"query": "subscription { nope }"}, headers=SSE)
    assert r.status_code == 400
    assert r.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_refused_upstream_ends_the_stream_with_errors(router: Router) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(
            router.url,
            json={"query": TICKS, "variables": {"n": 1}},
            headers={**SSE, "authorization": "Bearer refused"},
        )
    events = parse(r.text)
    assert [e[0] for e in events] == ["next", "complete"]
    assert events[0][1]["errors"][0]["extensions"]["serviceName"] == "items"


async def test_plain_http_still_reaches_the_json_route(router: Router) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post(router.url, json={"query": '{ item(id: "3") { label } }'})
        sub = await c.post(router.url, json={"query": TICKS, "variables": {"n": 1}})
    assert r.json() == {"data": {"item": {"label": "label-3"}}}
    assert "WebSocket or SSE" in sub.json()["errors"][0]["message"]


async def test_client_disconnect_closes_the_upstream_stream(router: Router, probe: Probe) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        body = {"query": TICKS, "variables": {"n": 1000, "delay": 0.02}}
        async with c.stream("POST", router.url, json=body, headers=SSE) as r:
            async for line in r.aiter_lines():
                if line.startswith("event: next"):
                    break
            assert router.registry.active == 1
            assert probe.open_streams == 1
    await eventually(lambda: probe.open_streams == 0 and probe.closed_streams == 1)
