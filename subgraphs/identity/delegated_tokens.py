"""Internal routes where a service trades a delegation grant for a token, or gives it up.

`POST /internal/delegated-token` {grantId, secret} -> {accessToken, expiresAt, userId}
`POST /internal/delegation-grants/revoke` {grantId, secret} -> {revoked: true}

Not for clients: only a request signed with the router credential is heard
(`protocol/router_credential.py`, the same signature over the body that the
router and sales' calls to charters carry); with no `ROUTER_SECRETS`
configured (dev, tests) only a loopback peer is, and never one relayed by a
proxy (a forwarding header present). The credential says "from inside";
the grant's secret says which user, and the grant itself what for.
An unknown grant and a wrong secret get the same answer.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from protocol import router_credential
from subgraphs.identity.service import delegation
from subgraphs.identity.service.sessions import Revocations

if TYPE_CHECKING:
    from starlette.requests import Request

    from subgraphs.identity.keys import Keyring
    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

TOKEN_PATH = "/internal/delegated-token"  # noqa: S105 - a path, not a password
REVOKE_PATH = "/internal/delegation-grants/revoke"
#: A grant id and a secret fit in far less; anything bigger is not one.
MAX_BODY_BYTES = 4096
#: Headers a proxy adds: a loopback peer relaying for someone else is not "inside".
_FORWARDING = ("x-forwarded-for", "forwarded", "x-real-ip")


def _answer(status: int, error: str, message: str) -> Response:
    return JSONResponse({"error": error, "message": message}, status_code=status)


async def _body(request: Request) -> bytes | None:
    """The body, or None past MAX_BODY_BYTES (the rest left unread)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _loopback(request: Request) -> bool:
    if any(h in request.headers for h in _FORWARDING):
        return False
    host = request.client.host if request.client else None
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _inside(request: Request, settings: Settings) -> tuple[bool, bytes | None]:
    """(whether the caller is inside, the body): the credential checked before the body is read."""
    secrets = settings.router_secret_list
    header = request.headers.get(router_credential.HEADER)
    if secrets and not router_credential.fresh(header):
        return False, None
    if not secrets and not _loopback(request):
        return False, None
    body = await _body(request)
    if body is None:
        return True, None
    if secrets and not router_credential.verify(secrets, header, body):
        return False, None
    return True, body


def _grant_of(body: bytes) -> tuple[uuid.UUID, str] | None:
    try:
        data: Any = orjson.loads(body)
        grant_id = uuid.UUID(str(data["grantId"]))
        secret = data["secret"]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return (grant_id, secret) if isinstance(secret, str) and secret else None


def routes(keyring_of: Callable[[Services], Keyring], settings: Settings | None) -> list[Route]:
    """The two routes; `settings` None: the running app's."""

    async def checked(request: Request) -> tuple[Services, tuple[uuid.UUID, str]] | Response:
        # Refused before anything else is touched (the body, the database).
        inside, body = await _inside(request, settings or request.app.state.services.settings)
        if not inside:
            log.warning(
                "refused %s from %s: no router credential", request.url.path, request.client
            )
            return _answer(401, "unauthenticated", "Internal route: the router credential only.")
        if body is None:
            return _answer(413, "too_large", "Request body too large.")
        grant = _grant_of(body)
        if grant is None:
            return _answer(400, "invalid_request", "JSON {grantId, secret} expected.")
        services: Services = request.app.state.services
        return services, grant

    async def delegated_token(request: Request) -> Response:
        outcome = await checked(request)
        if isinstance(outcome, Response):
            return outcome
        services, (grant_id, secret) = outcome
        key = await keyring_of(services).active()
        try:
            async with services.sessions() as session, session.begin():
                token = await delegation.exchange(
                    session, key, services.settings, grant_id=grant_id, secret=secret
                )
        except delegation.GrantRefused as refused:
            log.warning("delegated token refused for grant %s: %s", grant_id, refused.reason)
            return _answer(403, refused.reason.value, str(refused))
        return JSONResponse(
            {
                "accessToken": token.access_token,
                "expiresAt": token.expires_at.isoformat(),
                "userId": str(token.user_id),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def revoke(request: Request) -> Response:
        outcome = await checked(request)
        if isinstance(outcome, Response):
            return outcome
        services, (grant_id, secret) = outcome
        revocations = Revocations(services.redis, services.settings.jwt_access_ttl_seconds)
        try:
            async with services.sessions() as session, session.begin():
                await delegation.revoke_with_secret(
                    session, revocations, grant_id=grant_id, secret=secret
                )
        except delegation.GrantRefused as refused:
            return _answer(403, refused.reason.value, str(refused))
        return JSONResponse({"revoked": True})

    return [
        Route(TOKEN_PATH, delegated_token, methods=["POST"]),
        Route(REVOKE_PATH, revoke, methods=["POST"]),
    ]
