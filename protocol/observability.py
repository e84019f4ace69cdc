"""Traces and logs: the part the router and every subgraph share.

Tracing is OpenTelemetry configured by the standard `OTEL_*` variables, but
off unless an exporter is asked for (`OTEL_TRACES_EXPORTER=otlp|console`,
or an `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`), and always off with
`OTEL_SDK_DISABLED=true`: a process that traces nothing imports no SDK and
creates no span. The W3C trace context (`traceparent`) is what crosses
the wire between the router and the subgraphs.

Logs are one JSON object a line (`LOG_FORMAT=json`, else text) carrying the
request id and the trace id of the request being served, and pass a
redaction filter first: a password, token, cookie or secret never reaches
a log line, whoever logged it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("athena.observability")

#: a service name to a provider (None: that service does not trace)
ProviderFactory = Callable[[str], "TracerProvider | None"]


def trace_exporters(environ: Mapping[str, str] | None = None) -> list[str]:
    """The exporters asked for; empty means tracing is off (the default)."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    raw = env.get("OTEL_TRACES_EXPORTER")
    if raw is not None:
        names = [n.strip().lower() for n in raw.split(",")]
        return [n for n in names if n and n != "none"]
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return ["otlp"]
    return []


def provider_from_environment(
    service: str, environ: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """A provider exporting as `OTEL_*` says, named `OTEL_SERVICE_NAME` or `athena-<service>`.

    The sampler (`OTEL_TRACES_SAMPLER`), the OTLP endpoint, headers and
    timeouts are read by the SDK itself; spans leave in batches.
    """
    env = os.environ if environ is None else environ
    exporters = trace_exporters(env)
    if not exporters:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    name = env.get("OTEL_SERVICE_NAME") or f"athena-{service}"
    provider = TracerProvider(
        resource=Resource.create({"service.name": name, "athena.component": service})
    )
    for exporter_name in exporters:
        exporter: SpanExporter
        if exporter_name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            if env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") != "http/protobuf":
                log.warning("only OTLP over http/protobuf is installed: using it")
            exporter = OTLPSpanExporter()
        elif exporter_name == "console":
            exporter = ConsoleSpanExporter(service_name=name)
        else:
            log.warning("unknown OTEL_TRACES_EXPORTER %r ignored", exporter_name)
            continue
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class Providers:
    """Where a process gets its tracer provider: the environment, or a test's factory."""

    def __init__(self) -> None:
        self.factory: ProviderFactory = provider_from_environment

    def __call__(self, service: str) -> TracerProvider | None:
        return self.factory(service)

    @contextlib.contextmanager
    def providing(self, factory: ProviderFactory) -> Iterator[None]:
        """Apps created inside the block trace through `factory` (tests: in-memory spans)."""
        previous, self.factory = self.factory, factory
        try:
            yield
        finally:
            self.factory = previous


def current_trace_id() -> str | None:
    """The trace id of the span being run, as 32 hex digits; None outside a trace."""
    if "opentelemetry.trace" not in sys.modules:  # nothing traces in this process
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


# -- logs -------------------------------------------------------------------

#: names whose values are never logged (headers, form fields, keyword arguments)
SECRET_NAMES = re.compile(
    r"authorization|cookie|password|passwd|secret|token|api[_-]?key|credential|"
    r"x-athena-router",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
_SECRET_TEXT = [
    # `Authorization: Bearer abc`, `Bearer abc`, `Basic abc`
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1 " + REDACTED),
    # a JWT anywhere (three base64url parts, the first a JSON header)
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), REDACTED),
    # password=..., "token": "...", refreshToken: ... , cookie=...
    (
        re.compile(
            r"""(?P<key>["']?[\w-]*(?:password|passwd|secret|token|cookie|api[_-]?key)"""
            r"""[\w-]*["']?\s*[:=]\s*)(?P<q>["']?)[^"',;&\s}]+(?P=q)""",
            re.IGNORECASE,
        ),
        r"\g<key>\g<q>" + REDACTED + r"\g<q>",
    ),
]
#: what every LogRecord has; anything else on a record is an `extra=` field
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName", "color_message"}  # uvicorn's coloured twin of message
)


def redact_text(text: str) -> str:
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact_value(name: str, value: Any) -> Any:
    """A value as it may be logged: secrets by name hidden, mappings and lists walked."""
    if SECRET_NAMES.search(name):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(name, v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


class RedactSecrets(logging.Filter):
    """Rewrites a record before any handler formats it: message, arguments and extras.

    On the handler, so it covers every logger of the process, libraries'
    included (uvicorn, SQLAlchemy, aiohttp), whatever they put in a line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what logging would show
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        for key in list(record.__dict__):
            if key not in _STANDARD:
                record.__dict__[key] = redact_value(key, record.__dict__[key])
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, service, logger, message, request and trace ids.

    `extra=` fields of a record (operation, duration_ms, outcome ...) are
    added as they are.
    """

    def __init__(self, service: str, request_id: Callable[[], str | None]) -> None:
        super().__init__()
        self.service = service
        self.request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": self.request_id(),
            "trace_id": current_trace_id(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextLines(logging.Formatter):
    """The human format (`make run`'s terminal), with the request id when there is one."""

    def __init__(self, service: str, request_id: Callable[[], str | None]) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")
        self.request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = self.request_id()
        return f"{line} [request {request_id}]" if request_id else line


def log_format(environ: Mapping[str, str] | None = None, default: str = "text") -> str:
    """`LOG_FORMAT`: json or text."""
    env = os.environ if environ is None else environ
    value = (env.get("LOG_FORMAT") or default).strip().lower()
    return "json" if value == "json" else "text"


def handler_for(
    service: str, request_id: Callable[[], str | None], fmt: str, stream: Any = None
) -> logging.Handler:
    """A stream handler in `fmt`, redacting secrets before formatting."""
    handler = logging.StreamHandler(stream)
    formatter: logging.Formatter = (
        JsonLines(service, request_id) if fmt == "json" else TextLines(service, request_id)
    )
    handler.setFormatter(formatter)
    handler.addFilter(RedactSecrets())
    return handler


def configure_logging(
    service: str,
    request_id: Callable[[], str | None],
    level: str = "info",
    fmt: str | None = None,
    stream: Any = None,
) -> logging.Handler:
    """The root logger writes through one handler of ours, uvicorn's loggers included."""
    handler = handler_for(service, request_id, fmt or log_format(), stream)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    return handler


def outcome_of(body: Mapping[str, Any] | None, status: int | None = None) -> str:
    """`ok`, or the error codes of an answer, sorted and joined (`FORBIDDEN,NOT_FOUND`)."""
    errors = (body or {}).get("errors") or []
    codes = sorted(
        {
            str((e.get("extensions") or {}).get("code") or "ERROR")
            for e in errors
            if isinstance(e, Mapping)
        }
    )
    if codes:
        return ",".join(codes)
    if status is not None and status >= 400:
        return f"HTTP_{status}"
    return "ok"
