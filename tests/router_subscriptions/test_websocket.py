"""Subscriptions over graphql-transport-ws: each event completed across subgraphs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.router_subscriptions.client import TICKS, recv, send, subscribe, until_done, ws_client
from tests.router_subscriptions.conftest import Router, eventually
from tests.router_subscriptions.subgraphs import Probe


@pytest.fixture(autouse=True)
async def _no_leaks(router: Router) -> AsyncIterator[None]:
    yield
    await eventually(lambda: router.registry.active == 0)
    await eventually(lambda: router.registry.upstream_sockets == 0)


async def test_events_are_completed_with_the_other_subgraphs_fields(
    router: Router, probe: Probe
) -> None:
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "1", TICKS, {"n": 3})
        msgs = await until_done(ws, "1")
    assert msgs == [
        *(
            {
                "id": "1",
                "type": "next",
                "payload": {
                    "data": {"ticks": {"id": f"i{i}", "name": f"item {i}", "label": f"label-i{i}"}}
                },
            }
            for i in range(3)
        ),
        {"id": "1", "type": "complete"},
    ]
    assert probe.label_calls == 3  # one entity fetch per event
    assert probe.closed_streams == 1


async def test_aliases_and_typename_are_shaped_by_the_client_operation(router: Router) -> None:
    query = "subscription { t: ticks(n: 1) { __typename l: label } }"
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "x", query)
        msgs = await until_done(ws, "x")
    assert msgs[0]["payload"] == {"data": {"t": {"__typename": "Item", "l": "label-i0"}}}
    assert msgs[-1]["type"] == "complete"


async def test_connection_init_authorization_is_forwarded_upstream(
    router: Router, probe: Probe
) -> None:
    async with ws_client(router.ws_url, {"Authorization": "Bearer t-1"}) as ws:
        await subscribe(ws, "1", TICKS, {"n": 1})
        msgs = await until_done(ws, "1")
    assert msgs[-1]["type"] == "complete"
    assert probe.authorizations == ["Bearer t-1"]  # the owning subgraph's connection_init
    assert probe.entity_headers == ["Bearer t-1"]  # and the entity fetches' header


async def test_several_operations_share_one_socket(router: Router, probe: Probe) -> None:
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "a", TICKS, {"n": 2, "delay": 0.05})
        await subscribe(ws, "b", TICKS, {"n": 3, "delay": 0.05})
        done: dict[str, list[dict[str, object]]] = {"a": [], "b": []}
        while not all(m and m[-1]["type"] == "complete" for m in done.values()):
            m = await recv(ws)
            done[str(m["id"])].append(m)
    assert [m["type"] for m in done["a"]] == ["next", "next", "complete"]
    assert [m["type"] for m in done["b"]] == ["next", "next", "next", "complete"]


async def test_queries_over_the_socket_run_once_and_complete(router: Router) -> None:
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "q", '{ item(id: "7") { name label } }')
        msgs = await until_done(ws, "q")
    assert msgs == [
        {
            "id": "q",
            "type": "next",
            "payload": {"data": {"item": {"name": "item 7", "label": "label-7"}}},
        },
        {"id": "q", "type": "complete"},
    ]


async def test_an_invalid_operation_gets_an_error_and_never_reaches_a_subgraph(
    router: Router, probe: Probe
) -> None:
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "1", "subscription { ticks(n: 1) { nope } }")
        msgs = await until_done(ws, "1")
        assert msgs[0]["type"] == "error"
        assert msgs[0]["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        await subscribe(ws, "2", "subscription { ticks { id } }")  # missing argument
        assert (await until_done(ws, "2"))[0]["type"] == "error"
    assert probe.authorizations == []


async def test_a_subgraph_refusing_the_socket_is_an_error_for_the_client(
    router: Router, probe: Probe
) -> None:
    async with ws_client(router.ws_url, {"Authorization": "Bearer refused"}) as ws:
        await subscribe(ws, "1", TICKS, {"n": 2})
        msgs = await until_done(ws, "1")
    assert len(msgs) == 1
    assert msgs[0]["type"] == "error"
    assert msgs[0]["payload"][0]["extensions"]["serviceName"] == "items"


async def test_an_event_error_keeps_its_path_and_the_stream_completes(router: Router) -> None:
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "1", TICKS, {"n": 3, "failAt": 1})
        msgs = await until_done(ws, "1")
    assert msgs[0]["payload"]["data"]["ticks"]["label"] == "label-i0"
    assert msgs[1]["payload"] == {
        "data": None,
        "errors": [{"message": "tick 1 failed", "extensions": {"serviceName": "items"}}],
    }
    assert msgs[-1]["type"] == "complete"


async def test_client_complete_stops_the_upstream_stream(router: Router, probe: Probe) -> None:
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "1", TICKS, {"n": 1000, "delay": 0.02})
        assert (await recv(ws))["type"] == "next"
        await send(ws, {"id": "1", "type": "complete"})
        await eventually(lambda: probe.open_streams == 0 and probe.closed_streams == 1)
        await eventually(lambda: router.registry.active == 0)
        # the id is free again and the socket still works
        await subscribe(ws, "1", TICKS, {"n": 1})
        msgs = await until_done(ws, "1")
        assert msgs[-1]["type"] == "complete"


async def test_client_going_away_closes_the_upstream_socket(router: Router, probe: Probe) -> None:
    async with ws_client(router.ws_url) as ws:
        for op in ("1", "2"):
            await subscribe(ws, op, TICKS, {"n": 1000, "delay": 0.02})
        await recv(ws)
        await eventually(lambda: probe.open_streams == 2)
        assert router.registry.active == 2
        assert router.registry.upstream_sockets == 2
    await eventually(lambda: probe.open_streams == 0)
    assert probe.closed_streams == 2
    await eventually(lambda: router.registry.active == 0 and router.registry.upstream_sockets == 0)


async def test_router_shutdown_closes_every_subscription(router: Router, probe: Probe) -> None:
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "1", TICKS, {"n": 1000, "delay": 0.02})
        await recv(ws)
        await router.registry.close_all()
        assert router.registry.active == 0
        assert router.registry.upstream_sockets == 0
        await eventually(lambda: probe.open_streams == 0)
        await asyncio.sleep(0)
