"""The per-process services the HTTP edge needs besides the gateway.

Built once from `Config` and shared by every transport (HTTP here, the
WebSocket/SSE routes mounted through `create_app(extra_routes=...)`), so a
persisted query registered or a JWKS fetched by one is seen by all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from protocol.viewer import ANONYMOUS, Viewer
from router.config import Config
from router.guard.auth import Authentication, Authenticator
from router.guard.persisted_queries import PersistedQueries
from router.guard.rate_limit import RateLimiter
from router.guard.sessions import SessionLimit
from router.guard.trusted_documents import TrustedDocuments

if TYPE_CHECKING:
    from protocol.revocation import RevocationList

log = logging.getLogger("router")


class Edge:
    def __init__(
        self,
        config: Config,
        apq: PersistedQueries | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.config = config
        self.apq = apq or PersistedQueries(
            redis_url=config.redis_url,
            ttl_seconds=config.apq_ttl_seconds,
            lru_size=config.apq_lru_size,
            only_persisted=config.apq_only,
            # the trusted documents manifest, read once at start-up (a bad one stops it)
            trusted=TrustedDocuments.load(config.trusted_documents)
            if config.trusted_documents
            else None,
            trusted_only=config.trusted_documents_only,
        )
        #: None: CSRF prevention is off
        self.csrf_required_headers = config.csrf_required_headers
        #: None: no rate limits (`router/guard/rate_limit.py`)
        self.rate_limiter: RateLimiter | None = None
        if config.rate_limit_user or config.rate_limit_address:
            if config.redis_url:
                self.rate_limiter = RateLimiter(
                    user=config.rate_limit_user,
                    address=config.rate_limit_address,
                    redis_url=config.redis_url,
                    trusted_proxies=config.trusted_proxies,
                )
            else:  # as revocation: Redis is what replicas share, none means none
                log.warning("rate limits are configured but no Redis is: they are off")
        self._authenticator = authenticator
        self._redis: Any = None
        self._revocations: RevocationList | None = None

    @classmethod
    def from_config(cls, config: Config) -> Edge:
        return cls(config)

    @property
    def authenticator(self) -> Authenticator:
        """Built on first use: JWT verification pulls in jwt, cryptography and httpx."""
        if self._authenticator is None:
            jwks_url, issuer, audience = self.config.jwt_settings()
            self._authenticator = (
                Authenticator.from_jwks(
                    jwks_url, issuer=issuer, audience=audience, revocations=self.revocations
                )
                if jwks_url
                else Authenticator(None)
            )
        return self._authenticator

    @property
    def revocations(self) -> RevocationList | None:
        """Ended sessions, from the router's Redis; None without one (no check)."""
        if self._revocations is None and self.config.redis_url:
            from protocol.redis_url import redis_from_url
            from protocol.revocation import RevocationList

            self._redis = redis_from_url(
                self.config.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5
            )
            self._revocations = RevocationList(
                self._redis, cache_seconds=self.config.revocation_cache_seconds
            )
        return self._revocations

    def session_limit(self, viewer: Viewer) -> SessionLimit:
        """What a subscription on `viewer`'s token watches: expiry and revocation."""
        exp = viewer.claims.get("exp")
        return SessionLimit(
            expires_at=float(exp) if isinstance(exp, int | float) else None,
            session_id=str(viewer.session_id) if viewer.session_id else None,
            revocations=self.authenticator.revocations,
            check_seconds=self.config.session_check_seconds,
        )

    async def authenticate(self, headers: Mapping[str, str]) -> Authentication:
        """The caller of an HTTP request; anonymous without an Authorization header."""
        if not any(k.lower() == "authorization" for k in headers):
            return Authentication(ANONYMOUS)
        return await self.authenticator.authenticate(headers)

    async def close(self) -> None:
        await self.apq.close()
        if self.rate_limiter is not None:
            await self.rate_limiter.close()
        if self._redis is not None:
            await self._redis.aclose()
