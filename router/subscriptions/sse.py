"""GraphQL over Server-Sent Events, "distinct connections mode".

A POST (or GET) of /graphql that accepts `text/event-stream` gets one
stream per operation: `event: next` per result, then `event: complete`.
The route only matches such requests, so it can sit beside the ordinary
GraphQL-over-HTTP route on the same path. The operation runs as a registry
task feeding a small queue: a slow reader slows the upstream socket instead
of growing memory, and a client that disconnects cancels the task, which
closes the upstream socket.

A request with an `Authorization` header is authenticated before anything
runs: a token that does not verify (or whose session was revoked) is
refused with HTTP 401 and an `UNAUTHENTICATED` error, as graphql-transport-ws
refuses it at `connection_init`. A stream on a verified token ends when the
token expires or its session is revoked: `event: next` with an
`UNAUTHENTICATED` error, then `event: complete`, then the response ends.
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
from router.guard.sessions import CODE as UNAUTHENTICATED
from router.guard.sessions import SessionEnded, SessionLimit, ended_error
from router.server.forwarded import HEADER as FORWARDED_FOR
from router.server.forwarded import forwarded_for
from router.server.holder import GatewayHolder
from router.subscriptions.operation import operation_kind
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.run import Message, run_operation, validation_errors
from router.subscriptions.ws import Authorize

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
    authorize: Authorize | None = None,
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
        limit: SessionLimit | None = None
        if auth is not None and authorize is not None:
            verdict = await authorize(auth)
            if verdict is False:
                return _json(
                    {
                        "errors": [
                            {
                                "message": "The access token is not valid.",
                                "extensions": {"code": UNAUTHENTICATED},
                            }
                        ]
                    },
                    401,
                )
            if isinstance(verdict, SessionLimit):
                limit = verdict
        req = GraphQLRequest(
            query,
            variables,
            name or None,
            payload.get("extensions"),
            {"authorization": auth} if auth else {},
            forwarded_for=forwarded_for(
                request.headers.getlist(FORWARDED_FOR),
                request.client.host if request.client else None,
            ),
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
            task = registry.start(
                _guarded(run_operation(gw, req, auth, registry, emit, limit), queue)
            )
            # the token's end, watched while nothing arrives (each event is checked too)
            ended = asyncio.ensure_future(limit.wait()) if limit is not None else None
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
                        yield _frame(Message("next", {"errors": [ended_error(ended.result())]}))
                        yield _frame(Message("complete"))
                        return
                    if get not in done:
                        get.cancel()
                        yield b": keep-alive\n\n"
                        continue
                    m = get.result()
                    if m.kind == "error":
                        yield _frame(Message("next", {"errors": m.payload}))
                        yield _frame(Message("complete"))
                        return
                    yield _frame(m)
                    if m.kind == "complete":
                        return
            finally:
                task.cancel()
                if ended is not None:
                    ended.cancel()

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
