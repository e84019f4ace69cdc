"""A bare graphql-transport-ws client for the tests: every message is visible."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

TICKS = "subscription($n: Int!, $failAt: Int, $delay: Float! = 0) { ticks(n: $n, failAt: $failAt, delay: $delay) { id name label } }"


@contextlib.asynccontextmanager
async def ws_client(
    url: str, payload: dict[str, Any] | None = None, *, init: bool = True
) -> AsyncIterator[ClientConnection]:
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        if init:
            msg: dict[str, Any] = {"type": "connection_init"}
            if payload is not None:
                msg["payload"] = payload
            await send(ws, msg)
            assert await recv(ws) == {"type": "connection_ack"}
        yield ws


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def recv(ws: ClientConnection, wait: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(wait):
        result: dict[str, Any] = json.loads(await ws.recv())
        return result


async def subscribe(
    ws: ClientConnection, op_id: str, query: str, variables: dict[str, Any] | None = None
) -> None:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    await send(ws, {"id": op_id, "type": "subscribe", "payload": payload})


async def until_done(ws: ClientConnection, op_id: str) -> list[dict[str, Any]]:
    """Messages for `op_id` up to and including its complete or error."""
    out: list[dict[str, Any]] = []
    while True:
        m = await recv(ws)
        if m.get("id") != op_id:
            continue
        out.append(m)
        if m["type"] in ("complete", "error"):
            return out
