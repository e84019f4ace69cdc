"""The id that ties a client's request to our log lines."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("athena_request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str | None = None) -> str:
    request_id = value if value and len(value) <= 100 else uuid.uuid4().hex
    _request_id.set(request_id)
    return request_id
