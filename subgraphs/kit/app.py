"""The ASGI application of a subgraph: GraphQL, health, and its lifecycle.

Start-up builds the long-lived resources once (engine, Redis, token
verifier, outbox relay); every request gets a fresh `Context` on top.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from cross_web import HTTPException  # what Strawberry's views raise (its HTTP layer)
from redis.asyncio import Redis
from sqlalchemy import Table, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from db.engine import in_request, make_engine, session_factory
from subgraphs.kit import json
from subgraphs.kit.auth.revocation import RevocationList
from subgraphs.kit.auth.router_gate import RouterOnly
from subgraphs.kit.auth.tokens import KeySource, RemoteJwks, TokenVerifier
from subgraphs.kit.context import Context, Services
from subgraphs.kit.jobs import JobRunner, ScheduledJob
from subgraphs.kit.outbox import OutboxRelay
from subgraphs.kit.request_id import current_request_id, set_request_id
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.kit.startup_checks import refuse_unsafe_settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send
    from strawberry.http import GraphQLHTTPResponse
    from strawberry.schema.base import BaseSchema
    from strawberry.types.execution import ExecutionResult

log = logging.getLogger(__name__)

Hook = Callable[[Services], Awaitable[None]]


GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
#: request bodies a subgraph reads: JSON, and the GraphQL multipart request spec
ACCEPTED_BODIES = frozenset({JSON, "multipart/form-data"})
#: `request.state` flag: the answer is a request error (nothing was executed)
_REQUEST_ERROR = "athena_request_error"


def answer_media(accept: str | None) -> str:
    """The answer's media type, by the client's `Accept` preference (as the router does).

    `application/graphql-response+json` when the client prefers it to every
    other JSON type it lists; otherwise `application/json` (also with no
    Accept at all: the spec's default, and what the router asks for).
    """
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept or "").split(",")):
        media, *params = (f.strip() for f in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranked.append((-q, i, media.lower()))
    for _, _, media in sorted(ranked):
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return JSON


def _essence(content_type: str | None) -> str | None:
    essence = (content_type or "").split(";", 1)[0].strip().lower()
    return essence or None


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: parsing, validation or variable coercion failed.

    Such errors carry no path; a field error always does, even one that
    nulled the whole `data`.
    """
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


class SubgraphGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, speaking the GraphQL over HTTP spec like the router.

    A client that asks for `application/graphql-response+json` gets it, and
    HTTP 400 for a request error; `application/json` (what the router asks
    for) is HTTP 200 whatever the errors. A request error has no `data`
    entry. A POST must say what it carries: JSON or multipart, else 415.
    """

    def __init__(self, schema: BaseSchema, *, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            multipart_uploads_enabled=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media = answer_media(request.headers.get("accept"))
        essence = _essence(request.headers.get("content-type"))
        if request.method == "POST" and essence not in ACCEPTED_BODIES:
            message = (
                "A POST must carry a Content-Type (application/json)."
                if essence is None
                else f"Unsupported Content-Type {essence!r}: send application/json "
                "(or multipart/form-data for uploads)."
            )
            body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
            response: Response = Response(json.dumps(body), 415, media_type=media)
        else:
            try:
                response = await self.run(request)
            except HTTPException as e:
                response = PlainTextResponse(e.reason, status_code=e.status_code)
            if response.media_type == JSON and not isinstance(response, StreamingResponse):
                response.headers["content-type"] = media
                if media == GRAPHQL_RESPONSE and getattr(request.state, _REQUEST_ERROR, False):
                    response.status_code = 400
        await response(scope, receive, send)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if is_request_error(result):
            setattr(request.state, _REQUEST_ERROR, True)
            answer.pop("data", None)
        return answer

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services: Services = request.app.state.services
        return Context(services, request, response, current_request_id())

    def encode_json(self, data: object) -> bytes:
        return json.dumps(data)


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
    settings: Settings | None = None,
) -> Starlette:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        refuse_unsafe_settings(settings)
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        redis = Redis.from_url(settings.redis_url)
        # Revocation checks sit on every request's path: a hung Redis must not stall
        # them (the check fails open after this timeout; see kit/auth/revocation.py).
        checks = Redis.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
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
        )
        if key_source is not None:
            services.verifier.keys = key_source(services)
        relay = OutboxRelay(services.sessions, outbox, redis) if outbox is not None else None
        app.state.services = services
        for hook in on_startup:
            await hook(services)
        if relay:
            relay.start()
        runner = JobRunner(services, jobs) if jobs and settings.jobs_enabled else None
        if runner is not None:
            services.extra["jobs"] = runner
            await runner.start()
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            if relay:
                await relay.stop()
            for hook in on_shutdown:
                await hook(services)
            await redis.aclose()
            await checks.aclose()
            await engine.dispose()

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

    graphql = SubgraphGraphQL(schema, graphiql=settings.subgraph_graphiql)
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            *routes,
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(RequestScope)
    if settings.router_secret_list:
        app.add_middleware(
            RouterOnly,
            secrets=settings.router_secret_list,
            # the largest upload a subgraph takes, plus the multipart framing around it
            max_body_bytes=settings.document_max_bytes + 2 * 1024 * 1024,
        )
    return app
