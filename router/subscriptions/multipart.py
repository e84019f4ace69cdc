"""Subscriptions over HTTP multipart: Apollo's "multipart HTTP protocol for GraphQL subscriptions".

Apollo Client's HttpLink (and its Relay and urql adapters, Apollo Kotlin and
iOS) sends a subscription as an ordinary POST or GET with
`Accept: multipart/mixed;subscriptionSpec=1.0, application/json` when no
WebSocket link is configured. The answer is one `multipart/mixed` response
whose parts are JSON:

- `{"payload": {"data": ..., "errors": [...]}}` per event (GraphQL errors,
  such as an entity fetch that failed, ride in the payload);
- `{}` as a heartbeat while nothing arrives (`Config.multipart_heartbeat_seconds`,
  5 s as Apollo Router), which clients ignore;
- `{"payload": null, "errors": [...]}`, a transport-level error, when the
  stream itself is over for the caller: the token expired, the session was
  revoked, or the router failed. Apollo Client surfaces these as protocol
  errors, not as a result of the operation;
- the closing delimiter `--graphql--` when the stream completes.

Each part goes out with the delimiter that closes it (`...}` CRLF `--graphql`),
as Apollo Router writes them: a client parses a part when it sees the next
delimiter, so an event is readable when it arrives, not one heartbeat later.

The admission (CSRF, persisted and trusted documents, limits, authorization,
the token check and the session limit) is the edge pipeline's and the
running of the operation is `stream.py`'s, both shared with SSE; this module
only chooses the transport from the Accept header and frames.
"""

from __future__ import annotations

from typing import Any

import orjson

from router.guard.sessions import CODE as UNAUTHENTICATED

MULTIPART_MIXED = "multipart/mixed"
CONTENT_TYPE = 'multipart/mixed; boundary="graphql"; subscriptionSpec="1.0"'
EVENT_STREAM = "text/event-stream"

_DELIMITER = b"\r\n--graphql"
_PART = b"\r\nContent-Type: application/json\r\n\r\n"
#: errors that end the stream for the caller rather than describe the operation's result
_TRANSPORT_CODES = frozenset({UNAUTHENTICATED, "INTERNAL"})


def _ranges(accept: str) -> list[tuple[float, int, str, dict[str, str]]]:
    """(-q, position, media, parameters) for each media range listed."""
    out: list[tuple[float, int, str, dict[str, str]]] = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        for f in fields[1:]:
            name, _, value = f.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        if q > 0:
            out.append((-q, i, media, params))
    return out


def wants_multipart(accept: str | None) -> bool:
    """The client asks for multipart subscriptions before (or without) SSE.

    Only `multipart/mixed` with a `subscriptionSpec` parameter counts (a bare
    `multipart/mixed` is @defer's, not a promise to read subscription
    parts); between it and `text/event-stream` the client's preference
    order decides, as for every other choice of answer.
    """
    if not accept or "multipart/mixed" not in accept.lower():
        return False
    for _, _, media, params in sorted(_ranges(accept), key=lambda r: (r[0], r[1])):
        if media == EVENT_STREAM:
            return False
        if media == MULTIPART_MIXED and "subscriptionspec" in params:
            return True
    return False


class _Multipart:
    """Apollo's subscription parts; every chunk ends with the next delimiter."""

    opening = _DELIMITER

    def _part(self, body: dict[str, Any]) -> bytes:
        return _PART + orjson.dumps(body) + _DELIMITER

    def next(self, body: dict[str, Any]) -> bytes:
        return self._part({"payload": body})

    def error(self, errors: list[dict[str, Any]]) -> bytes:
        if any((e.get("extensions") or {}).get("code") in _TRANSPORT_CODES for e in errors):
            return self._part({"payload": None, "errors": errors})
        # refused before its first event (the subgraph refused it, planning failed):
        # the operation's own errors, as a result
        return self._part({"payload": {"errors": errors}})

    def heartbeat(self) -> bytes:
        return _PART + b"{}" + _DELIMITER

    def complete(self) -> bytes:
        return b"--\r\n"


MULTIPART = _Multipart()
