"""ASGI middleware: a subgraph's GraphQL endpoint answers only the router.

Applies to the GraphQL path only. The other routes carry their own proof
(the onboarding webhook its HMAC, document downloads the caller's bearer
token, the JWKS is public, `/health` is for the orchestrator).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from subgraphs.kit.auth import router_credential

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

REFUSAL = orjson.dumps(
    {
        "errors": [
            {
                "message": "This subgraph answers only the router.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
)


class RouterOnly:
    def __init__(self, app: ASGIApp, *, secrets: Sequence[str], path: str = "/graphql") -> None:
        self.app = app
        self.secrets = tuple(secrets)
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        header = _header(scope, router_credential.HEADER)
        # The query string is signed with the body: a GET carries its operation there.
        query = scope.get("query_string", b"")
        if scope["type"] == "websocket":
            if router_credential.verify(self.secrets, header, query):
                await self.app(scope, receive, send)
            else:  # closing before accept answers the upgrade with HTTP 403
                await send({"type": "websocket.close", "code": 4403})
            return
        body, replay = await _buffer(receive)
        if router_credential.verify(self.secrets, header, body + query):
            await self.app(scope, replay, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": REFUSAL})


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers") or ():
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body, then hand the app a `receive` that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
