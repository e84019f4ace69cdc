"""GraphQL over Server-Sent Events, "distinct connections mode": the framing.

The edge pipeline (`router/server/endpoint.py`, `router/server/pipeline.py`)
decides whether a request is answered as a stream: a subscription when the
client accepts `text/event-stream`, a query or mutation when the client
prefers `text/event-stream` to JSON. It also runs every guard step first, as
for any transport. This module only frames an admitted operation that
`stream.py` runs (shared with multipart subscriptions): `event: next` per
result, then `event: complete`; a `: keep-alive` comment while nothing
arrives.

A subscription whose token does not verify (or whose session was revoked)
is refused before this with HTTP 401 and an `UNAUTHENTICATED` error, as
graphql-transport-ws refuses it at `connection_init`. A stream on a verified
token ends when the token expires or its session is revoked: `event: next`
with an `UNAUTHENTICATED` error, then `event: complete`, then the response
ends.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.routing import Match, Route
from starlette.types import Scope

EVENT_STREAM = "text/event-stream"
_STREAMS = (EVENT_STREAM.encode(), b"multipart/mixed")


def wants_stream(scope: Scope) -> bool:
    """The client accepts an event stream or a multipart answer (`multipart.py`)."""
    for name, value in scope.get("headers", ()):
        if name == b"accept" and (_STREAMS[0] in value or _STREAMS[1] in value):
            return True
    return False


class EventStreamRoute(Route):
    """A Route that only claims requests asking for a stream (SSE or multipart)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not wants_stream(scope):
            return Match.NONE, {}
        return super().matches(scope)


class _EventStream:
    opening = b""

    def next(self, body: dict[str, Any]) -> bytes:
        return b"event: next\ndata: " + orjson.dumps(body) + b"\n\n"

    def error(self, errors: list[dict[str, Any]]) -> bytes:
        return self.next({"errors": errors})

    def heartbeat(self) -> bytes:
        return b": keep-alive\n\n"

    def complete(self) -> bytes:
        return b"event: complete\ndata: \n\n"


SSE = _EventStream()
