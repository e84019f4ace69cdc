"""Reading a GraphQL-over-HTTP request into its parts, or a precise refusal.

Kept apart from the route so every transport-level rule (GET parameters,
body size, JSON shape, field types) is in one place and the route only
sequences the guard steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request


@dataclass(frozen=True, slots=True)
class Payload:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    #: a persisted document's id (`documentId`, or Relay's `doc_id`) instead of `query`
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """A JSON array POSTed: batched operations (`router/server/batching.py`), each unread."""

    items: list[Any]


@dataclass(frozen=True, slots=True)
class Refusal:
    message: str
    status: int = 400
    code: str = "BAD_REQUEST"

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


async def read_payload(request: Request, max_body_bytes: int) -> Payload | Batch | Refusal:
    if request.method == "GET":
        q = request.query_params
        try:
            variables = orjson.loads(q["variables"]) if q.get("variables") else None
            extensions = orjson.loads(q["extensions"]) if q.get("extensions") else None
        except orjson.JSONDecodeError:
            return Refusal("variables and extensions must be JSON.")
        raw_payload: Any = {
            "query": q.get("query"),
            "variables": variables,
            "operationName": q.get("operationName"),
            "extensions": extensions,
            "documentId": q.get("documentId") or q.get("doc_id"),
        }
    else:
        raw = await request.body()
        if len(raw) > max_body_bytes:
            return Refusal("Request body too large.", 413, "PAYLOAD_TOO_LARGE")
        try:
            raw_payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return Refusal("Request body is not valid JSON.")
        if isinstance(raw_payload, list):
            return Batch(raw_payload)
        if not isinstance(raw_payload, dict):
            return Refusal("Request body must be a JSON object.")
    return _typed(raw_payload)


def _typed(p: dict[str, Any]) -> Payload | Refusal:
    query = p.get("query")
    variables = p.get("variables")
    name = p.get("operationName")
    extensions = p.get("extensions")
    document_id = p.get("documentId") or p.get("doc_id")
    if (
        (query is not None and not isinstance(query, str))
        or (variables is not None and not isinstance(variables, dict))
        or (name is not None and not isinstance(name, str))
        or (extensions is not None and not isinstance(extensions, dict))
        or (document_id is not None and not isinstance(document_id, str))
    ):
        return Refusal("Invalid GraphQL request.")
    return Payload(query, variables, name or None, extensions, document_id)


def typed_payload(p: Any) -> Payload | Refusal:
    """One operation of a batch: an object with the fields of a single request."""
    if not isinstance(p, dict):
        return Refusal("Each operation of a batch must be a JSON object.")
    return _typed(p)
