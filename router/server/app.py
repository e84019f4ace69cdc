"""The router's Starlette app: `/graphql` for every transport, health, metrics, GraphiQL.

The HTTP transports (JSON POST, GET, SSE, multipart uploads) are one
endpoint (`endpoint.py`) and graphql-transport-ws is the WebSocket route;
all of them run the edge pipeline (`pipeline.py`): CSRF prevention,
persisted queries and the persisted-only mode, no mutation over GET, then
the gateway's guard (validation, limits, authorization), and the metrics of
every answer, refusals included. A browser navigating to the endpoint gets
GraphiQL instead.

Other routes are mounted with `create_app(config, holder, extra_routes=[...])`;
they find the gateway holder and the shared services (`Edge`: persisted
queries, authenticator; `Pipeline`) on `request.app.state`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from router.config import Config
from router.graphiql.page import graphiql_response, graphiql_routes, wants_graphiql
from router.observability.logs import RequestIds, log_requests, requests_logged, wants_request_ids
from router.observability.tracing import RouterSpans, RouterTracing
from router.server.edge import Edge
from router.server.endpoint import authorize_with, graphql_endpoint
from router.server.holder import GatewayHolder
from router.server.pipeline import Pipeline
from router.subscriptions import SubscriptionRegistry, subscription_routes

GRAPHQL_RESPONSE = "application/graphql-response+json"
ENDPOINT = "/graphql"
log = logging.getLogger("router")


def _json(body: Any, status: int = 200, media: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media)


def create_app(
    config: Config,
    holder: GatewayHolder | None = None,
    *,
    edge: Edge | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    subscriptions: SubscriptionRegistry | None = None,
) -> Starlette:
    """The router's ASGI app; `extra_routes` are matched before the built-in ones.

    Subscriptions (graphql-transport-ws and SSE at /graphql) are mounted first:
    their routes claim only WebSocket scopes and `Accept: text/event-stream`.
    """
    holder = holder or GatewayHolder(config)
    edge = edge or Edge.from_config(config)
    metrics = holder.metrics
    registry = subscriptions or SubscriptionRegistry()
    #: None unless OTEL_* asks for traces: then RouterSpans wraps the app
    tracing = RouterTracing.for_router()

    pipeline = Pipeline(edge, holder, metrics)
    #: a token at connection_init must verify; none at all is anonymous; a verified
    #: token bounds the connection's life (it ends when the token expires or its
    #: session is revoked)
    authorize = authorize_with(pipeline)
    http = graphql_endpoint(registry, authorize=authorize)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await holder.start()
        try:
            yield
        finally:
            # Subscriptions first: completing their events uses the fetcher.
            await registry.close_all()
            await holder.stop()
            await edge.close()
            if tracing is not None:
                tracing.shutdown()

    async def health(request: Request) -> Response:
        if holder.gateway is None:
            return _json({"status": "unavailable"}, 503)
        return _json({"status": "ok"})

    async def graphql(request: Request) -> Response:
        if config.graphiql and wants_graphiql(
            request.method, request.headers, request.query_params
        ):
            return graphiql_response(ENDPOINT)
        return await http(request)

    app = Starlette(
        routes=[
            *extra_routes,
            *subscription_routes(holder, config, registry, authorize=authorize),
            Route(ENDPOINT, graphql, methods=["GET", "POST"]),
            Route("/health", health, methods=["GET"]),
            metrics.route("/metrics"),
            *graphiql_routes(ENDPOINT),
        ],
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.holder = holder
    app.state.subscriptions = registry
    app.state.edge = edge
    app.state.pipeline = pipeline
    if requests_logged():  # one line per answer (router/observability/logs.py)
        log_requests(pipeline)
    if wants_request_ids():  # LOG_FORMAT=json: a request id on every line, sent to subgraphs
        app.add_middleware(RequestIds)
    if tracing is not None:
        app.add_middleware(RouterSpans, tracing=tracing, holder=holder)
    return app
