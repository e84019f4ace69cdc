"""Subscriptions on the router's /metrics: started, active, ended by outcome, events delivered.

Through the real router of this package (its subgraphs stream `ticks`), read
by scraping `/metrics` as Prometheus does. The router is shared by the whole
session, so each test names its operations (the label) uniquely and reads
only those series.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.router_subscriptions.client import recv, send, until_done, ws_client
from tests.router_subscriptions.conftest import Router

SSE = {"accept": "text/event-stream"}


def ticks(name: str) -> str:
    return (
        f"subscription {name}($n: Int!, $failAt: Int, $delay: Float! = 0) "
        "{ ticks(n: $n, failAt: $failAt, delay: $delay) { id name label } }"
    )


class Scrape:
    """The router's /metrics, read again on each `read`."""

    def __init__(self, client: httpx.AsyncClient, router: Router) -> None:
        self.client = client
        self.url = router.url.removesuffix("/graphql") + "/metrics"
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}

    async def read(self) -> Scrape:
        r = await self.client.get(self.url)
        assert r.status_code == 200
        self.samples = {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text)
            for s in family.samples
        }
        return self

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def started(self, op: str, transport: str) -> float:
        return self.value("router_subscriptions_started_total", operation=op, transport=transport)

    def active(self, op: str, transport: str) -> float:
        return self.value("router_subscriptions_active", operation=op, transport=transport)

    def events(self, op: str, transport: str) -> float:
        return self.value("router_subscription_events_total", operation=op, transport=transport)

    def ended(self, op: str, transport: str, outcome: str) -> float:
        return self.value(
            "router_subscriptions_ended_total", operation=op, transport=transport, outcome=outcome
        )


@pytest.fixture
async def scrape(router: Router) -> AsyncIterator[Scrape]:
    async with httpx.AsyncClient(timeout=5) as c:
        yield Scrape(c, router)


async def gauge_drops(scrape: Scrape, op: str, transport: str) -> None:
    """Wait until the subscription is gone from the gauge (its cleanup is asynchronous)."""
    deadline = asyncio.get_running_loop().time() + 3.0
    # polling a scrape: no event to wait on
    while (await scrape.read()).active(op, transport) and (  # noqa: ASYNC110
        asyncio.get_running_loop().time() < deadline
    ):
        await asyncio.sleep(0.02)
    assert scrape.active(op, transport) == 0


async def test_websocket_subscriptions_by_outcome(router: Router, scrape: Scrape) -> None:
    async with ws_client(router.ws_url) as ws:
        await send(
            ws,
            {
                "id": "open",
                "type": "subscribe",
                "payload": {"query": ticks("WsOpen"), "variables": {"n": 1000, "delay": 0.02}},
            },
        )
        assert (await recv(ws))["type"] == "next"
        assert (await recv(ws))["type"] == "next"
        await scrape.read()
        assert scrape.started("WsOpen", "ws") == 1
        assert scrape.active("WsOpen", "ws") == 1
        assert scrape.events("WsOpen", "ws") >= 2
        assert scrape.ended("WsOpen", "ws", "client_closed") == 0

        await send(ws, {"id": "open", "type": "complete"})  # the client stops it
        await gauge_drops(scrape, "WsOpen", "ws")
        assert scrape.ended("WsOpen", "ws", "client_closed") == 1

        for op_id, name, variables in (
            ("done", "WsDone", {"n": 2}),
            ("failed", "WsFailed", {"n": 3, "failAt": 1}),
        ):
            await send(
                ws,
                {
                    "id": op_id,
                    "type": "subscribe",
                    "payload": {"query": ticks(name), "variables": variables},
                },
            )
            assert (await until_done(ws, op_id))[-1]["type"] == "complete"
        # a query over the same socket is a request, not a subscription
        await send(
            ws, {"id": "q", "type": "subscribe", "payload": {"query": '{ item(id: "1") { id } }'}}
        )
        await until_done(ws, "q")

    await gauge_drops(scrape, "WsFailed", "ws")
    assert scrape.ended("WsDone", "ws", "complete") == 1
    assert scrape.events("WsDone", "ws") == 2
    # the subgraph failed on its second tick: one event, then the error ends it
    assert scrape.ended("WsFailed", "ws", "error") == 1
    assert scrape.ended("WsFailed", "ws", "complete") == 0
    assert scrape.events("WsFailed", "ws") == 2  # the tick and the error result
    assert scrape.active("WsDone", "ws") == 0
    assert scrape.started("anonymous", "ws") == 0


async def test_sse_subscriptions_until_the_client_closes(router: Router, scrape: Scrape) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        body = {"query": ticks("SseOpen"), "variables": {"n": 1000, "delay": 0.02}}
        async with c.stream("POST", router.url, json=body, headers=SSE) as r:
            seen = 0
            async for line in r.aiter_lines():
                seen += line == "event: next"
                if seen == 2:
                    break
            await scrape.read()
            assert scrape.started("SseOpen", "sse") == 1
            assert scrape.active("SseOpen", "sse") == 1
            assert scrape.events("SseOpen", "sse") >= 1
        # the response is closed: the router notices on its next write
        await gauge_drops(scrape, "SseOpen", "sse")
        assert scrape.ended("SseOpen", "sse", "client_closed") == 1

        done = await c.post(
            router.url, json={"query": ticks("SseDone"), "variables": {"n": 3}}, headers=SSE
        )
        assert done.text.count("event: next") == 3
    await scrape.read()
    assert scrape.started("SseDone", "sse") == 1
    assert scrape.ended("SseDone", "sse", "complete") == 1
    assert scrape.events("SseDone", "sse") == 3
    assert scrape.active("SseDone", "sse") == 0
