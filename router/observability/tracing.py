"""The router's traces: its server span, validation, planning, execution, each fetch.

Off unless the `OTEL_*` variables ask for an exporter
(`protocol/observability.py`). Off, `create_app` installs nothing and the
gateway is the plain one: an ordinary query meets no tracing code at all.
On, `RouterSpans` wraps the app: a SERVER span a request (the child of an
incoming W3C `traceparent`, else a new trace), and on first use it
instruments the gateway the holder serves, on that instance only:

- `router.validate` around `Gateway.admit` (parse, validate, variables,
  limits, authorization: the operation guard, cached documents included);
- `router.execute` around `Gateway.execute`, `router.plan` inside it
  around `Gateway.plan_admitted` (a cached plan is a short span);
- `router.fetch <subgraph>` (CLIENT) around each real round trip of the
  fetcher, whose `traceparent` header names that span: the subgraph's
  server span is its child. The header is added after the fetcher keyed
  its in-flight sharing, so tracing never keeps two identical fetches apart.

Wrapping the instance rather than branching in the gateway keeps the hot
path of a router that does not trace exactly as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocol.observability import Providers

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from router.execution.fetcher import Fetcher
    from router.gateway import Admission, Gateway
    from router.planning.plan import QueryPlan
    from router.server.holder import GatewayHolder

#: the router's tracer providers: from `OTEL_*`, or a test's (`providers.providing(...)`)
providers = Providers()
_INSTRUMENTED = "_athena_traced"


class RouterTracing:
    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self.provider = provider
        self.tracer: Tracer = trace.get_tracer("athena.router", tracer_provider=provider)
        self.propagator = TraceContextTextMapPropagator()

    @classmethod
    def for_router(cls) -> RouterTracing | None:
        """None (the default): `OTEL_*` asks for no exporter, or the SDK is disabled."""
        provider = providers("router")
        return cls(provider) if provider is not None else None

    def shutdown(self) -> None:
        """Flush the spans still batched (the router is stopping)."""
        self.provider.shutdown()

    def instrument(self, gateway: Gateway) -> None:
        """Spans around this gateway's guard, planning, execution and fetches (once)."""
        if getattr(gateway, _INSTRUMENTED, False):
            return
        tracer = self.tracer
        admit = gateway.admit
        plan_admitted = gateway.plan_admitted
        execute = gateway.execute

        def traced_admit(request: Any) -> Any:
            with tracer.start_as_current_span("router.validate") as span:
                _operation(span, request.operation_name)
                return admit(request)

        def traced_plan(a: Admission, operation_name: str | None) -> QueryPlan:
            with tracer.start_as_current_span("router.plan") as span:
                _operation(span, operation_name)
                return plan_admitted(a, operation_name)

        async def traced_execute(request: Any, admission: Any = None) -> Any:
            with tracer.start_as_current_span("router.execute") as span:
                _operation(span, request.operation_name)
                return await execute(request, admission)

        gateway.admit = traced_admit  # type: ignore[method-assign]
        gateway.plan_admitted = traced_plan  # type: ignore[method-assign]
        gateway.execute = traced_execute  # type: ignore[method-assign]
        self.instrument_fetcher(gateway.fetcher)
        setattr(gateway, _INSTRUMENTED, True)

    def instrument_fetcher(self, fetcher: Fetcher) -> None:
        """A CLIENT span a round trip, its `traceparent` sent to the subgraph."""
        tracer, inject = self.tracer, self.propagator.inject
        send = fetcher._send
        post_streamed = fetcher.post_streamed

        async def traced_send(
            service: str,
            url: str,
            payload: bytes,
            headers: dict[str, str] | None,
            read: bool = False,
        ) -> tuple[bytes, dict[str, Any]]:
            with _fetch_span(tracer, service, url) as span:
                carried = dict(headers or {})
                inject(carried)
                try:
                    return await send(service, url, payload, carried, read)
                except Exception as exc:
                    _failed(span, exc)
                    raise

        async def traced_post_streamed(
            service: str, url: str, body: Any, headers: dict[str, str] | None = None
        ) -> Any:
            with _fetch_span(tracer, service, url) as span:
                carried = dict(headers or {})
                inject(carried)
                try:
                    return await post_streamed(service, url, body, carried)
                except Exception as exc:
                    _failed(span, exc)
                    raise

        fetcher._send = traced_send  # type: ignore[method-assign]
        fetcher.post_streamed = traced_post_streamed  # type: ignore[method-assign]


def _fetch_span(tracer: Tracer, service: str, url: str) -> Any:
    from opentelemetry.trace import SpanKind

    return tracer.start_as_current_span(
        f"router.fetch {service}",
        kind=SpanKind.CLIENT,
        attributes={"athena.subgraph": service, "url.full": url},
        record_exception=False,
        set_status_on_exception=False,
    )


def _operation(span: Span, name: str | None) -> None:
    if name:
        span.set_attribute("graphql.operation.name", name)


def _failed(span: Span, exc: Exception) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", getattr(exc, "kind", type(exc).__name__))
    span.set_status(Status(StatusCode.ERROR, str(exc)))


#: probes and scrapes: a trace each would drown the requests
UNTRACED = frozenset({"/health", "/metrics"})


class RouterSpans:
    """Pure ASGI: a SERVER span around each HTTP request; instruments the gateway on first use."""

    def __init__(self, app: ASGIApp, tracing: RouterTracing, holder: GatewayHolder) -> None:
        self.app = app
        self.tracing = tracing
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED:
            await self.app(scope, receive, send)
            return
        from opentelemetry import context, trace

        gateway = self.holder.gateway
        if gateway is not None:
            self.tracing.instrument(gateway)
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = self.tracing.propagator.extract(carrier)
        span = self.tracing.tracer.start_span(
            f"{scope['method']} {scope['path']}",
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": scope["method"], "url.path": scope["path"]},
        )
        token = context.attach(trace.set_span_in_context(span, parent))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                span.set_attribute("http.response.status_code", message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException as exc:
            span.record_exception(exc)
            raise
        finally:
            context.detach(token)
            span.end()
