"""Minting access tokens: short-lived, asymmetric, carrying who and as whom."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from protocol.roles import Role, scopes_for
from subgraphs.identity.keys import ActiveKey
from subgraphs.kit.settings import Settings


def issue_access_token(
    key: ActiveKey,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    roles: Iterable[str],
    session_id: uuid.UUID,
    impersonator_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    now: datetime | None = None,
    delegate: str | None = None,
    ttl_seconds: int | None = None,
) -> tuple[str, datetime]:
    """`delegate`: the service acting for the user through a delegation grant."""
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(seconds=ttl_seconds or settings.jwt_access_ttl_seconds)
    role_set = {Role(r) for r in roles}
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
        "sid": str(session_id),
        "roles": sorted(r.value for r in role_set),
        "scopes": scopes_for(role_set),
    }
    if client_id is not None:
        claims["client_id"] = str(client_id)
    if impersonator_id is not None:
        # RFC 8693's actor claim: the staff member acting as this user.
        claims["act"] = {"sub": str(impersonator_id)}
    elif delegate is not None:
        # The same claim naming a service: `Viewer.delegate`, a read-only token.
        claims["act"] = {"sub": delegate}
    token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    return token, expires
