"""The edge pipeline every transport runs, in one place.

HTTP JSON POSTs, GET, SSE, graphql-transport-ws and multipart uploads only
differ in how they read a request and frame an answer. Everything that
decides whether an operation may run is here and runs in this order for all
of them:

1. the request's shape (`check_request`, HTTP transports): a POST must say
   what it carries (415), CSRF prevention for what a browser could send
   cross-site without a preflight (a WebSocket carries no body and sends
   its token in `connection_init`, never a cookie: it has no CSRF step);
2. persisted queries and the persisted-only mode (`admit`);
3. no mutation over GET (a GET must be safe to repeat and prefetch);
4. the gateway's operation guard: parse and validate, variables, limits,
   authorization (`Gateway.admit`);
5. metrics for every answer, refusals included (`observe`).

Authentication (who the caller is) is the transport's: an HTTP request
carries its token in a header, a WebSocket in `connection_init`; the
caller comes in as a `Viewer`. A refusal is a `Refused`: the same errors,
whichever transport carried the request; each transport only frames them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from router.gateway import GraphQLResponse
from router.guard.csrf import check_csrf
from router.planning.operation import OperationError, select_operation
from router.server.payload import Payload, Refusal

if TYPE_CHECKING:
    from router.gateway import Admission, Gateway, GraphQLRequest
    from router.observability.metrics import RouterMetrics
    from router.server.edge import Edge
    from router.server.holder import GatewayHolder

__all__ = [
    "EVENT_STREAM",
    "GRAPHQL_RESPONSE",
    "JSON",
    "Admitted",
    "Pipeline",
    "Refused",
    "media_essence",
    "negotiate",
]

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
EVENT_STREAM = "text/event-stream"
MULTIPART = "multipart/form-data"
#: request bodies the router reads: JSON, and the GraphQL multipart request spec
ACCEPTED_BODIES = frozenset({JSON, MULTIPART})


@dataclass(slots=True)
class Refused:
    """The request runs nothing; these errors are the answer on every transport.

    `status` is the HTTP status for a client that accepts
    `application/graphql-response+json`; `graphql_level` refusals (an
    operation the guard refused, as opposed to a malformed HTTP request)
    are HTTP 200 for a plain `application/json` client, as the GraphQL over
    HTTP spec has it for that media type.
    """

    errors: list[dict[str, Any]]
    status: int = 400
    graphql_level: bool = False
    operation_name: str | None = None
    #: seconds for a `Retry-After` header (a rate limit's 429)
    retry_after: int | None = None

    @classmethod
    def of(cls, refusal: Refusal) -> Refused:
        return cls(refusal.body()["errors"], refusal.status)

    def http_status(self, media: str) -> int:
        return 200 if self.graphql_level and media == JSON else self.status

    @property
    def body(self) -> dict[str, Any]:
        return {"errors": self.errors}


@dataclass(slots=True)
class Admitted:
    request: GraphQLRequest
    admission: Admission
    gateway: Gateway
    #: the operation's name, for the metrics
    label: str | None = None

    @property
    def kind(self) -> str:
        return self.admission.kind


def media_essence(content_type: str | None) -> str | None:
    """`type/subtype`, lower case, without parameters; None when absent or blank."""
    if content_type is None:
        return None
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence or None


def _preferences(accept: str) -> list[str]:
    """The media ranges of an Accept header, most preferred first.

    Higher `q` first; equal `q` keep the client's order (RFC 9110 leaves
    ties to the server, and clients list what they prefer first); `q=0`
    means "not acceptable" and is dropped.
    """
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for f in fields[1:]:
            name, _, value = f.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, media))
    return [m for _, _, m in sorted(ranked)]


def negotiate(accept: str | None, kind: str | None) -> str:
    """The answer's media type, following the client's preference order.

    A subscription streams (SSE) when the client lists `text/event-stream`
    (a bare wildcard is not enough: such a client expects one answer, and
    gets the error that says how to subscribe).
    A query or mutation is answered in JSON when the client accepts JSON
    (`application/graphql-response+json`, `application/json`, or a wildcard,
    which means `application/json`), unless it prefers `text/event-stream`
    to every JSON type it lists. No Accept at all, or nothing we can serve,
    is answered in `application/json` (the spec's default, and what a
    client that sent no preference can read).
    """
    prefs = _preferences(accept) if accept else []
    if kind == "subscription":
        return EVENT_STREAM if EVENT_STREAM in prefs else JSON
    for media in prefs:
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
        if media == EVENT_STREAM:
            return EVENT_STREAM
    return JSON


class Pipeline:
    """The guard steps shared by every transport, over one `Edge` and gateway holder."""

    def __init__(self, edge: Edge, holder: GatewayHolder, metrics: RouterMetrics) -> None:
        self.edge = edge
        self.holder = holder
        self.metrics = metrics
        #: None: no rate limits (one attribute check per operation)
        self.rate_limiter = edge.rate_limiter

    # -- 1. the HTTP request's shape ----------------------------------------

    def check_request(self, method: str, headers: Mapping[str, str]) -> Refused | None:
        """415 for a POST that does not say (or is not) JSON or multipart; CSRF.

        A POST without Content-Type is refused before CSRF prevention looks
        at it, so it gets 415 with or without a preflight header.
        """
        essence = media_essence(headers.get("content-type"))
        if method == "POST" and essence is None:
            return Refused(
                [_error("A POST must carry a Content-Type (application/json).", "BAD_REQUEST")],
                415,
            )
        if self.edge.csrf_required_headers is not None:
            msg = check_csrf(method, headers, self.edge.csrf_required_headers)
            if msg:
                return Refused([_error(msg, "CSRF_ERROR")], 400)
        if method == "POST" and essence not in ACCEPTED_BODIES:
            return Refused(
                [
                    _error(
                        f"Unsupported Content-Type {essence!r}: send application/json "
                        "(or multipart/form-data for uploads).",
                        "BAD_REQUEST",
                    )
                ],
                415,
            )
        return None

    # -- 2 to 4. may this operation run? ------------------------------------

    async def admit(
        self, payload: Payload, request: GraphQLRequest, method: str
    ) -> Admitted | Refused:
        """Persisted queries, no mutation over GET, then the gateway's operation guard.

        `request` carries the transport's caller (viewer, headers, forwarded
        address); its query, variables and names are taken from `payload`.
        """
        gw = self.holder.gateway
        name = payload.operation_name
        if gw is None:
            return Refused([_error("No supergraph is loaded.", "UNAVAILABLE")], 503, False, name)
        if self.rate_limiter is not None:
            limited = await self.rate_limit(request, name)
            if limited is not None:
                return limited
        apq = await self.edge.apq.resolve(payload.query, payload.extensions, payload.document_id)
        if apq.errors:
            return Refused(apq.errors, 400, True, name)
        if apq.query is None:
            # nothing to run: a malformed request, not a GraphQL error
            return Refused([_error("Must provide query string.", "BAD_REQUEST")], 400, False, name)
        request.query = apq.query
        request.variables = payload.variables
        request.operation_name = name
        request.extensions = payload.extensions
        if apq.query and method == "GET":
            d = gw.document(apq.query)
            if d.doc is not None:
                try:
                    op = select_operation(d.doc, name)
                except OperationError:
                    op = None
                if op is not None and op.operation.value == "mutation":
                    return Refused(
                        [_error("Mutations cannot be sent over GET.", "BAD_REQUEST")],
                        405,
                        False,
                        _label(op.name.value if op.name else None, name),
                    )
        admitted = gw.admit(request)
        if isinstance(admitted, GraphQLResponse):  # the guard's refusal
            return Refused(list(admitted.body.get("errors", [])), 400, True, name)
        op = admitted.op
        return Admitted(request, admitted, gw, _label(op.name.value if op.name else None, name))

    async def admit_batched(self, payload: Payload, request: GraphQLRequest) -> Admitted | Refused:
        """One operation of a batch (`batching.py`): every guard step, as if sent alone.

        The per-operation call site of a batch: whatever is counted per
        operation (limits, rate limits) runs here once for each of them.
        """
        return await self.admit(payload, request, "POST")

    async def rate_limit(
        self, request: GraphQLRequest, operation_name: str | None = None
    ) -> Refused | None:
        """Count one operation against its caller's rate limit; a 429 `Refused` when over.

        Runs first in `admit`, so every operation (each of a batch, each
        subscribe on a WebSocket) is counted on its own and a caller over
        the limit costs no parsing. The caller is the verified token's
        subject, else (anonymous) its address (`rate_limit.py`).
        """
        limiter = self.rate_limiter
        if limiter is None:
            return None
        viewer = request.viewer
        user = viewer.user_id if viewer is not None else None
        unchecked = limiter.unchecked
        limited = await limiter.check(str(user) if user else None, request.forwarded_for)
        if limiter.unchecked != unchecked:
            self.metrics.rate_limit_unchecked.inc()
        if limited is None:
            return None
        self.metrics.rate_limited.labels(limited.scope).inc()
        return Refused([limited.error()], 429, False, operation_name, limited.retry_after)

    # -- 5. metrics ----------------------------------------------------------

    def observe(
        self,
        operation_name: str | None,
        started: float,
        body: Mapping[str, Any],
        request_error: bool,
    ) -> None:
        self.metrics.observe_request(
            operation_name, time.perf_counter() - started, body, request_error
        )


def _label(op_name: str | None, requested: str | None) -> str | None:
    return op_name or requested


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}
