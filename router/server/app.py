"""GraphQL over HTTP: a thin Starlette layer over `Gateway.execute`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router.config import Config
from router.gateway import GraphQLRequest
from router.server.holder import GatewayHolder

GRAPHQL_RESPONSE = "application/graphql-response+json"
log = logging.getLogger("router")


def _json(body: Any, status: int = 200, media: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media)


def _wants_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("accept", "")


def create_app(config: Config, holder: GatewayHolder | None = None) -> Starlette:
    holder = holder or GatewayHolder(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await holder.start()
        yield
        await holder.stop()

    async def health(request: Request) -> Response:
        if holder.gateway is None:
            return _json({"status": "unavailable"}, 503)
        return _json({"status": "ok"})

    async def graphql(request: Request) -> Response:
        media = GRAPHQL_RESPONSE if _wants_graphql_response(request) else "application/json"
        strict = media == GRAPHQL_RESPONSE
        if request.method == "GET":
            q = request.query_params
            try:
                variables = orjson.loads(q["variables"]) if q.get("variables") else None
                extensions = orjson.loads(q["extensions"]) if q.get("extensions") else None
            except orjson.JSONDecodeError:
                return _json({"errors": [{"message": "variables must be JSON"}]}, 400, media)
            payload: dict[str, Any] = {
                "query": q.get("query"),
                "variables": variables,
                "operationName": q.get("operationName"),
                "extensions": extensions,
            }
        else:
            raw = await request.body()
            if len(raw) > config.max_body_bytes:
                return _json({"errors": [{"message": "Request body too large."}]}, 413, media)
            try:
                payload = orjson.loads(raw)
            except orjson.JSONDecodeError:
                return _json(
                    {"errors": [{"message": "Request body is not valid JSON."}]}, 400, media
                )
            if not isinstance(payload, dict):
                return _json(
                    {"errors": [{"message": "Request body must be a JSON object."}]}, 400, media
                )
        gw = holder.gateway
        if gw is None:
            return _json({"errors": [{"message": "No supergraph is loaded."}]}, 503, media)
        query = payload.get("query")
        variables = payload.get("variables")
        if (query is not None and not isinstance(query, str)) or (
            variables is not None and not isinstance(variables, dict)
        ):
            return _json({"errors": [{"message": "Invalid GraphQL request."}]}, 400, media)
        req = GraphQLRequest(
            query=query,
            variables=variables,
            operation_name=payload.get("operationName") or None,
            extensions=payload.get("extensions"),
            headers=dict(request.headers),
        )
        if request.method == "GET" and query and _is_mutation(gw, req):
            return _json(
                {"errors": [{"message": "Mutations cannot be sent over GET."}]}, 405, media
            )
        try:
            resp = await gw.execute(req)
        except Exception:
            log.exception("request failed")
            return _json(
                {
                    "data": None,
                    "errors": [
                        {"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}
                    ],
                },
                200,
                media,
            )
        status = 400 if (resp.request_error and strict) else 200
        return _json(resp.body, status, media)

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _is_mutation(gw: Any, req: GraphQLRequest) -> bool:
    from router.planning.operation import OperationError, select_operation

    d = gw.document(req.query)
    if d.doc is None:
        return False
    try:
        return bool(select_operation(d.doc, req.operation_name).operation.value == "mutation")
    except OperationError:
        return False
