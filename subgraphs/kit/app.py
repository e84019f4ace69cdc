"""The ASGI application of a subgraph: GraphQL, health, and its lifecycle.

Start-up builds the long-lived resources once (engine, Redis, token
verifier, outbox relay); every request gets a fresh `Context` on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Table, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from db.engine import in_request, make_engine, session_factory
from protocol.redis_url import redis_from_url
from protocol.revocation import RevocationList
from protocol.tokens import KeySource, RemoteJwks, TokenVerifier
from subgraphs.kit.auth.router_gate import RouterOnly
from subgraphs.kit.consumer import EventConsumer, Handler
from subgraphs.kit.context import Services
from subgraphs.kit.jobs import JobRunner, ScheduledJob
from subgraphs.kit.logs import RequestLog, observe_operations
from subgraphs.kit.metrics import metrics_route
from subgraphs.kit.metrics_view import MeteredGraphQL
from subgraphs.kit.outbox import OutboxRelay
from subgraphs.kit.read_sessions import ReadReplica
from subgraphs.kit.request_id import set_request_id
from subgraphs.kit.serve import GC_TUNING_ENV, tune_gc
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.kit.startup_checks import refuse_unsafe_settings
from subgraphs.kit.tracing import ServerSpans, SubgraphTracing

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send
    from strawberry.schema.base import BaseSchema

log = logging.getLogger(__name__)
#: Seconds each part of a subgraph may take to stop before shutdown goes on without it.
STOP_WITHIN = 10.0


async def _bounded(stopping: Awaitable[None], what: str) -> None:
    """Stop one part, but never let a stuck one hold the process (or a test run) for ever."""
    try:
        await asyncio.wait_for(stopping, STOP_WITHIN)
    except TimeoutError:
        log.warning("%s did not stop within %.0f s; shutting down without it", what, STOP_WITHIN)


Hook = Callable[[Services], Awaitable[None]]


class RequestScope:
    """Marks each request: a request id for logs, and SQL counted as the request's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or ())
            raw = headers.get(b"x-request-id")
            set_request_id(raw.decode("latin-1") if raw else None)
            in_request.set(True)
        await self.app(scope, receive, send)


def create_subgraph_app(
    name: str,
    schema: BaseSchema,
    *,
    outbox: Table | None = None,
    routes: Sequence[BaseRoute] = (),
    key_source: Callable[[Services], KeySource] | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    jobs: Sequence[ScheduledJob] = (),
    projections: Mapping[str, tuple[str, Handler]] | None = None,
    settings: Settings | None = None,
) -> Starlette:
    """The ASGI app of one subgraph.

    `projections` maps another subgraph's event topic to (consumer group,
    handler): the facts this subgraph keeps from that stream, one durable
    consumer each for the app's life (`kit/consumer.py`).
    """
    settings = settings or get_settings()
    #: None unless OTEL_* asks for traces (kit/tracing.py)
    tracing = SubgraphTracing.for_subgraph(name)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        refuse_unsafe_settings(settings)
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        if tracing is not None:
            tracing.trace_sql(engine)
        replica = ReadReplica.open(
            settings.database_read_url,
            primary_url=settings.database_url,
            pool_size=settings.db_pool_size,
        )
        if tracing is not None and replica is not None:
            tracing.trace_sql(replica.engine)
        redis = redis_from_url(settings.redis_url)
        # Revocation checks sit on every request's path: a hung Redis must not stall
        # them (the check fails open after this timeout; see protocol/revocation.py).
        checks = redis_from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        remote = RemoteJwks(
            settings.jwks_url, min_refresh_seconds=settings.jwt_jwks_min_refresh_seconds
        )
        services = Services(
            name=name,
            settings=settings,
            sessions=session_factory(engine),
            redis=redis,
            verifier=TokenVerifier(
                remote, issuer=settings.jwt_issuer, audience=settings.jwt_audience
            ),
            revocations=RevocationList(checks, cache_seconds=settings.revocation_cache_seconds),
            read_sessions=replica.sessions if replica else None,
        )
        if key_source is not None:
            services.verifier.keys = key_source(services)
        relay = OutboxRelay(services.sessions, outbox, redis) if outbox is not None else None
        app.state.services = services
        for hook in on_startup:
            await hook(services)
        consumers = [
            EventConsumer(
                services.redis, services.sessions, topic=topic, group=group, handler=handler
            )
            for topic, (group, handler) in (projections or {}).items()
        ]
        for consumer in consumers:
            consumer.start()
        if relay:
            relay.start()
        runner = JobRunner(services, jobs) if jobs and settings.jobs_enabled else None
        if runner is not None:
            services.extra["jobs"] = runner
            await runner.start()
        if os.environ.get(GC_TUNING_ENV) == "1":
            tune_gc()
        try:
            yield
        finally:
            if runner is not None:
                await _bounded(runner.stop(), f"{name}: job runner")
            if relay:
                await _bounded(relay.stop(), f"{name}: outbox relay")
            for consumer in consumers:
                await _bounded(consumer.stop(), f"{name}: consumer {consumer.group}")
            for hook in on_shutdown:
                await _bounded(hook(services), f"{name}: shutdown hook")
            await redis.aclose()
            await checks.aclose()
            await engine.dispose()
            if tracing is not None:
                tracing.shutdown()
            if replica is not None:
                await replica.aclose()

    async def health(request: Request) -> Response:
        services: Services = request.app.state.services
        try:
            async with services.sessions() as session:
                await session.execute(text("select 1"))
            await services.redis.ping()
        except Exception as exc:  # health must answer, whatever broke
            log.warning("%s health check failed: %s", name, exc)
            return JSONResponse({"status": "unavailable", "subgraph": name}, status_code=503)
        return JSONResponse({"status": "ok", "subgraph": name})

    graphql = MeteredGraphQL(schema, graphiql=settings.subgraph_graphiql, subgraph=name)
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            metrics_route(name, outbox=outbox, projections=projections),
            *routes,
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
    observe_operations(graphql)  # operation names and error codes for RequestLog
    app.add_middleware(RequestLog, service=name)  # inside RequestScope: has its request id
    app.add_middleware(RequestScope)
    if settings.router_secret_list:
        app.add_middleware(
            RouterOnly,
            secrets=settings.router_secret_list,
            # the largest upload a subgraph takes, plus the multipart framing around it
            max_body_bytes=settings.document_max_bytes + 2 * 1024 * 1024,
        )
    if tracing is not None:  # outermost: the server span covers the router gate too
        app.add_middleware(ServerSpans, tracing=tracing)
    return app
