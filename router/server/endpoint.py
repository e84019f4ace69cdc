"""`/graphql` over HTTP: JSON POST, GET, SSE and multipart uploads, one endpoint.

Each request goes through the edge pipeline (`pipeline.py`) in the same
order whatever it carries; what differs is only how the body is read (JSON,
query string, multipart) and how the answer is framed, which the client's
Accept preference order decides (`negotiate`): JSON for a query or
mutation when the client accepts JSON, an event stream for a subscription
or when the client prefers `text/event-stream`.

Authentication: the bearer token in `Authorization`. A query or mutation
with a token that does not verify runs as an anonymous caller (public
fields keep working; a revoked session's token goes no further than the
router). A subscription lives on its token, so a token that does not
verify refuses it (HTTP 401), as graphql-transport-ws refuses it at
`connection_init`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from router.gateway import GraphQLRequest
from router.guard.sessions import CODE as UNAUTHENTICATED
from router.guard.sessions import SessionLimit
from router.server.batching import answer_batch, batch_refusal
from router.server.forwarded import HEADER as FORWARDED_FOR
from router.server.forwarded import forwarded_for
from router.server.incremental import defer_response, defer_split
from router.server.payload import Batch, Refusal, read_payload
from router.server.pipeline import (
    EVENT_STREAM,
    GRAPHQL_RESPONSE,
    JSON,
    MULTIPART,
    Admitted,
    Pipeline,
    Refused,
    media_essence,
    negotiate,
)
from router.server.uploads import read_upload, run_upload
from router.subscriptions.multipart import CONTENT_TYPE as MULTIPART_CONTENT_TYPE
from router.subscriptions.multipart import MULTIPART as MULTIPART_FRAMING
from router.subscriptions.multipart import MULTIPART_MIXED, wants_multipart
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.sse import SSE
from router.subscriptions.stream import stream_response
from router.subscriptions.ws import Authorize

log = logging.getLogger("router")

Endpoint = Callable[[Request], Awaitable[Response]]


def _json(body: Any, status: int, media: str) -> Response:
    if media not in (JSON, GRAPHQL_RESPONSE):
        media = JSON
    return Response(orjson.dumps(body), status_code=status, media_type=media)


def graphql_endpoint(
    registry: SubscriptionRegistry,
    *,
    authorize: Authorize | None = None,
    keepalive: float = 12.0,
) -> Endpoint:
    """The HTTP endpoint; the app's state holds the pipeline and config."""

    async def endpoint(request: Request) -> Response:
        pipeline: Pipeline = request.app.state.pipeline
        config = request.app.state.config
        started = time.perf_counter()
        accept = request.headers.get("accept")
        label: str | None = None

        def refuse(r: Refused, media: str | None = None) -> Response:
            media = media or negotiate(accept, None)
            pipeline.observe(r.operation_name or label, started, r.body, True)
            status = r.status if media == EVENT_STREAM else r.http_status(media)
            resp = _json(r.body, status, media)
            if r.retry_after is not None:
                resp.headers["retry-after"] = str(r.retry_after)
            return resp

        shape = pipeline.check_request(request.method, request.headers)
        if shape is not None:
            return refuse(shape)
        if request.method == "POST" and (
            media_essence(request.headers.get("content-type")) == MULTIPART
        ):
            return await upload(request, pipeline, started, refuse)
        payload = await read_payload(request, config.max_body_bytes)
        if isinstance(payload, Refusal):
            return refuse(Refused.of(payload))
        if isinstance(payload, Batch):  # a JSON array: batched operations (`batching.py`)
            whole = batch_refusal(config, payload)
            if whole is not None:
                return refuse(whole)
            return await answer_batch(
                request, pipeline, payload, await caller(request, pipeline), started
            )
        label = payload.operation_name
        req = await caller(request, pipeline)
        admitted = await pipeline.admit(payload, req, request.method)
        if isinstance(admitted, Refused):
            return refuse(admitted)
        return await answer(request, pipeline, registry, admitted, started, authorize, keepalive)

    return endpoint


async def upload(
    request: Request,
    pipeline: Pipeline,
    started: float,
    refuse: Callable[[Refused], Response],
) -> Response:
    """A multipart upload (`uploads.py`): admitted before its files are read."""
    config = request.app.state.config
    req = await caller(request, pipeline)
    prepared = await read_upload(
        request, pipeline, req, config.max_upload_bytes, config.max_body_bytes
    )
    if isinstance(prepared, Refused):
        return refuse(prepared)
    media = negotiate(request.headers.get("accept"), prepared.admitted.kind)
    label = prepared.admitted.label
    try:
        resp = await run_upload(prepared)
    except Exception:
        log.exception("upload failed")
        body = {
            "data": None,
            "errors": [{"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}],
        }
        pipeline.observe(label, started, body, False)
        return _json(body, 200, media)
    finally:
        prepared.close()
    pipeline.observe(label, started, resp.body, resp.request_error)
    return _json(resp.body, 200, media)


async def caller(request: Request, pipeline: Pipeline) -> GraphQLRequest:
    """The request's caller: verified viewer, headers to pass on, forwarded address."""
    auth = await pipeline.edge.authenticate(request.headers)
    headers = dict(request.headers)
    if auth.invalid_token:
        log.info("treating caller as anonymous: %s", auth.reason)
        if auth.revoked:
            # an ended session's token goes no further than the router
            headers.pop("authorization", None)
    return GraphQLRequest(
        query=None,
        headers=headers,
        viewer=auth.viewer,
        forwarded_for=forwarded_for(
            request.headers.getlist(FORWARDED_FOR),
            request.client.host if request.client else None,
        ),
    )


async def answer(
    request: Request,
    pipeline: Pipeline,
    registry: SubscriptionRegistry,
    admitted: Admitted,
    started: float,
    authorize: Authorize | None,
    keepalive: float,
) -> Response:
    """Run an admitted operation and frame its answer as the client prefers."""
    accept = request.headers.get("accept")
    media = negotiate(accept, admitted.kind)
    label = admitted.label
    if accept is not None and "multipart/mixed" in accept and admitted.kind == "query":
        split = defer_split(admitted.gateway, accept, admitted.admission)
        if split is not None:  # @defer, read as multipart (`incremental.py`)

            def observe(body: dict[str, Any], errored: bool) -> None:
                pipeline.observe(label, started, body, errored)

            return defer_response(admitted.gateway, admitted.request, split, observe)
    if admitted.kind == "subscription" and wants_multipart(accept):
        media = MULTIPART_MIXED
    if admitted.kind == "subscription" and media != EVENT_STREAM and media != MULTIPART_MIXED:
        r = Refused(
            [
                {
                    "message": "Subscriptions need a WebSocket or SSE transport "
                    "(graphql-transport-ws, or Accept: text/event-stream), or "
                    "multipart (Accept: multipart/mixed;subscriptionSpec=1.0).",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ],
            406,
            False,
            label,
        )
        pipeline.observe(label, started, r.body, True)
        return _json(r.body, r.http_status(media), media)
    if media in (EVENT_STREAM, MULTIPART_MIXED):
        authorization = request.headers.get("authorization")
        limit: SessionLimit | None = None
        if admitted.kind == "subscription" and authorization is not None:
            verdict = await (authorize or authorize_with(pipeline))(authorization)
            if verdict is False:
                body: dict[str, Any] = {
                    "errors": [
                        {
                            "message": "The access token is not valid.",
                            "extensions": {"code": UNAUTHENTICATED},
                        }
                    ]
                }
                pipeline.observe(label, started, body, True)
                return _json(body, 401, JSON)
            if isinstance(verdict, SessionLimit):
                limit = verdict
        req = admitted.request
        upstream_auth = req.headers.get("authorization")

        def on_end(body: dict[str, Any], errored: bool) -> None:
            pipeline.observe(label, started, body, errored)

        multipart = media == MULTIPART_MIXED
        watch = (
            partial(pipeline.metrics.watch_subscription, label, "multipart" if multipart else "sse")
            if admitted.kind == "subscription"
            else None
        )
        return stream_response(
            MULTIPART_FRAMING if multipart else SSE,
            MULTIPART_CONTENT_TYPE if multipart else EVENT_STREAM,
            admitted.gateway,
            registry,
            req,
            upstream_auth,
            admission=admitted.admission,
            limit=limit,
            keepalive=(
                request.app.state.config.multipart_heartbeat_seconds if multipart else keepalive
            ),
            on_end=on_end,
            watch=watch,
        )
    strict = media == GRAPHQL_RESPONSE
    try:
        resp = await admitted.gateway.execute(admitted.request, admitted.admission)
    except Exception:
        log.exception("request failed")
        body = {
            "data": None,
            "errors": [{"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}],
        }
        pipeline.observe(label, started, body, False)
        return _json(body, 200, media)
    pipeline.observe(label, started, resp.body, resp.request_error)
    return _json(resp.body, 400 if (resp.request_error and strict) else 200, media)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def authorize_with(pipeline: Pipeline) -> Authorize:
    async def authorize(authorization: str | None) -> bool | SessionLimit:
        if authorization is None:
            return True
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        auth = await pipeline.edge.authenticator.authenticate_token(token.strip())
        if auth.invalid_token:
            return False
        return pipeline.edge.session_limit(auth.viewer)

    return authorize
