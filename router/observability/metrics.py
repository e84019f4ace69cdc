"""Prometheus metrics for the router, on a registry of their own.

A dedicated `CollectorRegistry` keeps our series apart from whatever else
runs in the process (and lets tests build a fresh one each). Label values
come from clients (operation names) or from the supergraph (subgraph names),
so cardinality is capped: after `max_operation_names` distinct names, new
ones are counted as "other", which keeps a scraper and its storage safe from
a client that sends a unique name per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from protocol.metric_labels import CappedLabels

__all__ = ["CONTENT_TYPE", "RouterMetrics", "SubscriptionWatch", "outcome_of"]

#: the classic text exposition format every Prometheus version scrapes
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ANONYMOUS = "anonymous"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


#: how a subscription ended: the stream completed, it ended with an error (refused, the
#: subgraph failed, the token expired), or the client went away (or the router shut down)
COMPLETE, ERROR, CLIENT_CLOSED = "complete", "error", "client_closed"


def outcome_of(body: Mapping[str, Any], request_error: bool = False) -> str:
    """'success', 'partial' (data and errors) or 'error' (no data, or refused)."""
    errors = body.get("errors")
    if request_error or body.get("data") is None:
        return "error" if errors or request_error else "success"
    return "partial" if errors else "success"


class RouterMetrics:
    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        max_operation_names: int = 200,
        max_error_codes: int = 100,
        max_subgraphs: int = 200,
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._operation = CappedLabels(max_operation_names)
        self._code = CappedLabels(max_error_codes)
        self._subgraph = CappedLabels(max_subgraphs)
        self.requests = Counter(
            "router_requests_total",
            "GraphQL requests by operation name and outcome (success, partial, error).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.errors = Counter(
            "router_errors_total",
            "GraphQL errors returned to clients, by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "router_request_duration_seconds",
            "Time to answer a GraphQL request, by operation name.",
            ["operation"],
            buckets=buckets,
            registry=self.registry,
        )
        self.subgraph_duration = Histogram(
            "router_subgraph_fetch_duration_seconds",
            "Time of one fetch to a subgraph.",
            ["subgraph"],
            buckets=buckets,
            registry=self.registry,
        )
        self.subgraph_errors = Counter(
            "router_subgraph_errors_total",
            "Failed subgraph fetches (transport failure, timeout, non-2xx, GraphQL errors).",
            ["subgraph", "kind"],
            registry=self.registry,
        )
        self.circuit_state = Gauge(
            "router_subgraph_circuit_state",
            "A subgraph's circuit breaker: 0 closed, 1 half-open (probing), 2 open.",
            ["subgraph"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "router_rate_limited_total",
            "Operations refused over a rate limit, by bucket (user, address).",
            ["scope"],
            registry=self.registry,
        )
        self.rate_limit_unchecked = Counter(
            "router_rate_limit_unchecked_total",
            "Operations let through without a rate-limit check because Redis failed.",
            registry=self.registry,
        )

        self.subscriptions_started = Counter(
            "router_subscriptions_started_total",
            "Subscriptions admitted, by operation name and transport (ws, sse, multipart).",
            ["operation", "transport"],
            registry=self.registry,
        )
        self.subscriptions_active = Gauge(
            "router_subscriptions_active",
            "Subscriptions running now, by operation name and transport.",
            ["operation", "transport"],
            registry=self.registry,
        )
        self.subscriptions_ended = Counter(
            "router_subscriptions_ended_total",
            "Subscriptions ended, by outcome (complete, error, client_closed).",
            ["operation", "transport", "outcome"],
            registry=self.registry,
        )
        self.subscription_events = Counter(
            "router_subscription_events_total",
            "Subscription events delivered to clients, by operation name and transport.",
            ["operation", "transport"],
            registry=self.registry,
        )

    def operation_label(self, operation_name: str | None) -> str:
        return self._operation(operation_name) if operation_name else ANONYMOUS

    def observe_request(
        self,
        operation_name: str | None,
        seconds: float,
        body: Mapping[str, Any],
        request_error: bool = False,
    ) -> None:
        """Record one answered request: count, latency, and each error's code."""
        op = self.operation_label(operation_name)
        self.requests.labels(op, outcome_of(body, request_error)).inc()
        self.duration.labels(op).observe(seconds)
        errors = body.get("errors")
        if isinstance(errors, list):
            self.count_errors(errors)

    def count_errors(self, errors: Iterable[Any]) -> None:
        for e in errors:
            ext = e.get("extensions") if isinstance(e, Mapping) else None
            code = ext.get("code") if isinstance(ext, Mapping) else None
            self.errors.labels(self._code(code) if isinstance(code, str) else "UNKNOWN").inc()

    def observe_subgraph_fetch(
        self, subgraph: str, seconds: float, error_kind: str | None = None
    ) -> None:
        """`error_kind`: None for success, else e.g. "timeout", "http", "transport", "graphql"."""
        name = self._subgraph(subgraph)
        if error_kind != "circuit_open":  # failed fast: no round trip to time
            self.subgraph_duration.labels(name).observe(seconds)
        if error_kind is not None:
            self.subgraph_errors.labels(name, error_kind).inc()

    def observe_circuit(self, subgraph: str, state: str) -> None:
        """A breaker changed state ("closed", "half_open", "open")."""
        value = {"closed": 0, "half_open": 1, "open": 2}.get(state, 0)
        self.circuit_state.labels(self._subgraph(subgraph)).set(value)

    def watch_subscription(self, operation_name: str | None, transport: str) -> SubscriptionWatch:
        """Count a subscription started and active until its watch's `end`."""
        return SubscriptionWatch(self, self.operation_label(operation_name), transport)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def endpoint(self) -> Callable[[Request], Awaitable[Response]]:
        async def metrics(request: Request) -> Response:
            # Prometheus scrapes the process directly; the public edge (compose's nginx,
            # an Ingress controller) adds X-Forwarded-For to all it relays: not for them.
            if "x-forwarded-for" in request.headers:
                return Response("Not Found", status_code=404, media_type="text/plain")
            return Response(self.render(), media_type=CONTENT_TYPE)

        return metrics

    def route(self, path: str = "/metrics") -> Route:
        return Route(path, self.endpoint(), methods=["GET"])


class SubscriptionWatch:
    """One subscription's life in the metrics, from its start to its one `end`.

    The series' children are looked up once here, so an event costs one
    counter increment; `end` is idempotent because a transport may reach it
    both from an error it sent and from the cleanup that follows.
    """

    __slots__ = ("_active", "_ended", "_events", "_failed", "_labels", "_metrics", "outcome")

    def __init__(self, metrics: RouterMetrics, operation: str, transport: str) -> None:
        self._metrics = metrics
        self._labels = (operation, transport)
        metrics.subscriptions_started.labels(operation, transport).inc()
        self._active = metrics.subscriptions_active.labels(operation, transport)
        self._active.inc()
        self._events = metrics.subscription_events.labels(operation, transport)
        self._ended = False
        #: the last event had no data, only errors (the upstream failed: the stream ends)
        self._failed = False
        #: the outcome so far: a transport sets it as it sends the last word
        self.outcome = CLIENT_CLOSED

    def event(self, body: Mapping[str, Any]) -> None:
        """One result delivered to the client."""
        self._events.inc()
        self._failed = body.get("data") is None and bool(body.get("errors"))

    def error(self) -> None:
        """The operation ended with an error message (refused, failed, session over)."""
        self.outcome = ERROR

    def complete(self) -> None:
        """The stream completed; after an event without data (the subgraph failed), an error."""
        if self.outcome == CLIENT_CLOSED:
            self.outcome = ERROR if self._failed else COMPLETE

    def end(self) -> None:
        """The subscription is over: `outcome` is counted (client_closed unless told)."""
        if self._ended:
            return
        self._ended = True
        self._active.dec()
        self._metrics.subscriptions_ended.labels(*self._labels, self.outcome).inc()
