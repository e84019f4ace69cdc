"""Access-token verification shared by every subgraph and the router.

Only asymmetric algorithms are accepted, so a token signed with `alg: none`
or with a shared secret can never pass; the key comes from identity's JWKS
by key id, so a rotated key keeps verifying until its tokens expire.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

import httpx
import jwt
from jwt import PyJWK

log = logging.getLogger(__name__)

ACCEPTED_ALGORITHMS = ["EdDSA"]


class InvalidTokenError(Exception):
    """The token must be treated as absent: the caller is anonymous."""


class KeySource(Protocol):
    async def get_key(self, kid: str) -> PyJWK | None: ...


class RemoteJwks:
    """Public keys fetched from a JWKS URL, cached, refreshed on an unknown kid.

    Refreshes are rate-limited so that tokens with made-up key ids cannot
    make us hammer the identity subgraph.
    """

    def __init__(self, url: str, *, min_refresh_seconds: float = 5.0) -> None:
        self.url = url
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> PyJWK | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            if kid not in self._keys and self._may_refresh():
                await self._refresh()
        return self._keys.get(kid)

    def _may_refresh(self) -> bool:
        return time.monotonic() - self._fetched_at >= self.min_refresh_seconds or not self._keys

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                self._keys = keys_from_jwks(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("could not fetch JWKS from %s: %s", self.url, exc)


def keys_from_jwks(document: Mapping[str, Any]) -> dict[str, PyJWK]:
    keys: dict[str, PyJWK] = {}
    for entry in document.get("keys", ()):
        kid = entry.get("kid")
        if kid and entry.get("alg") in ACCEPTED_ALGORITHMS:
            keys[kid] = PyJWK(dict(entry))
    return keys


class TokenVerifier:
    #: Tokens whose signature was verified, with the key that verified it: a portal
    #: sends the same token on every request, and the signature check was most of a
    #: small request's cost. Bounded; the oldest is forgotten first.
    VERIFIED_CACHE_SIZE = 1024

    def __init__(self, keys: KeySource, *, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self._verified: dict[str, tuple[Any, dict[str, Any]]] = {}

    async def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("malformed token") from exc
        if header.get("alg") not in ACCEPTED_ALGORITHMS:
            raise InvalidTokenError("algorithm not accepted")
        kid = header.get("kid")
        key = await self.keys.get_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTokenError("unknown signing key")
        known = self._verified.get(token)
        # The same bytes verified by the same key verify again: only time can change
        # the answer, so the time claims are checked again on every use.
        if known is not None and known[0] is key and _current(known[1], time.time()):
            return dict(known[1])
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ACCEPTED_ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        if len(self._verified) >= self.VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (key, dict(claims))
        return claims


def _current(claims: Mapping[str, Any], now: float) -> bool:
    """`exp` and `nbf` as PyJWT checks them (no leeway): expired or not yet valid is refused."""
    if not now < float(claims["exp"]):
        return False
    nbf = claims.get("nbf")
    return nbf is None or float(nbf) <= now


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
