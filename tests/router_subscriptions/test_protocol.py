"""graphql-transport-ws rules: the router closes with the protocol's codes."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.router_subscriptions.client import TICKS, recv, send, subscribe, ws_client
from tests.router_subscriptions.conftest import INIT_TIMEOUT, Router


async def closed_with(ws: ClientConnection) -> int:
    try:
        while True:
            await recv(ws, wait=INIT_TIMEOUT * 6)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd is not None else -1


async def test_ping_gets_pong(router: Router) -> None:
    async with ws_client(router.ws_url) as ws:
        await send(ws, {"type": "ping", "payload": {"t": 1}})
        assert await recv(ws) == {"type": "pong", "payload": {"t": 1}}


async def test_subscribe_before_init_is_unauthorized(router: Router) -> None:
    async with ws_client(router.ws_url, init=False) as ws:
        await subscribe(ws, "1", TICKS, {"n": 1})
        assert await closed_with(ws) == 4401


async def test_second_init_is_too_many(router: Router) -> None:
    async with ws_client(router.ws_url) as ws:
        await send(ws, {"type": "connection_init"})
        assert await closed_with(ws) == 4429


async def test_duplicate_operation_id_is_refused(router: Router) -> None:
    async with ws_client(router.ws_url) as ws:
        await subscribe(ws, "1", TICKS, {"n": 1000, "delay": 0.05})
        await subscribe(ws, "1", TICKS, {"n": 1})
        assert await closed_with(ws) == 4409
    # the first operation went with the socket


@pytest.mark.parametrize(
    "message",
    ["not json", '{"no": "type"}', '{"type": "bogus"}', '{"type": "subscribe", "id": "1"}'],
)
async def test_invalid_messages_are_bad_requests(router: Router, message: str) -> None:
    async with ws_client(router.ws_url) as ws:
        await ws.send(message)
        assert await closed_with(ws) == 4400


async def test_no_init_in_time_closes_the_socket(router: Router) -> None:
    async with ws_client(router.ws_url, init=False) as ws:
        assert await closed_with(ws) == 4408


async def test_a_refused_authorization_is_forbidden(router: Router) -> None:
    async with ws_client(router.ws_url, init=False) as ws:
        await send(
            ws, {"type": "connection_init", "payload": {"Authorization": "Bearer forbidden"}}
        )
        assert await closed_with(ws) == 4403


async def test_another_subprotocol_is_not_acceptable(router: Router) -> None:
    async with connect(router.ws_url, subprotocols=[Subprotocol("graphql-ws")]) as ws:
        assert await closed_with(ws) == 4406


async def test_registry_is_empty_after_protocol_errors(router: Router) -> None:
    from tests.router_subscriptions.conftest import eventually

    await eventually(lambda: router.registry.active == 0 and router.registry.upstream_sockets == 0)
