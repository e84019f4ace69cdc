"""GraphQL over Server-Sent Events, "distinct connections mode": the framing.

The edge pipeline (`router/server/endpoint.py`, `router/server/pipeline.py`)
decides whether a request is answered as a stream: a subscription when the
client accepts `text/event-stream`, a query or mutation when the client
prefers `text/event-stream` to JSON. It also runs every guard step first, as
for any transport. This module only streams an admitted operation: `event:
next` per result, then `event: complete`. The operation runs as a registry
task feeding a small queue: a slow reader slows the upstream socket instead
of growing memory, and a client that disconnects cancels the task, which
closes the upstream socket.

A subscription whose token does not verify (or whose session was revoked)
is refused before this with HTTP 401 and an `UNAUTHENTICATED` error, as
graphql-transport-ws refuses it at `connection_init`. A stream on a verified
token ends when the token expires or its session is revoked: `event: next`
with an `UNAUTHENTICATED` error, then `event: complete`, then the response
ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import orjson
from starlette.responses import StreamingResponse
from starlette.routing import Match, Route
from starlette.types import Scope

from router.gateway import Admission, Gateway, GraphQLRequest
from router.guard.sessions import SessionEnded, SessionLimit, ended_error
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.run import Message, run_operation

EVENT_STREAM = "text/event-stream"
log = logging.getLogger("router.subscriptions")


def wants_event_stream(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept" and EVENT_STREAM.encode() in value:
            return True
    return False


class EventStreamRoute(Route):
    """A Route that only claims requests asking for an event stream."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not wants_event_stream(scope):
            return Match.NONE, {}
        return super().matches(scope)


def _frame(message: Message) -> bytes:
    if message.kind == "complete":
        return b"event: complete\ndata: \n\n"
    return b"event: next\ndata: " + orjson.dumps(message.payload) + b"\n\n"


def event_stream(
    gw: Gateway,
    registry: SubscriptionRegistry,
    req: GraphQLRequest,
    authorization: str | None,
    *,
    admission: Admission,
    limit: SessionLimit | None = None,
    keepalive: float = 12.0,
    on_end: Callable[[dict[str, Any], bool], None] | None = None,
) -> StreamingResponse:
    """Stream one admitted operation: `event: next` per result, then `event: complete`.

    `on_end(last body, errored)` runs once when the stream ends, for the metrics.
    """
    queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=8)

    async def emit(m: Message) -> None:
        await queue.put(m)

    async def stream() -> AsyncIterator[bytes]:
        task = registry.start(
            _guarded(run_operation(gw, req, authorization, registry, emit, limit, admission), queue)
        )
        # the token's end, watched while nothing arrives (each event is checked too)
        ended = asyncio.ensure_future(limit.wait()) if limit is not None else None
        last: dict[str, Any] = {}
        errored = False
        try:
            while True:
                get = asyncio.ensure_future(queue.get())
                waiting: set[asyncio.Future[Any]] = {get} if ended is None else {get, ended}
                done, _ = await asyncio.wait(
                    waiting, timeout=keepalive, return_when=asyncio.FIRST_COMPLETED
                )
                if ended is not None and ended in done:
                    get.cancel()
                    task.cancel()
                    last, errored = {"errors": [ended_error(ended.result())]}, True
                    yield _frame(Message("next", last))
                    yield _frame(Message("complete"))
                    return
                if get not in done:
                    get.cancel()
                    yield b": keep-alive\n\n"
                    continue
                m = get.result()
                if m.kind == "error":
                    last, errored = {"errors": m.payload}, True
                    yield _frame(Message("next", last))
                    yield _frame(Message("complete"))
                    return
                if m.kind == "next":
                    last = m.payload
                yield _frame(m)
                if m.kind == "complete":
                    return
        finally:
            task.cancel()
            if ended is not None:
                ended.cancel()
            if on_end is not None:
                on_end(last, errored)

    return StreamingResponse(
        stream(),
        media_type=EVENT_STREAM,
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def _guarded(run: Coroutine[Any, Any, None], queue: asyncio.Queue[Message]) -> None:
    """Run the operation; if it crashes, the stream still ends with an error."""
    try:
        await run
    except SessionEnded:
        pass  # its error is already queued: the stream ends with it
    except Exception:
        log.exception("subscription over SSE failed")
        await queue.put(
            Message(
                "error",
                [{"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}],
            )
        )
