"""The per-process services the HTTP edge needs besides the gateway.

Built once from `Config` and shared by every transport (HTTP here, the
WebSocket/SSE routes mounted through `create_app(extra_routes=...)`), so a
persisted query registered or a JWKS fetched by one is seen by all.
"""

from __future__ import annotations

from collections.abc import Mapping

from router.config import Config
from router.guard.auth import Authentication, Authenticator
from router.guard.persisted_queries import PersistedQueries
from subgraphs.kit.auth.viewer import ANONYMOUS


class Edge:
    def __init__(
        self,
        config: Config,
        apq: PersistedQueries | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.config = config
        self.apq = apq or PersistedQueries(
            redis_url=config.apq_redis_url,
            ttl_seconds=config.apq_ttl_seconds,
            lru_size=config.apq_lru_size,
            only_persisted=config.apq_only,
        )
        #: None: CSRF prevention is off
        self.csrf_required_headers = config.csrf_required_headers
        self._authenticator = authenticator

    @classmethod
    def from_config(cls, config: Config) -> Edge:
        return cls(config)

    @property
    def authenticator(self) -> Authenticator:
        """Built on first use: JWT verification pulls in jwt, cryptography and httpx."""
        if self._authenticator is None:
            jwks_url, issuer, audience = self.config.jwt_settings()
            self._authenticator = (
                Authenticator.from_jwks(jwks_url, issuer=issuer, audience=audience)
                if jwks_url
                else Authenticator(None)
            )
        return self._authenticator

    async def authenticate(self, headers: Mapping[str, str]) -> Authentication:
        """The caller of an HTTP request; anonymous without an Authorization header."""
        if not any(k.lower() == "authorization" for k in headers):
            return Authentication(ANONYMOUS)
        return await self.authenticator.authenticate(headers)

    async def close(self) -> None:
        await self.apq.close()
