"""A subgraph's traces: its server span, its dataloader batches, its SQL.

Off unless the `OTEL_*` variables ask for an exporter (`protocol/observability.py`).
On, `create_subgraph_app` wraps the app in `ServerSpans` (one SERVER span a
request, the child of the router's fetch span named by the incoming W3C
`traceparent`), hands the engine to `trace_sql` (a CLIENT span a statement,
opentelemetry-instrumentation-sqlalchemy's listeners on that engine alone)
and the dataloaders open a span a batch (`batch_tracer`). Off, none of that
is installed: a request meets no tracing code, a batch one context lookup.

The tracer of the request being served travels in a context variable, so
several subgraph apps in one process (the tests) each trace to their own
provider.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from protocol.observability import Providers

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer
    from sqlalchemy.ext.asyncio import AsyncEngine
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: this process's tracer providers: from `OTEL_*`, or a test's (`providers.providing(...)`)
providers = Providers()
_tracer: ContextVar[Tracer | None] = ContextVar("athena_subgraph_tracer", default=None)


def batch_tracer() -> Tracer | None:
    """The tracer of the request being served; None when its subgraph does not trace."""
    return _tracer.get()


class SubgraphTracing:
    """One subgraph's tracer provider and what it instruments."""

    def __init__(self, name: str, provider: TracerProvider) -> None:
        from opentelemetry import trace

        self.name = name
        self.provider = provider
        self.tracer = trace.get_tracer("athena.subgraph", tracer_provider=provider)

    @classmethod
    def for_subgraph(cls, name: str) -> SubgraphTracing | None:
        """None (the default): `OTEL_*` asks for no exporter, or the SDK is disabled."""
        provider = providers(name)
        return cls(name, provider) if provider is not None else None

    def trace_sql(self, engine: AsyncEngine) -> None:
        """A span for each statement `engine` runs, inside the span that ran it."""
        from opentelemetry.metrics import NoOpMeter

        usage = NoOpMeter("athena").create_up_down_counter("db.client.connections.usage")
        _statement_tracer()(self.tracer, engine.sync_engine, usage)

    def shutdown(self) -> None:
        """Flush the spans still batched (the process is stopping)."""
        self.provider.shutdown()


#: probes and scrapes: a trace each would drown the requests
UNTRACED = frozenset({"/health", "/metrics"})


class ServerSpans:
    """Pure ASGI: a SERVER span around each HTTP request, parented by its `traceparent`."""

    def __init__(self, app: ASGIApp, tracing: SubgraphTracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED:
            await self.app(scope, receive, send)
            return
        from opentelemetry import context, trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = TraceContextTextMapPropagator().extract(carrier)
        tracer = self.tracing.tracer
        span = tracer.start_span(
            f"{scope['method']} {scope['path']}",
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={
                "athena.subgraph": self.tracing.name,
                "http.request.method": scope["method"],
                "url.path": scope["path"],
            },
        )
        token = context.attach(trace.set_span_in_context(span, parent))
        tracer_token = _tracer.set(tracer)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                _status(span, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException as exc:
            span.record_exception(exc)
            _status(span, 500)
            raise
        finally:
            _tracer.reset(tracer_token)
            context.detach(token)
            span.end()


def _status(span: Span, status: int) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


@functools.cache
def _statement_tracer() -> Any:
    """opentelemetry-instrumentation-sqlalchemy's engine listeners, for a request's SQL only.

    Background work (the outbox relay's and the consumers' polling) runs
    outside any span: traced, each poll would be a trace of its own, a flood
    that says nothing. A statement with no span around it is left alone.
    """
    from opentelemetry import trace
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    class RequestStatements(EngineTracer):
        def _before_cur_exec(self, conn: Any, cursor: Any, statement: Any, *rest: Any) -> Any:
            if not trace.get_current_span().get_span_context().is_valid:
                return statement, rest[0]
            return super()._before_cur_exec(conn, cursor, statement, *rest)  # type: ignore[no-untyped-call]

    return RequestStatements


def batch_span(tracer: Tracer, loader: Any, size: int) -> Any:
    """The span of one dataloader batch: which loader, how many keys."""
    return tracer.start_as_current_span(
        f"dataloader {type(loader).__name__}",
        attributes={"athena.loader": type(loader).__name__, "athena.batch.size": size},
    )
