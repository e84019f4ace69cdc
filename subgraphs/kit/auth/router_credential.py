"""The router's credential: how a subgraph knows a request came through the router.

Subgraphs are not public (DESIGN.md): the router's guards (limits,
persisted queries, field authorization) only protect what passes through
it. The router signs every subgraph request with a secret it shares with
the subgraphs:

    X-Athena-Router: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<sha256(body) hex>")>

The signature covers the body, so a captured header cannot carry another
operation, and the time, so it cannot be replayed after `max_age_seconds`
(60 s: router and subgraphs share a clock source; within that minute a
captured request can only be repeated as it was, token included).
Secrets rotate by configuration: `ROUTER_SECRETS` is a comma-separated
list; the first signs, every one verifies. Rotation is: add the new secret
second everywhere, then move it first on the router, then drop the old.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

HEADER = "x-athena-router"
VERSION = "v1"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.{hashlib.sha256(body).hexdigest()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, now: float | None = None) -> str:
    """The header value for one request body."""
    timestamp = int(time.time() if now is None else now)
    return f"t={timestamp},{VERSION}={_digest(secret, timestamp, body)}"


def verify(
    secrets: Sequence[str],
    header: str | None,
    body: bytes,
    *,
    max_age_seconds: int = 60,
    now: float | None = None,
) -> bool:
    """True when `header` is a fresh signature of `body` by one of `secrets`."""
    if not header or not secrets:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    signature = parts.get(VERSION, "")
    current = time.time() if now is None else now
    if abs(current - timestamp) > max_age_seconds:
        return False
    return any(
        hmac.compare_digest(signature, _digest(secret, timestamp, body))
        for secret in secrets
        if secret
    )
