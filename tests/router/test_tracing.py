"""Issue 19 §2: traces from the router down to SQL, and logs that carry them.

One stack for the module: real identity, charters and vendors apps and the
real router over the checked-in supergraph, in-process, each tracing to its
own provider (its service name) into one in-memory exporter, and logging
JSON lines (`LOG_FORMAT=json`, requests at info) into one buffer.

- The headline query is one trace: the subgraphs' server spans are children
  of the router's fetch spans, with dataloader batches and SQL inside.
- Login with the demo password, a query with the bearer token and a failed
  login leave lines that all carry a request id and a trace id, and neither
  the password nor the token.
- Tracing off: no span, no `traceparent` to a subgraph (a light router).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from db.demo import identity as demo_identity
from db.embedded import free_port
from protocol.observability import handler_for, provider_from_environment, trace_exporters
from protocol.roles import Role
from router.config import Config
from router.execution.fetcher import Fetcher
from router.gateway import Gateway
from router.observability import logs as router_logs
from router.observability import tracing as router_tracing
from router.server.app import create_app
from router.server.holder import GatewayHolder
from subgraphs.charters.app import create_app as charters_app
from subgraphs.identity.app import create_app as identity_app
from subgraphs.kit import tracing as kit_tracing
from subgraphs.kit.logs import request_id_or_none
from subgraphs.kit.settings import Settings
from subgraphs.vendors.app import create_app as vendors_app
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.router import SUPERGRAPH, rewrite
from tests.support.tokens import TokenMinter

HEADLINE = """
query Headline($id: ID!) {
  charter(id: $id) {
    reference
    vehicles { capacity vendor { name certifications { type number expiresOn status } } }
  }
}"""
ASSIGN = """
mutation($cv: ID!, $vendor: ID!, $amount: Money!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: $amount) {
    assignment { id } userErrors { field code message }
  }
}"""
LOGIN = """mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken userErrors { code } } }"""
ME = "query Me { me { id email } }"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#: what logs between requests (Redis is flushed between tests: consumers say so)
BACKGROUND = ("subgraphs.kit.consumer", "subgraphs.kit.outbox", "subgraphs.kit.jobs")
LIGHT_SUPERGRAPH = Path(__file__).parent / "fixtures" / "supergraph.graphql"


@contextlib.contextmanager
def traced_into(exporter: InMemorySpanExporter) -> Iterator[None]:
    """Apps created in the block trace into `exporter`, each under its own service name."""

    def provider(service: str) -> TracerProvider:
        made = TracerProvider(resource=Resource.create({"service.name": f"athena-{service}"}))
        made.add_span_processor(SimpleSpanProcessor(exporter))
        return made

    with kit_tracing.providers.providing(provider), router_tracing.providers.providing(provider):
        yield


def any_request_id() -> str | None:
    """In one process the router's and a subgraph's request ids live in their own variables."""
    return router_logs.current_request_id() or request_id_or_none()


@dataclass
class Stack:
    router: LiveServer
    spans: InMemorySpanExporter
    logs: io.StringIO


@pytest.fixture(scope="module")
async def stack(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """Traced, JSON-logging apps (tracing and the format are chosen when an app is created)."""
    exporter, buffer = InMemorySpanExporter(), io.StringIO()
    ports = {name: free_port() for name in ("identity", "charters", "vendors")}
    urls = {name: f"http://127.0.0.1:{port}/graphql" for name, port in ports.items()}
    directory = tmp_path_factory.mktemp("traced")
    (directory / "supergraph.graphql").write_text(rewrite(SUPERGRAPH.read_text(), urls))
    config = Config(
        supergraph=str(directory / "supergraph.graphql"),
        subgraph_timeout=10,
        jwks_url=subgraph_settings.jwks_url,
    )
    loggers = [logging.getLogger(n) for n in ("router.requests", "athena.requests")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
    with pytest.MonkeyPatch.context() as patch, traced_into(exporter):
        patch.setenv("LOG_FORMAT", "json")
        apps = {
            "identity": identity_app(subgraph_settings),
            "charters": charters_app(subgraph_settings),
            "vendors": vendors_app(subgraph_settings),
        }
        holder = GatewayHolder(config)
        holder.try_load()
        router_app = create_app(config, holder)
    handler = handler_for("athena", any_request_id, "json", buffer)
    logging.getLogger().addHandler(handler)
    try:
        async with contextlib.AsyncExitStack() as running:
            for name, app in apps.items():
                await running.enter_async_context(serve(app, ports[name]))
            router = await running.enter_async_context(serve(router_app))
            yield Stack(router, exporter, buffer)
    finally:
        logging.getLogger().removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@pytest.fixture
def assigned_charter(
    bookable_charter: Any, make_vendor: Any, vendors_staff: Any, projected: Any
) -> Any:
    """A charter with two vehicles of one vendor holding DOT, MC and insurance certificates."""

    async def make() -> dict[str, Any]:
        charter = await bookable_charter(passengers=20, vehicles=2)
        vendor = await make_vendor("Traced Coaches")
        for vehicle in charter["vehicles"]:
            await projected(vehicle["id"])
            answer = await vendors_staff(
                ASSIGN, {"cv": vehicle["id"], "vendor": vendor["id"], "amount": "800.00"}
            )
            assert answer.ok()["assignVendor"]["userErrors"] == []
        return charter  # type: ignore[no-any-return]

    return make


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"]).removeprefix("athena-")


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_the_headline_query_is_one_trace_from_the_router_to_sql(
    stack: Stack, assigned_charter: Any, http_client: httpx.AsyncClient, mint: TokenMinter
) -> None:
    charter = await assigned_charter()
    client = GraphQLClient(stack.router.graphql_url, http_client, await mint("manager"))
    stack.spans.clear()
    answer = await client(HEADLINE, {"id": charter["id"]}, headers={"traceparent": TRACEPARENT})

    vehicles = answer.ok()["charter"]["vehicles"]
    assert [v["vendor"]["name"] for v in vehicles] == ["Traced Coaches"] * 2
    assert len(vehicles[0]["vendor"]["certifications"]) == 3
    # the client's trace (its traceparent honoured), across the router and both subgraphs
    trace_id = int(TRACEPARENT[3:35], 16)
    spans = [s for s in stack.spans.get_finished_spans() if s.context.trace_id == trace_id]
    assert {service(s) for s in spans} == {"router", "charters", "vendors"}
    by_id = {s.context.span_id: s for s in spans}
    router_spans = {s.name for s in spans if service(s) == "router"}
    assert {"POST /graphql", "router.validate", "router.plan", "router.execute"} <= router_spans
    assert {"router.fetch charters", "router.fetch vendors"} <= router_spans
    for subgraph in ("charters", "vendors"):
        mine = [s for s in spans if service(s) == subgraph]
        servers = [s for s in mine if s.kind is SpanKind.SERVER]
        assert servers, f"no server span in {subgraph}"
        for server in servers:  # each the child of the router's fetch of that subgraph
            assert server.parent is not None
            parent = by_id[server.parent.span_id]
            assert (parent.name, parent.kind) == (f"router.fetch {subgraph}", SpanKind.CLIENT)
            assert attrs(parent)["athena.subgraph"] == subgraph
        sql = [s for s in mine if s.kind is SpanKind.CLIENT]
        assert sql, f"no SQL span in {subgraph}"
        for statement in sql:  # inside a server span of the same subgraph
            assert attrs(statement)["db.system"] == "postgresql"
            assert any(a in servers for a in ancestors(statement, by_id))
    batches = [s for s in spans if s.name.startswith("dataloader ")]
    assert "vendors" in {service(b) for b in batches}
    for batch in batches:
        assert attrs(batch)["athena.batch.size"] >= 1
        assert any(a.kind is SpanKind.SERVER for a in ancestors(batch, by_id))
    batch_ids = {b.context.span_id for b in batches}
    assert any(  # the loaders' SQL runs inside their batch spans
        batch_ids & {a.context.span_id for a in ancestors(s, by_id)}
        for s in spans
        if attrs(s).get("db.system")
    )


async def test_every_line_of_a_login_flow_has_its_ids_and_no_secret(
    stack: Stack, http_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await demo_identity.load(session)
    email = demo_identity.demo_email(Role.MANAGER)
    password = demo_identity.DEMO_PASSWORD
    anonymous = GraphQLClient(stack.router.graphql_url, http_client)
    given = f"client-chosen-{uuid.uuid4().hex[:8]}"
    start = len(stack.logs.getvalue())

    login = await anonymous(
        LOGIN, {"email": email, "password": password}, headers={"x-request-id": given}
    )
    token = login.ok()["login"]["accessToken"]
    me = await anonymous.as_user(token)(ME)
    failed = await anonymous(LOGIN, {"email": email, "password": password + "-wrong"})

    assert me.ok()["me"]["email"] == email
    assert failed.ok()["login"]["userErrors"]
    text = stack.logs.getvalue()[start:]
    assert password not in text
    assert token not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines
    for line in lines:
        if line["logger"].startswith(BACKGROUND):
            continue  # a consumer or relay of some subgraph: no request caused it
        assert line["request_id"], line
        assert line["trace_id"], line
    router_lines = [line for line in lines if line["logger"] == "router.requests"]
    subgraph_lines = [line for line in lines if line["logger"] == "athena.requests"]
    # one line per request in the router, one per subgraph request (all three: identity)
    assert [(line["operation"], line["outcome"]) for line in router_lines] == [
        ("Login", "ok"),
        ("Me", "ok"),
        ("Login", "ok"),
    ]
    assert all(line["duration_ms"] >= 0 for line in router_lines)
    assert router_lines[0]["request_id"] == given
    # a subgraph's lines carry the request id and trace id of the router request that caused them
    routed = {line["request_id"]: line["trace_id"] for line in router_lines}
    assert len(set(routed)) == 3
    assert len(subgraph_lines) == 3
    for line in subgraph_lines:
        assert routed[line["request_id"]] == line["trace_id"]


def test_secrets_are_redacted_whatever_logs_them() -> None:
    buffer = io.StringIO()
    handler = handler_for("test", lambda: "r-1", "json", buffer)
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("headers %s", {"Authorization": "Bearer abc.def.ghi", "accept": "x"})
        logger.warning('body {"password": "hunter2", "email": "a@b.c"}')
        logger.warning(
            "refresh", extra={"refresh_token": "r-secret", "cookies": {"sid": "sid-value-7q"}}
        )
        logger.warning("jwt eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl in a message")
        try:
            raise ValueError("password=hunter2 rejected")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = buffer.getvalue()
    for secret in ("abc.def.ghi", "hunter2", "r-secret", "sid-value-7q", "c2lnbmF0dXJl"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["request_id"] for line in lines] == ["r-1"] * 5
    assert "a@b.c" in lines[1]["message"]  # what is not a secret stays


class SeenHeaders:
    """A subgraph answering every query with one field, keeping the headers it got."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

        async def graphql(request: Request) -> JSONResponse:
            self.seen.append(dict(request.headers))
            return JSONResponse({"data": {"pricingVersion": "v1"}})

        self.app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


async def test_tracing_off_creates_no_span_and_sends_no_traceparent(
    http_client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    pricing = SeenHeaders()
    async with serve(pricing.app) as subgraph:
        sdl = LIGHT_SUPERGRAPH.read_text()
        for name in ("charters", "finance", "pricing", "sales", "vendors"):
            sdl = sdl.replace("{" + name + "}", subgraph.graphql_url)
        (tmp_path / "supergraph.graphql").write_text(sdl)
        config = Config(supergraph=str(tmp_path / "supergraph.graphql"), jwks_url="")
        holder = GatewayHolder(config)
        holder.try_load()
        app = create_app(config, holder)
        async with serve(app) as router:
            answer = await GraphQLClient(router.graphql_url, http_client)(
                "{ pricingVersion }", headers={"traceparent": TRACEPARENT}
            )

    assert answer.ok() == {"pricingVersion": "v1"}
    assert pricing.seen, "the query reached no subgraph"
    assert all("traceparent" not in h for h in pricing.seen)
    # nothing that makes spans was installed: no middleware, the gateway's own methods
    assert router_tracing.RouterSpans not in [m.cls for m in app.user_middleware]  # type: ignore[comparison-overlap]
    gateway = holder.gateway
    assert gateway is not None
    assert gateway.admit.__func__ is Gateway.admit  # type: ignore[attr-defined]
    assert gateway.fetcher._send.__func__ is Fetcher._send  # type: ignore[attr-defined]
    assert kit_tracing.batch_tracer() is None


def test_tracing_is_off_unless_an_exporter_is_asked_for() -> None:
    assert trace_exporters({}) == []
    assert provider_from_environment("router", {}) is None
    assert trace_exporters({"OTEL_TRACES_EXPORTER": "none"}) == []
    assert trace_exporters({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}) == ["otlp"]
    assert trace_exporters({"OTEL_TRACES_EXPORTER": "otlp,console"}) == ["otlp", "console"]
    disabled = {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}
    assert provider_from_environment("router", disabled) is None
    named = provider_from_environment(
        "vendors", {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "vendors-eu"}
    )
    assert named is not None
    assert named.resource.attributes["service.name"] == "vendors-eu"
    named.shutdown()
