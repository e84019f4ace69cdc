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

A streamed body (an upload the router spools, a body the gate spools) is
signed and verified by its SHA-256, computed while it is read
(`sign_digest`, `verify_digest`): the same header, never the whole body in
memory.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

HEADER = "x-athena-router"
VERSION = "v1"


def _digest(secret: str, timestamp: int, body_sha256: str) -> str:
    message = f"{timestamp}.{body_sha256}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, now: float | None = None) -> str:
    """The header value for one request body."""
    return sign_digest(secret, hashlib.sha256(body).hexdigest(), now=now)


def sign_digest(secret: str, body_sha256: str, *, now: float | None = None) -> str:
    """The header value for a body known by its SHA-256 (hex): a streamed upload."""
    timestamp = int(time.time() if now is None else now)
    return f"t={timestamp},{VERSION}={_digest(secret, timestamp, body_sha256)}"


def _parse(header: str | None) -> tuple[int, str] | None:
    if not header:
        return None
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        return int(parts.get("t", "")), parts.get(VERSION, "")
    except ValueError:
        return None


def fresh(header: str | None, *, max_age_seconds: int = 60, now: float | None = None) -> bool:
    """Whether `header` is well formed and recent: worth reading a body to verify it.

    A gate checks this before reading the body, so a request without (or with
    a stale) credential is refused without its body being read.
    """
    parsed = _parse(header)
    if parsed is None:
        return False
    current = time.time() if now is None else now
    return abs(current - parsed[0]) <= max_age_seconds


def verify(
    secrets: Sequence[str],
    header: str | None,
    body: bytes,
    *,
    max_age_seconds: int = 60,
    now: float | None = None,
) -> bool:
    """True when `header` is a fresh signature of `body` by one of `secrets`."""
    return verify_digest(
        secrets,
        header,
        hashlib.sha256(body).hexdigest(),
        max_age_seconds=max_age_seconds,
        now=now,
    )


def verify_digest(
    secrets: Sequence[str],
    header: str | None,
    body_sha256: str,
    *,
    max_age_seconds: int = 60,
    now: float | None = None,
) -> bool:
    """`verify` for a body hashed while it was read (its SHA-256, hex)."""
    if not secrets or not fresh(header, max_age_seconds=max_age_seconds, now=now):
        return False
    parsed = _parse(header)
    assert parsed is not None  # noqa: S101 - fresh() parsed it
    timestamp, signature = parsed
    return any(
        hmac.compare_digest(signature, _digest(secret, timestamp, body_sha256))
        for secret in secrets
        if secret
    )
