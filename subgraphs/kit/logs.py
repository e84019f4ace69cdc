"""A subgraph's logs: JSON lines (or text), secrets redacted, one line a request.

The formatter and the redaction filter are `protocol/observability.py`'s,
shared with the router (which imports nothing from the kit). Here: the
uvicorn logging configuration every subgraph process (and each of its
workers) applies, the same for the jobs runner, and `RequestLog`, the one
info line a GraphQL request leaves:

    {"time": ..., "level": "info", "service": "identity", "logger": "athena.requests",
     "message": "POST /graphql login ok 12.3 ms", "request_id": "...", "trace_id": "...",
     "operation": "login", "duration_ms": 12.3, "outcome": "ok", "status": 200}

`outcome` is `ok` or the answer's error codes (`BAD_USER_INPUT,FORBIDDEN`).
`LOG_FORMAT=json|text` chooses the format (text unless set: `make run`'s
terminal; docker-compose and the Kubernetes manifests set json).
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from protocol.observability import configure_logging, log_format, outcome_of
from subgraphs.kit.metrics import operation_label
from subgraphs.kit.request_id import current_request_id

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

requests_log = logging.getLogger("athena.requests")
#: what the GraphQL view learnt of the request being served (operation, errors)
_seen: ContextVar[dict[str, Any] | None] = ContextVar("athena_request_seen", default=None)


def request_id_or_none() -> str | None:
    value = current_request_id()
    return None if value == "-" else value


def formatter(service: str, fmt: str | None = None) -> logging.Formatter:
    """For `logging.config.dictConfig` (`"()": formatter`): this process's line format."""
    from protocol.observability import JsonLines, TextLines

    chosen = fmt or log_format()
    if chosen == "json":
        return JsonLines(service, request_id_or_none)
    return TextLines(service, request_id_or_none)


def dict_config(service: str, level: str, base: dict[str, Any]) -> dict[str, Any]:
    """The logging of uvicorn (`base`) with every logger, its own too, through one redacting handler."""
    base["formatters"]["athena"] = {"()": formatter, "service": service}
    base.setdefault("filters", {})["redact"] = {"()": "protocol.observability.RedactSecrets"}
    base["handlers"]["athena"] = {
        "class": "logging.StreamHandler",
        "formatter": "athena",
        "filters": ["redact"],
        "stream": "ext://sys.stderr",
    }
    for name in ("uvicorn", "uvicorn.access"):
        if name in base.get("loggers", {}):
            base["loggers"][name]["handlers"] = ["athena"]
    base["root"] = {"level": level.upper(), "handlers": ["athena"]}
    return base


def configure(service: str, level: str = "info") -> None:
    """Logging of a process that is not served by uvicorn (the jobs runner)."""
    configure_logging(service, request_id_or_none, level)


class RequestLog:
    """Pure ASGI: one info line per GraphQL request (operation, duration, outcome).

    Costs one `isEnabledFor` when requests are not logged (level above info).
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != "/graphql"
            or not requests_log.isEnabledFor(logging.INFO)
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, Any] = {}
        token = _seen.set(seen)
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _seen.reset(token)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            operation = seen.get("operation") or "-"
            outcome = outcome_of({"errors": seen.get("errors")}, status)
            requests_log.info(
                "%s %s %s %s %.1f ms",
                scope["method"],
                scope["path"],
                operation,
                outcome,
                duration_ms,
                extra={
                    "operation": seen.get("operation"),
                    "duration_ms": duration_ms,
                    "outcome": outcome,
                    "status": status,
                },
            )


def observe_operations(view: Any) -> None:
    """Let `RequestLog` learn a GraphQL view's operation name and error codes.

    Wraps two steps of this view instance (Strawberry's `parse_http_body`,
    which reads the operation name, and `process_result`, which sees the
    errors); outside a logged request they only pass through.
    """
    parse_http_body = view.parse_http_body
    process_result = view.process_result

    async def parsed(request: Any) -> Any:
        data = await parse_http_body(request)
        seen = _seen.get()
        if seen is not None:  # the router's fetches are unnamed: their root fields then
            seen["operation"] = ",".join(
                operation_label(_text(d, "operation_name"), _text(d, "query"))
                for d in _as_list(data)
            )
        return data

    async def processed(request: Any, result: Any) -> Any:
        seen = _seen.get()
        if seen is not None and result.errors:
            seen.setdefault("errors", []).extend(
                {"extensions": {"code": (e.extensions or {}).get("code", "INTERNAL")}}
                for e in result.errors
            )
        return await process_result(request, result)

    view.parse_http_body = parsed
    view.process_result = processed


def _text(data: Any, name: str) -> str | None:
    """A string field of the request as sent; anything else (malformed) counts as absent."""
    value = getattr(data, name, None)
    return value if isinstance(value, str) else None


def _as_list(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]
