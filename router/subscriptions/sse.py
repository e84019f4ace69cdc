"""GraphQL over Server-Sent Events, "distinct connections mode".

A POST (or GET) of /graphql that accepts `text/event-stream` gets one
stream per operation: `event: next` per result, then `event: complete`.
The route only matches such requests, so it can sit beside the ordinary
GraphQL-over-HTTP route on the same path. The operation runs as a registry
task feeding a small queue: a slow reader slows the upstream socket instead
of growing memory, and a client that disconnects cancels the task, which
closes the upstream socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Match, Route
from starlette.types import Scope

from router.gateway import GraphQLRequest
from router.server.holder import GatewayHolder
from router.subscriptions.operation import operation_kind
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.run import Message, run_operation, validation_errors

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


def _json(body: Any, status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _frame(message: Message) -> bytes:
    if message.kind == "complete":
        return b"event: complete\ndata: \n\n"
    return b"event: next\ndata: " + orjson.dumps(message.payload) + b"\n\n"


async def _payload(request: Request, max_bytes: int) -> dict[str, Any] | Response:
    if request.method == "GET":
        q = request.query_params
        try:
            variables = orjson.loads(q["variables"]) if q.get("variables") else None
            extensions = orjson.loads(q["extensions"]) if q.get("extensions") else None
        except orjson.JSONDecodeError:
            return _json({"errors": [{"message": "variables must be JSON"}]}, 400)
        return {
            "query": q.get("query"),
            "variables": variables,
            "operationName": q.get("operationName"),
            "extensions": extensions,
        }
    raw = await request.body()
    if len(raw) > max_bytes:
        return _json({"errors": [{"message": "Request body too large."}]}, 413)
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _json({"errors": [{"message": "Request body is not valid JSON."}]}, 400)
    if not isinstance(payload, dict):
        return _json({"errors": [{"message": "Request body must be a JSON object."}]}, 400)
    return payload


def sse_endpoint(
    holder: GatewayHolder,
    registry: SubscriptionRegistry,
    max_body_bytes: int,
    keepalive: float = 12.0,
) -> Any:
    async def endpoint(request: Request) -> Response:
        payload = await _payload(request, max_body_bytes)
        if isinstance(payload, Response):
            return payload
        gw = holder.gateway
        if gw is None:
            return _json({"errors": [{"message": "No supergraph is loaded."}]}, 503)
        query, variables = payload.get("query"), payload.get("variables")
        name = payload.get("operationName")
        if (
            not isinstance(query, str)
            or (variables is not None and not isinstance(variables, dict))
            or (name is not None and not isinstance(name, str))
        ):
            return _json({"errors": [{"message": "Invalid GraphQL request."}]}, 400)
        auth = request.headers.get("authorization")
        req = GraphQLRequest(
            query,
            variables,
            name or None,
            payload.get("extensions"),
            {"authorization": auth} if auth else {},
        )
        errors = validation_errors(gw, req)
        if errors is not None:
            return _json({"errors": errors}, 400)
        if request.method == "GET" and operation_kind(gw, req) == "mutation":
            return _json({"errors": [{"message": "Mutations cannot be sent over GET."}]}, 405)
        queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=8)

        async def emit(m: Message) -> None:
            await queue.put(m)

        async def stream() -> AsyncIterator[bytes]:
            task = registry.start(_guarded(run_operation(gw, req, auth, registry, emit), queue))
            try:
                while True:
                    try:
                        async with asyncio.timeout(keepalive):
                            m = await queue.get()
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if m.kind == "error":
                        yield _frame(Message("next", {"errors": m.payload}))
                        yield _frame(Message("complete"))
                        return
                    yield _frame(m)
                    if m.kind == "complete":
                        return
            finally:
                task.cancel()

        return StreamingResponse(
            stream(),
            media_type=EVENT_STREAM,
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    return endpoint


async def _guarded(run: Coroutine[Any, Any, None], queue: asyncio.Queue[Message]) -> None:
    """Run the operation; if it crashes, the stream still ends with an error."""
    try:
        await run
    except Exception:
        log.exception("subscription over SSE failed")
        await queue.put(
            Message(
                "error",
                [{"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}],
            )
        )
