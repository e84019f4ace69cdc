"""The router's logs: JSON lines (or text), secrets redacted, a request id, one line a request.

The formatter and the redaction filter are `protocol/observability.py`'s,
shared with the subgraphs (the router imports nothing from the kit).

- `RequestIds` (installed with `LOG_FORMAT=json`) gives each request an id:
  the client's `X-Request-Id` (up to 100 characters) or a new one, echoed
  in the answer's `X-Request-Id` and sent on to every subgraph the request
  fetches from (`execution/fetcher.py`), so their lines carry it too. Two
  identical fetches shared in flight carry the first request's id.
- `log_requests` (installed when the `router.requests` logger is at info)
  writes one line per answered operation: its name, duration in ms and
  outcome (`ok`, or the answer's error codes).

Off (text format, level above info) neither is installed: the hot path
pays nothing but the fetcher's one context lookup per fetch.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from protocol.observability import configure_logging, log_format, outcome_of

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from router.server.pipeline import Pipeline

HEADER = "x-request-id"
requests_log = logging.getLogger("router.requests")
_request_id: ContextVar[str | None] = ContextVar("athena_router_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def configure(level: str, fmt: str | None = None) -> None:
    """The router process's logging: one redacting handler on the root, uvicorn's included."""
    configure_logging("router", current_request_id, level, fmt)


def wants_request_ids() -> bool:
    return log_format() == "json"


def requests_logged() -> bool:
    return requests_log.isEnabledFor(logging.INFO)


class RequestIds:
    """Pure ASGI: the request's id for every line it causes, here and in the subgraphs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = given.decode("latin-1") if given and len(given) <= 100 else uuid.uuid4().hex
        token = _request_id.set(request_id)
        echoed = (b"x-request-id", request_id.encode("latin-1"))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            await self.app(scope, receive, sending if scope["type"] == "http" else send)
        finally:
            _request_id.reset(token)


def log_requests(pipeline: Pipeline) -> None:
    """One info line for each answer the pipeline observes (every transport, refusals too)."""
    observe = pipeline.observe

    def observed(
        operation_name: str | None, started: float, body: Mapping[str, Any], request_error: bool
    ) -> None:
        observe(operation_name, started, body, request_error)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        outcome = outcome_of(body)
        requests_log.info(
            "%s %s %.1f ms",
            operation_name or "-",
            outcome,
            duration_ms,
            extra={"operation": operation_name, "duration_ms": duration_ms, "outcome": outcome},
        )

    pipeline.observe = observed  # type: ignore[method-assign]
