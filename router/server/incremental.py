"""`@defer` over HTTP: one `multipart/mixed` response, one JSON part per payload.

Apollo Client (HttpLink) and urql read `multipart/mixed; deferSpec=20220824`
with the boundary `-`, as Apollo Router and GraphQL Yoga write it:

    CRLF ---
    CRLF Content-Type: application/json; charset=utf-8 CRLF CRLF {"data":...,"hasNext":true}
    CRLF ---
    CRLF Content-Type: application/json; charset=utf-8 CRLF CRLF {"incremental":[...],"hasNext":false}
    CRLF -----  CRLF

Each part goes out with the delimiter that closes it, so a client parses a
payload when it arrives. The router answers this way only when the client
lists `multipart/mixed` (urql lists it last, Apollo Client first) and the
operation has an active `@defer`; otherwise the whole answer is one JSON
response, which the incremental delivery spec allows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.responses import StreamingResponse

from router.execution.incremental import incremental_payloads
from router.gateway import Gateway, GraphQLRequest
from router.planning.defer import DeferSplit, split_defer

CONTENT_TYPE = 'multipart/mixed; boundary="-"; deferSpec=20220824'
_DELIMITER = b"\r\n---"
_PART = b"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
_CLOSE = b"--\r\n"


def accepts_multipart_defer(accept: str | None) -> bool:
    """The client lists `multipart/mixed` for incremental delivery (not only subscriptions)."""
    if not accept or "multipart/mixed" not in accept.lower():
        return False
    for part in accept.split(","):
        fields = [f.strip().lower() for f in part.split(";")]
        if fields[0] != "multipart/mixed":
            continue
        params = dict(f.partition("=")[::2] for f in fields[1:])
        if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if "subscriptionspec" in params and "deferspec" not in params:
            continue  # Apollo's subscription protocol, not incremental delivery
        return True
    return False


def defer_split(gw: Gateway, accept: str | None, admission: Any) -> DeferSplit | None:
    """The split to stream, when the client reads multipart and the query defers."""
    if not accepts_multipart_defer(accept):
        return None
    return split_defer(admission.doc, admission.op, admission.variables)


def defer_response(
    gw: Gateway,
    request: GraphQLRequest,
    split: DeferSplit,
    on_end: Callable[[dict[str, Any], bool], None] | None = None,
) -> StreamingResponse:
    """Stream the payloads; `on_end(initial body, errored)` runs once, for the metrics."""

    async def body() -> AsyncIterator[bytes]:
        yield _DELIMITER
        first: dict[str, Any] | None = None
        try:
            async for payload in incremental_payloads(gw, request, split):
                if first is None:
                    first = payload
                yield _PART + orjson.dumps(payload) + _DELIMITER
            yield _CLOSE
        finally:
            if on_end is not None:
                on_end(first or {}, first is None)

    return StreamingResponse(
        body(),
        media_type=CONTENT_TYPE,
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
