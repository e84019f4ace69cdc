"""The subscription transports as Starlette routes, for the server to mount.

Both share /graphql with the ordinary GraphQL-over-HTTP route: Starlette
routes WebSockets and HTTP apart by scope type, and the SSE route claims
only requests that accept `text/event-stream` (or `multipart/mixed`, for
multipart subscriptions), so these routes go first.
The SSE route is the same endpoint as the HTTP one (`router/server/endpoint.py`,
the one edge pipeline), with this `authorize` for subscriptions' tokens.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from router.config import Config
from router.server.holder import GatewayHolder
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.sse import EventStreamRoute
from router.subscriptions.ws import Authorize, Connection


def subscription_routes(
    holder: GatewayHolder,
    config: Config,
    registry: SubscriptionRegistry,
    *,
    path: str = "/graphql",
    init_timeout: float = 3.0,
    authorize: Authorize | None = None,
    sse_keepalive: float = 12.0,
) -> list[BaseRoute]:
    """graphql-transport-ws (WebSocket) and SSE routes at `path`.

    `authorize` receives the connection's Authorization value (from the
    `connection_init` payload, else the upgrade request; for SSE the
    request's header) and may refuse the connection (close 4403; SSE: HTTP
    401) or bound its life by the token's (`SessionLimit`); subgraphs check
    the token again either way.
    """
    from router.server.endpoint import graphql_endpoint  # the server imports this module

    async def websocket(ws: WebSocket) -> None:
        await Connection(ws, holder, registry, init_timeout, authorize).serve()

    return [
        WebSocketRoute(path, websocket),
        EventStreamRoute(
            path,
            graphql_endpoint(registry, authorize=authorize, keepalive=sse_keepalive),
            methods=["GET", "POST"],
        ),
    ]
