"""GraphQL over HTTP: a thin Starlette layer over `Gateway.execute`.

The route only sequences the edge steps, in this order: GraphiQL for a
browser navigating to the endpoint, CSRF prevention, reading the request,
persisted-query resolution (before the mutation-over-GET check, so a
hash-only GET mutation is refused too), authentication; limits and
authorization run inside the gateway, where every transport gets them.
Each answer, refusals included, is counted in the metrics.

Other transports (graphql-transport-ws and SSE subscriptions) are mounted
with `create_app(config, holder, extra_routes=[...])`; they find the
gateway holder and the shared services (`Edge`: persisted queries,
authenticator) on `request.app.state.holder` / `.edge`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from graphql import OperationDefinitionNode, OperationType
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from router.config import Config
from router.gateway import Gateway, GraphQLRequest
from router.graphiql.page import graphiql_response, graphiql_routes, wants_graphiql
from router.guard.csrf import check_csrf
from router.guard.sessions import SessionLimit
from router.planning.operation import OperationError, select_operation
from router.server.edge import Edge
from router.server.forwarded import HEADER as FORWARDED_FOR
from router.server.forwarded import forwarded_for
from router.server.holder import GatewayHolder
from router.server.payload import Refusal, read_payload
from router.subscriptions import SubscriptionRegistry, subscription_routes

GRAPHQL_RESPONSE = "application/graphql-response+json"
ENDPOINT = "/graphql"
log = logging.getLogger("router")


def _json(body: Any, status: int = 200, media: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media)


def _wants_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("accept", "")


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

    async def authorize(authorization: str | None) -> bool | SessionLimit:
        """A token at connection_init must verify; none at all is anonymous.

        A verified token bounds the connection's life: it ends when the token
        expires or its session is revoked.
        """
        if authorization is None:
            return True
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        auth = await edge.authenticator.authenticate_token(token.strip())
        if auth.invalid_token:
            return False
        return edge.session_limit(auth.viewer)

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

    async def health(request: Request) -> Response:
        if holder.gateway is None:
            return _json({"status": "unavailable"}, 503)
        return _json({"status": "ok"})

    async def graphql(request: Request) -> Response:
        if config.graphiql and wants_graphiql(
            request.method, request.headers, request.query_params
        ):
            return graphiql_response(ENDPOINT)
        start = time.perf_counter()
        media = GRAPHQL_RESPONSE if _wants_graphql_response(request) else "application/json"
        strict = media == GRAPHQL_RESPONSE
        op_name: str | None = None

        def answer(body: dict[str, Any], status: int, request_error: bool) -> Response:
            metrics.observe_request(op_name, time.perf_counter() - start, body, request_error)
            return _json(body, status, media)

        def refuse(r: Refusal) -> Response:
            return answer(r.body(), r.status, True)

        if edge.csrf_required_headers is not None:
            msg = check_csrf(request.method, request.headers, edge.csrf_required_headers)
            if msg:
                return refuse(Refusal(msg, 400, "CSRF_ERROR"))
        payload = await read_payload(request, config.max_body_bytes)
        if isinstance(payload, Refusal):
            return refuse(payload)
        op_name = payload.operation_name
        gw = holder.gateway
        if gw is None:
            return refuse(Refusal("No supergraph is loaded.", 503, "UNAVAILABLE"))
        apq = await edge.apq.resolve(payload.query, payload.extensions)
        if apq.errors:
            return answer({"errors": apq.errors}, 400 if strict else 200, True)
        query = apq.query
        op = _operation(gw, query, op_name) if query else None
        if op is not None:
            op_name = op.name.value if op.name else None  # the metrics label
            if request.method == "GET" and op.operation == OperationType.MUTATION:
                return refuse(Refusal("Mutations cannot be sent over GET.", 405, "BAD_REQUEST"))
        auth = await edge.authenticate(request.headers)
        headers = dict(request.headers)
        if auth.invalid_token:
            log.info("treating caller as anonymous: %s", auth.reason)
            if auth.revoked:
                # an ended session's token goes no further than the router
                headers.pop("authorization", None)
        req = GraphQLRequest(
            query=query,
            variables=payload.variables,
            operation_name=op_name,
            extensions=payload.extensions,
            headers=headers,
            viewer=auth.viewer,
            forwarded_for=forwarded_for(
                request.headers.getlist(FORWARDED_FOR),
                request.client.host if request.client else None,
            ),
        )
        try:
            resp = await gw.execute(req)
        except Exception:
            log.exception("request failed")
            body = {
                "data": None,
                "errors": [
                    {"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}
                ],
            }
            return answer(body, 200, False)
        return answer(
            resp.body, 400 if (resp.request_error and strict) else 200, resp.request_error
        )

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
    return app


def _operation(
    gw: Gateway, query: str, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation the request selects, if its (cached) document is valid."""
    d = gw.document(query)
    if d.doc is None:
        return None
    try:
        return select_operation(d.doc, operation_name)
    except OperationError:
        return None
